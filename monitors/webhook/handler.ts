// The webhook receiver as a pure function of a request: it decides the status and, when everything checks out,
// the event to store. It stores nothing itself, so every refusal (unknown hook, wrong secret, too large, bad
// body) is guaranteed to leave no trace, and the server that mounts it stays a few lines of glue.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { NewEvent } from '../../core/event.js';

export const MAX_BODY_BYTES = 1024 * 1024;
export const SECRET_HEADER = 'x-panoptes-secret';
const HOOK_PATH = /^\/hooks\/([A-Za-z0-9_-]{1,100})\/?$/;

export interface WebhookRequestLike {
  method?: string;
  /** Path and query, as in Node's `req.url`: `/hooks/deploy?secret=…`. */
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body: Node's IncomingMessage itself (it is async-iterable), or bytes/text already read. */
  body: AsyncIterable<Uint8Array | string> | Uint8Array | string;
}

export interface Hook {
  id: string;
  secret: string;
  name?: string;
}

export type HookLookup = ReadonlyMap<string, Hook> | ((id: string) => Hook | undefined);

export interface WebhookResult {
  status: 200 | 400 | 401 | 405 | 413 | 415;
  /** A short reason for the caller (never echoes the body or the secret). */
  message: string;
  hookId?: string;
  event?: NewEvent;
  /** The sender's `Idempotency-Key`, when it gave a usable one: a repeat of a request already stored is dropped. */
  idempotencyKey?: string;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Keys are opaque to us; anything printable up to this length is taken (Panoptes' own are 32 hex digits). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
/** What an unknown hook and a wrong secret both answer. */
const REFUSED = 'unknown hook, or wrong or missing secret';
/** Compared against when the hook is unknown, so both refusals cost the same. */
const UNKNOWN_HOOK_SECRET = 'no hook has this secret: it only keeps the comparison';

export async function handleWebhook(req: WebhookRequestLike, hooks: HookLookup): Promise<WebhookResult> {
  const url = new URL(req.url ?? '/', 'http://hooks.invalid');
  const m = HOOK_PATH.exec(url.pathname);
  const hook = m ? (typeof hooks === 'function' ? hooks(m[1]!) : hooks.get(m[1]!)) : undefined;
  // Unknown, malformed and unauthorised look the same from outside (status, body, and the digest compared either
  // way), so nobody learns which hooks exist; only a caller with the secret gets further answers such as 405.
  const authorised = secretMatches(presentedSecret(req, url), hook ? expectedDigest(hook) : UNKNOWN_HOOK_DIGEST);
  if (!hook || !authorised) return { status: 401, message: REFUSED, ...(hook ? { hookId: hook.id } : {}) };
  if ((req.method ?? 'GET').toUpperCase() !== 'POST') return { status: 405, message: 'use POST', hookId: hook.id };

  const declared = Number(header(req, 'content-length'));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return { status: 413, message: `body larger than ${MAX_BODY_BYTES} bytes`, hookId: hook.id };
  const body = await readCapped(req.body, MAX_BODY_BYTES);
  if (body === null) return { status: 413, message: `body larger than ${MAX_BODY_BYTES} bytes`, hookId: hook.id };

  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  let fields: Record<string, unknown>;
  if (body.length === 0) {
    fields = {};
  } else if (type === 'application/json' || type.endsWith('+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, message: 'body is not valid JSON', hookId: hook.id };
    }
    fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } else if (type === 'application/x-www-form-urlencoded') {
    fields = formFields(body.toString('utf8'));
  } else if (type === '' || type.startsWith('text/')) {
    fields = { text: body.toString('utf8') };
  } else {
    return { status: 415, message: 'send JSON, a form (application/x-www-form-urlencoded) or plain text', hookId: hook.id };
  }

  const key = header(req, IDEMPOTENCY_HEADER)?.trim();
  return {
    status: 200,
    message: 'received',
    hookId: hook.id,
    ...(key && IDEMPOTENCY_KEY.test(key) ? { idempotencyKey: key } : {}),
    event: {
      type: 'webhook.received',
      title: pickTitle(fields) ?? `Webhook: ${hook.name ?? hook.id}`,
      body: typeof fields.text === 'string' ? fields.text : typeof fields.body === 'string' ? fields.body : '',
      url: typeof fields.url === 'string' && /^https?:\/\//i.test(fields.url) ? fields.url : null,
      fields,
      tags: ['webhook'],
    },
  };
}

function header(req: WebhookRequestLike, name: string): string | undefined {
  const v = req.headers[name] ?? req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The secret may come as `X-Panoptes-Secret`, `Authorization: Bearer …`, or `?secret=` for senders that only allow a URL. */
function presentedSecret(req: WebhookRequestLike, url: URL): string | null {
  const direct = header(req, SECRET_HEADER);
  if (direct) return direct;
  const auth = header(req, 'authorization');
  const bearer = auth ? /^Bearer\s+(.+)$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer.trim();
  return url.searchParams.get('secret');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const UNKNOWN_HOOK_DIGEST = sha256(UNKNOWN_HOOK_SECRET);
/** Each hook's secret digested once, not on every request (kept only while the registry keeps the hook). */
const digests = new WeakMap<Hook, { secret: string; digest: Buffer | null }>();
function expectedDigest(hook: Hook): Buffer | null {
  let d = digests.get(hook);
  if (!d || d.secret !== hook.secret) digests.set(hook, (d = { secret: hook.secret, digest: hook.secret ? sha256(hook.secret) : null }));
  return d.digest;
}

/** Compare digests in constant time, so response timing does not reveal how much of a guess was right. */
function secretMatches(presented: string | null, expected: Buffer | null): boolean {
  if (!presented || !expected) return false;
  return timingSafeEqual(sha256(presented), expected);
}

/**
 * Read at most `max` bytes; null as soon as there are more (the rest is not buffered). A Node request stream over the
 * cap is left flowing, its further bytes dropped, rather than destroyed: destroying it closed the connection while a
 * chunked sender was still writing, so the 413 and its reason were lost to an EPIPE on the sender's side. The route
 * answers, drops the rest for a while and then closes (base/lingering-answer.ts), which ends a sender that never stops.
 */
async function readCapped(body: WebhookRequestLike['body'], max: number): Promise<Buffer | null> {
  if (typeof body === 'string') body = Buffer.from(body);
  if (body instanceof Uint8Array) return body.byteLength > max ? null : Buffer.from(body);
  if (body instanceof Readable) return readStreamCapped(body, max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += buf.byteLength;
    if (size > max) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function readStreamCapped(stream: Readable, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.byteLength;
      if (size <= max) return void chunks.push(buf);
      done();
      // Still flowing with no listener: the rest is read and dropped, so the answer can be written and read.
      stream.on('error', () => {});
      stream.resume();
      resolve(null);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const onClose = () => {
      done();
      reject(new Error('the request was closed before its body ended'));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/**
 * Form fields; a key sent several times becomes an array. Collected in a Map and turned into own properties at the
 * end, so keys such as `__proto__` or `constructor` are plain fields, never the object's prototype or inherited
 * members.
 */
function formFields(text: string): Record<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return Object.fromEntries(out);
}

function pickTitle(fields: Record<string, unknown>): string | null {
  for (const key of ['title', 'subject', 'message', 'text', 'event']) {
    const v = fields[key];
    if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 300);
  }
  return null;
}
