import { z } from 'zod';
import { isDuration } from '../../core/duration.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

export const mastodonConfigSchema = z
  .object({
    instance: z.string().url().meta({ label: 'Instance', help: 'Your server\'s address, e.g. https://mastodon.social (any Mastodon-compatible instance).' }),
    timeline: z.enum(['home', 'mentions', 'hashtag']).default('mentions').meta({ label: 'Watch', help: '"home": posts from accounts you follow; "mentions": posts that mention you; "hashtag": public posts with a tag.' }),
    hashtag: z.string().regex(/^#?[\p{L}\p{N}_]{1,100}$/u, 'a hashtag like "caturday"').optional().meta({ label: 'Hashtag', help: 'For "hashtag", with or without #.' }),
    accessToken: z.string().optional().meta({ label: 'Access token', help: 'From Preferences → Development → New application (scope read). Needed for home and mentions. Stored in the secret store.', secret: true }),
    streaming: z.boolean().default(true).meta({ label: 'Streaming', help: 'Get posts the moment they appear through the instance\'s streaming API where it allows; polling continues as a safety net.' }),
    interval: z.string().refine(isDuration, { message: 'write a duration like "2m"' }).default('2m').meta({ label: 'Check every', help: 'How often to poll (at least 30s).' }),
  })
  .superRefine((c, ctx) => {
    const u = new URL(c.instance);
    if (u.protocol === 'http:' && !LOOPBACK.test(u.hostname)) ctx.addIssue({ code: 'custom', path: ['instance'], message: 'plain http is only allowed to 127.0.0.1/localhost' });
    if (c.timeline === 'hashtag' && !c.hashtag) ctx.addIssue({ code: 'custom', path: ['hashtag'], message: 'a hashtag is needed' });
  });

export type MastodonConfig = z.infer<typeof mastodonConfigSchema>;
