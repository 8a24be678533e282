// Forwarding settings as the protocol shows and changes them (`forwarding.get` / `forwarding.update`). What the
// user sends is untrusted: it is checked with the config document's own schema and the rules engine's filter
// validation before anything is written; passwords (typed into a URL or given apart) go to the secret store and
// the document keeps only `mqtt://user@host:port`.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { ForwardingHost } from './host.js';
import type { ForwardingInfo, ForwardingSettings, ForwardingUpdate, ValidationIssue } from '../../core/protocol.js';
import { forwardingSchema, type ForwardingDoc } from '../../core/config/schema.js';
import { carryUnknownKeys } from '../../core/config/unknown-keys.js';
import { parseBrokerUrl, secretKeyFor, TLS_FILE_NAMES } from '../../base/mqtt.js';
import { compileForwardFilter } from './filter.js';
import { withUser, type ForwardingController } from './controller.js';
import { SECRETS_OWNER } from './index.js';

const EMBEDDED_PASSWORD = 'embeddedBroker.password';
const EMBEDDED_USERNAME = 'embeddedBroker.username';
const DEFAULT_EMBEDDED = { enabled: false, port: 1883, host: '0.0.0.0' };

export class ForwardingSettingsError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'ForwardingSettingsError';
  }
}

function storedPasswordFor(secrets: Record<string, string>, url: string): boolean {
  try {
    return secrets[secretKeyFor(parseBrokerUrl(url))] !== undefined;
  } catch {
    return false;
  }
}

export function forwardingInfo(engine: ForwardingHost, control: ForwardingController): ForwardingInfo {
  const f: ForwardingDoc = engine.config.current.forwarding ?? { subscribe: [] };
  const secrets = engine.secrets.get(SECRETS_OWNER);
  const settings = {
    forward: f.forward ?? null,
    subscribe: f.subscribe,
    embeddedBroker: { ...DEFAULT_EMBEDDED, ...(f.embeddedBroker ?? {}) },
    actionBroker: f.actionBroker ?? null,
  } as ForwardingSettings;
  return {
    settings: structuredClone(settings),
    secretsSet: {
      forward: f.forward ? storedPasswordFor(secrets, f.forward.url) : false,
      subscribe: f.subscribe.map((s) => storedPasswordFor(secrets, s.url)),
      actionBroker: f.actionBroker ? storedPasswordFor(secrets, f.actionBroker.url) : false,
      embeddedBroker: secrets[EMBEDDED_PASSWORD] !== undefined,
    },
    embeddedBrokerUsername: secrets[EMBEDDED_USERNAME] ?? 'panoptes',
    commandLineForward: control.commandLineForward(),
    status: control.status(),
  };
}

/** The example a "write the full path" message gives for each file. */
const TLS_FILE_EXAMPLES = { ca: '/etc/panoptes/ca.pem', cert: '/etc/panoptes/client.pem', key: '/etc/panoptes/client.key' } as const;

/**
 * A broker's TLS settings as typed into the form: empty fields dropped, each file checked now (a path the agent
 * cannot read would otherwise only show up as a connection error later), a certificate only with its key, and only
 * for addresses that speak TLS. Returns what to save, or undefined when nothing is left.
 */
function tlsFiles(raw: unknown, path: string, url: string, issues: ValidationIssue[]): Record<string, unknown> | undefined {
  if (raw === null) return undefined;
  if (!isObject(raw)) {
    issues.push({ path, message: 'TLS settings are an object with ca, cert, key and rejectUnauthorized' });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const field of ['ca', 'cert', 'key'] as const) {
    const what = TLS_FILE_NAMES[field];
    const v = raw[field];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      issues.push({ path: `${path}.${field}`, message: `the ${what} is a file path` });
      continue;
    }
    const file = v.trim();
    if (!file) continue;
    if (!isAbsolute(file)) {
      issues.push({ path: `${path}.${field}`, message: `write the ${what}'s full path (like ${TLS_FILE_EXAMPLES[field]})` });
      continue;
    }
    try {
      if (!statSync(file).isFile()) throw Object.assign(new Error(), { code: 'not a file' });
      accessSync(file, constants.R_OK);
    } catch (err) {
      issues.push({ path: `${path}.${field}`, message: `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    out[field] = file;
  }
  if ((out.cert === undefined) !== (out.key === undefined) && (raw.cert || raw.key)) {
    const missing = out.cert === undefined ? 'cert' : 'key';
    if (!issues.some((i) => i.path === `${path}.${missing}`)) issues.push({ path: `${path}.${missing}`, message: 'a client certificate and its key go together: give both or neither' });
  }
  if (raw.rejectUnauthorized !== undefined && typeof raw.rejectUnauthorized !== 'boolean') issues.push({ path: `${path}.rejectUnauthorized`, message: 'true or false' });
  else if (raw.rejectUnauthorized === false) out.rejectUnauthorized = false;
  if (Object.keys(out).length && !/^(mqtts|wss|ssl):/.test(url)) {
    issues.push({ path, message: 'TLS settings apply to mqtts:// and wss:// addresses: change the address or clear them' });
  }
  return Object.keys(out).length ? out : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Check an update against the current settings and turn it into the document to save plus the secret changes.
 * Throws ForwardingSettingsError with every problem (JSON paths like `$.forward.filter.if.matches`); nothing is
 * written then.
 */
export function planForwardingUpdate(
  engine: ForwardingHost,
  control: ForwardingController,
  update: unknown,
): { doc: ForwardingDoc; secrets: Record<string, string | null> } {
  if (!isObject(update)) throw new ForwardingSettingsError([{ path: '$', message: 'forwarding settings must be an object' }]);
  const u = update as ForwardingUpdate;
  const current: ForwardingDoc = engine.config.current.forwarding ?? { subscribe: [] };
  const issues: ValidationIssue[] = [];
  const secrets: Record<string, string | null> = {};

  /** A broker reference: the password taken out of its URL (or its `password`), the URL kept with the user only. */
  const broker = (ref: unknown, path: string): Record<string, unknown> | undefined => {
    if (!isObject(ref)) {
      issues.push({ path, message: 'a broker must be an object with a url' });
      return undefined;
    }
    const { password, ...rest } = ref;
    if (typeof rest.url !== 'string' || !rest.url.trim()) {
      issues.push({ path: `${path}.url`, message: 'a broker address is required (like mqtt://host:1883)' });
      return undefined;
    }
    let a;
    try {
      a = parseBrokerUrl(rest.url.trim());
    } catch (err) {
      issues.push({ path: `${path}.url`, message: (err as Error).message });
      return undefined;
    }
    if (password !== undefined && password !== null && typeof password !== 'string') {
      issues.push({ path: `${path}.password`, message: 'a password is text' });
      return undefined;
    }
    const given = typeof password === 'string' && password !== '' ? password : a.password ?? control.commandLinePassword(a);
    if (given !== undefined && a.username === undefined) {
      issues.push({ path: `${path}.url`, message: 'a password needs a user name: write the address as mqtt://user@host:port' });
      return undefined;
    }
    if (rest.tls !== undefined) {
      const tls = tlsFiles(rest.tls, `${path}.tls`, a.url, issues);
      if (tls) rest.tls = tls;
      else delete rest.tls;
    }
    const key = secretKeyFor({ url: a.url, ...(a.username !== undefined ? { username: a.username } : {}) });
    if (given !== undefined) secrets[key] = given;
    else if (password === null) secrets[key] = null;
    return { ...rest, url: withUser(a) };
  };

  const doc: Record<string, unknown> = { ...structuredClone(current) };
  if (u.forward !== undefined) {
    if (u.forward === null) delete doc.forward;
    else {
      const f = broker(u.forward, '$.forward');
      if (f) {
        if (f.agentId === '' || f.agentId === null) delete f.agentId;
        if (f.filter !== undefined && f.filter !== null) {
          if (!isObject(f.filter)) issues.push({ path: '$.forward.filter', message: 'the filter is an object with "when" and/or "if", as in a rule' });
          else {
            const { errors } = compileForwardFilter(f.filter);
            for (const e of errors) issues.push({ path: `$.forward.filter${e.path.slice(1)}`, message: e.message });
            if (f.filter.when === undefined && f.filter.if === undefined) delete f.filter;
          }
        } else delete f.filter;
        doc.forward = f;
      }
    }
  }
  if (u.subscribe !== undefined) {
    if (!Array.isArray(u.subscribe)) issues.push({ path: '$.subscribe', message: 'the brokers to subscribe to are a list' });
    else doc.subscribe = u.subscribe.map((s, i) => broker(s, `$.subscribe[${i}]`)).filter((s) => s !== undefined);
  }
  if (u.actionBroker !== undefined) {
    if (u.actionBroker === null) delete doc.actionBroker;
    else {
      const a = broker(u.actionBroker, '$.actionBroker');
      if (a) doc.actionBroker = a;
    }
  }
  if (u.embeddedBroker !== undefined) {
    if (!isObject(u.embeddedBroker)) issues.push({ path: '$.embeddedBroker', message: 'the embedded broker settings are an object' });
    else {
      const { password, username, ...rest } = u.embeddedBroker as Record<string, unknown>;
      doc.embeddedBroker = { ...DEFAULT_EMBEDDED, ...(current.embeddedBroker ?? {}), ...rest };
      if (typeof password === 'string' && password !== '') secrets[EMBEDDED_PASSWORD] = password;
      else if (password === null) secrets[EMBEDDED_PASSWORD] = null;
      else if (password !== undefined && password !== '') issues.push({ path: '$.embeddedBroker.password', message: 'a password is text' });
      if (typeof username === 'string' && username.trim() !== '') {
        if (!/^[\x21-\x7e]{1,64}$/.test(username.trim())) issues.push({ path: '$.embeddedBroker.username', message: 'a user name is 1 to 64 visible characters without spaces' });
        else secrets[EMBEDDED_USERNAME] = username.trim();
      }
    }
  }

  const parsed = forwardingSchema.safeParse(doc);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push({ path: '$' + i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join(''), message: i.message });
  }
  if (issues.length || !parsed.success) throw new ForwardingSettingsError(issues);
  return { doc: parsed.data, secrets };
}

/** Broker passwords that no configured broker uses any more are removed with it. */
function unusedPasswords(doc: ForwardingDoc, stored: Record<string, string>, changes: Record<string, string | null>): Record<string, null> {
  const used = new Set<string>();
  for (const r of [doc.forward, doc.actionBroker, ...doc.subscribe]) {
    if (!r) continue;
    try {
      used.add(secretKeyFor(parseBrokerUrl(r.url)));
    } catch {
      /* validated above */
    }
  }
  const out: Record<string, null> = {};
  for (const k of new Set([...Object.keys(stored), ...Object.keys(changes)])) {
    if (k.startsWith('password:') && !used.has(k)) out[k] = null;
  }
  return out;
}

/** Updates apply one after the other: each is planned against what the one before it saved. */
const inLine = new WeakMap<ForwardingController, Promise<unknown>>();

export function updateForwarding(engine: ForwardingHost, control: ForwardingController, update: unknown): Promise<ForwardingInfo> {
  const next = (inLine.get(control) ?? Promise.resolve()).then(() => applyUpdate(engine, control, update));
  inLine.set(control, next.catch(() => {}));
  return next;
}

async function applyUpdate(engine: ForwardingHost, control: ForwardingController, update: unknown): Promise<ForwardingInfo> {
  const { doc, secrets } = planForwardingUpdate(engine, control, update);
  // Secrets first: the document never points at a password that is not there yet.
  const stored = engine.secrets.get(SECRETS_OWNER);
  engine.secrets.set(SECRETS_OWNER, { ...secrets, ...unusedPasswords(doc, stored, secrets) });
  // Keys written by hand into forwarding that Panoptes does not know stay (they were reported at load).
  await engine.config.update((d) => {
    if (d.forwarding) carryUnknownKeys(d.forwarding, doc, (v) => forwardingSchema.parse(v));
    d.forwarding = doc;
  });
  await control.restart({ dropCommandLine: true });
  return forwardingInfo(engine, control);
}
