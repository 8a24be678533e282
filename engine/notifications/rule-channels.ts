import { BUILT_IN_CHANNELS } from './outbound-channels.js';

/**
 * A rule's own channels (`notify.channels`) must be channels that exist: the built-in ones (desktop, open pages) or
 * one set up in Settings → Channels. Checked when a rule is validated or saved, at the list entry it is about; a
 * channel removed later only drops out of the rule's routing (the center leaves unknown ones out).
 */
export function ruleChannelIssues(rule: unknown, configured: readonly { id: string; name: string }[]): { path: string; message: string }[] {
  const then = (rule as { then?: unknown } | null)?.then;
  if (!Array.isArray(then)) return [];
  const known = [...BUILT_IN_CHANNELS, ...configured];
  const ids = new Set(known.map((c) => c.id));
  const issues: { path: string; message: string }[] = [];
  then.forEach((a, i) => {
    const channels = (a as { notify?: { channels?: unknown } } | null)?.notify?.channels;
    if (!Array.isArray(channels)) return;
    channels.forEach((ch, j) => {
      if (typeof ch === 'string' && !ids.has(ch)) {
        issues.push({
          path: `$.then[${i}].notify.channels[${j}]`,
          message: `no channel "${ch}"; the channels are ${known.map((c) => `${c.id} (${c.name})`).join(', ')} — add one in Settings → Channels`,
        });
      }
    });
  });
  return issues;
}
