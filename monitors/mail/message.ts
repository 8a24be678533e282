// From what IMAP says about one message to a `mail.received` event: envelope, flags, size, attachments,
// and a short plain-text snippet for which only the first bytes of one text part are downloaded.
import type { ImapFlow, FetchMessageObject, MessageStructureObject, MessageAddressObject } from 'imapflow';
import { htmlToPlain } from '../../base/html-to-plain.js';
import type { NewEvent } from '../../core/event.js';

export const SNIPPET_CHARS = 500;
/** Enough bytes for 500 characters of plain text in any encoding, and for the text inside typical HTML. */
const PLAIN_BYTES = 4 * 1024;
const HTML_BYTES = 48 * 1024;

export interface Address {
  name: string;
  address: string;
}

const addr = (a: MessageAddressObject): Address => ({ name: a.name ?? '', address: a.address ?? '' });
const addrs = (list: MessageAddressObject[] | undefined): Address[] => (list ?? []).map(addr);

interface TextPart {
  part: string;
  html: boolean;
}

function isAttachment(node: MessageStructureObject): boolean {
  if (node.childNodes?.length) return false;
  if (node.disposition === 'attachment') return true;
  const type = (node.type ?? '').toLowerCase();
  const named = Boolean(node.dispositionParameters?.filename || node.parameters?.name);
  // Named non-text parts (a PDF, an image that is not inline) are attachments too.
  return named && !type.startsWith('text/') && node.disposition !== 'inline';
}

/** Walk the MIME tree: does it carry attachments, and which part should the snippet come from. */
export function inspectStructure(root: MessageStructureObject | undefined): { hasAttachments: boolean; text: TextPart | null } {
  let hasAttachments = false;
  let plain: TextPart | null = null;
  let html: TextPart | null = null;
  const walk = (node: MessageStructureObject, isRoot: boolean) => {
    if (node.childNodes?.length) {
      for (const child of node.childNodes) walk(child, false);
      return;
    }
    if (isAttachment(node)) {
      hasAttachments = true;
      return;
    }
    const type = (node.type ?? '').toLowerCase();
    // A single-part message has no part number of its own; IMAP calls its body part "1".
    const part = node.part ?? (isRoot ? '1' : undefined);
    if (!part) return;
    if (type === 'text/plain' && !plain) plain = { part, html: false };
    else if (type === 'text/html' && !html) html = { part, html: true };
  };
  if (root) walk(root, true);
  return { hasAttachments, text: plain ?? html };
}

export function toSnippet(text: string): string {
  const flat = text.replace(/\u0000/g, '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length > SNIPPET_CHARS ? chars.slice(0, SNIPPET_CHARS).join('') : flat;
}

async function readSnippet(client: ImapFlow, uid: number, text: TextPart): Promise<string> {
  const maxBytes = text.html ? HTML_BYTES : PLAIN_BYTES;
  const dl = await client.download(String(uid), text.part, { uid: true, maxBytes, chunkSize: maxBytes });
  if (!dl.content) return '';
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of dl.content as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    total += chunk.length;
    if (total >= maxBytes) break;
  }
  // imapflow has already turned the part's charset into UTF-8; a cut may split the last character,
  // which the decoder turns into U+FFFD — drop it.
  let body = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '');
  if (text.html) body = await htmlToPlain(body);
  return toSnippet(body);
}

export const FETCH_QUERY = { uid: true, envelope: true, flags: true, size: true, bodyStructure: true, internalDate: true } as const;

export async function messageEvent(client: ImapFlow, msg: FetchMessageObject, folder: string, account: string): Promise<NewEvent> {
  const env = msg.envelope ?? {};
  const { hasAttachments, text } = inspectStructure(msg.bodyStructure);
  let snippet = '';
  if (text) {
    try {
      snippet = await readSnippet(client, msg.uid, text);
    } catch {
      // An undecodable body must not cost the user the notification: the headers alone still make an event.
      snippet = '';
    }
  }
  const from = env.from?.[0] ? addr(env.from[0]) : { name: '', address: '' };
  const subject = env.subject ?? '';
  const date = env.date ? new Date(env.date) : null;
  const arrived = msg.internalDate ? new Date(msg.internalDate) : date;
  return {
    type: 'mail.received',
    ts: arrived && !Number.isNaN(arrived.getTime()) ? arrived : new Date(),
    title: subject || '(no subject)',
    body: snippet,
    url: null,
    fields: {
      account,
      folder,
      uid: msg.uid,
      from,
      to: addrs(env.to),
      cc: addrs(env.cc),
      subject,
      date: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
      messageId: env.messageId ?? null,
      flags: [...(msg.flags ?? [])],
      size: msg.size ?? 0,
      hasAttachments,
      snippet,
    },
    tags: ['mail'],
  };
}
