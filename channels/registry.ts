// The channel types Panoptes knows, and the Apprise-style URLs that name them. This is the one file outside a
// channel folder that imports inside one: the engine, the server and the UI read these definitions and never
// ask for a type by name.
import type { ChannelDefinition } from '../core/notification-channel.js';
import { ChannelError } from '../core/notification-channel.js';
import ntfy from './ntfy/index.js';
import gotify from './gotify/index.js';
import pushover from './pushover/index.js';
import telegram from './telegram/index.js';
import matrix from './matrix/index.js';
import discord from './discord/index.js';
import slack from './slack/index.js';
import webhook from './webhook/index.js';
import xmpp from './xmpp/index.js';
import email from './email/index.js';

const ALL: ChannelDefinition[] = [ntfy, gotify, pushover, telegram, matrix, discord, slack, xmpp, email, webhook];

export function channelTypes(): Map<string, ChannelDefinition> {
  return new Map(ALL.map((d) => [d.type, d]));
}

/** Every scheme with the type that answers to it, for messages and the UI's hint. */
export function knownSchemes(defs: Iterable<ChannelDefinition> = ALL): Map<string, ChannelDefinition> {
  const out = new Map<string, ChannelDefinition>();
  for (const d of defs) for (const s of d.urlSchemes ?? []) out.set(s.toLowerCase(), d);
  return out;
}

/**
 * An Apprise-style URL (`ntfys://ntfy.sh/topic`, `tgram://TOKEN/CHAT`, …) as a channel type and its config
 * (secrets included; the caller splits them off). Anything wrong is a ChannelError at the `url` field that says
 * what is missing or which schemes exist.
 */
export function channelFromUrl(raw: string, defs: Iterable<ChannelDefinition> = ALL): { type: string; config: Record<string, unknown> } {
  const text = String(raw ?? '').trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  const schemes = knownSchemes(defs);
  if (!m) throw new ChannelError(`not a channel URL: write it like ntfys://ntfy.sh/my-topic (known schemes: ${[...schemes.keys()].join(', ')})`, { permanent: true, field: 'url' });
  const scheme = m[1]!.toLowerCase();
  const def = schemes.get(scheme);
  if (!def || !def.fromUrl) throw new ChannelError(`unknown channel scheme "${scheme}://" (known: ${[...schemes.keys()].join(', ')})`, { permanent: true, field: 'url' });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a WHATWG URL (Telegram's token colon); the type reads `raw` itself.
    url = new URL(`${scheme}://`);
  }
  const config = def.fromUrl(url, text);
  return { type: def.type, config };
}
