// HTTP(S) check: is a URL answering as expected — status, a keyword present or absent, a JSON value, in time — and
// say so once when it goes down and once when it is back (core/check-state.ts), with a sample for the charts.
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';
import { readCaFile } from '../../base/tls.js';
import { checkRequest, makeAgents, type Agents } from './request.js';
import { isJsonPath, parseJsonPath, valueAt } from './json-value.js';

const STATUS_SPEC = /^\s*(\d{3}\s*-\s*\d{3}|[1-5](\d|x){2})\s*$/i;

export const httpConfigSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'enter a full http:// or https:// address' }).meta({ label: 'URL', help: 'The address to check, e.g. https://example.com/health' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET').meta({ label: 'Method', help: 'HTTP method.' }),
  headers: z.record(z.string(), z.string()).default({}).meta({ label: 'Headers', help: 'Extra request headers, e.g. { "Accept": "application/json" }. Put credentials in the secret fields below, not here.' }),
  body: z.string().max(100_000).optional().meta({ label: 'Body', help: 'Request body for POST/PUT/PATCH (sent as application/json unless a Content-Type header says otherwise).' }),
  acceptStatus: z
    .array(z.string().refine((s) => STATUS_SPEC.test(s), { message: 'write a status like "200", a range like "200-299" or a class like "2xx"' }))
    .min(1)
    .default(['200-299'])
    .meta({ label: 'Accepted status codes', help: 'Answers with these statuses count as up: "200-299", "2xx", "301"…' }),
  followRedirects: z.boolean().default(true).meta({ label: 'Follow redirects', help: 'Follow 301/302/303/307/308 to the final answer. Off: a redirect status itself is the answer.' }),
  maxRedirects: z.number().int().min(0).max(20).default(10).meta({ label: 'Most redirects', help: 'More hops than this count as a failure.' }),
  keyword: z.string().min(1).optional().meta({ label: 'Keyword', help: 'Text the answer must contain (or must not, see below). Plain text, case-sensitive.' }),
  keywordAbsent: z.boolean().default(false).meta({ label: 'Keyword must be absent', help: 'Down when the keyword appears (e.g. "Maintenance" or "error").' }),
  jsonPath: z
    .string()
    .refine(isJsonPath, { message: 'write a JSON pointer like /status or a JSONPath like $.status.db or $.items[0].state' })
    .optional()
    .meta({ label: 'JSON value', help: 'Where a value sits in a JSON answer: a JSON pointer (/status/db) or JSONPath ($.status.db).' }),
  jsonExpected: z.string().optional().meta({ label: 'Expected JSON value', help: 'The value must equal this (compared as text: "ok", "true", "3"). Empty: the value must exist.' }),
  slowMs: z.number().int().min(1).optional().meta({ label: 'Slow above (ms)', help: 'A response slower than this emits check.slow once (the check stays up).' }),
  caFile: z.string().min(1).optional().meta({ label: 'CA file', help: 'PEM file of a private CA to trust (instead of the system\'s) for https:// addresses.' }),
  ignoreTlsErrors: z.boolean().default(false).meta({ label: 'Ignore certificate errors', help: 'Accept any certificate. Only for testing; use a "CA file" for private CAs and a certificate check for expiry.' }),
  maxBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(1024 * 1024).meta({ label: 'Read at most (bytes)', help: 'The answer is read up to this size for keyword and JSON checks.' }),
  username: z.string().optional().meta({ label: 'User name', help: 'For HTTP basic authentication.' }),
  password: z.string().optional().meta({ label: 'Password', help: 'For HTTP basic authentication. Stored in the secret store.', secret: true }),
  bearerToken: z.string().optional().meta({ label: 'Bearer token', help: 'Sent as "Authorization: Bearer …". Stored in the secret store.', secret: true }),
  ...checkOptionsShape({ interval: '1m', timeout: '10s' }),
});
export type HttpConfig = z.infer<typeof httpConfigSchema>;

const definition: MonitorDefinition<HttpConfig> = {
  type: 'http',
  badge: 'HTTP',
  category: 'Checks',
  title: 'HTTP check',
  description: 'Checks that a web address answers with the expected status (and keyword or JSON value) in time; tells you once when it goes down and once when it is back.',
  configSchema: httpConfigSchema,
  minIntervalMs: 5_000,
  events: checkEventDocs('response time, ms').map((d) =>
    d.type === 'check.down' || d.type === 'check.up'
      ? { ...d, fields: { ...d.fields, status: 'HTTP status of the final answer (null if none came)', url: 'The final URL after redirects', redirects: 'Redirects followed', responseMs: 'Time to the last byte, ms' } }
      : d,
  ),
  // The address and how it is asked.
  sources: (c) => [`${c.method} ${new URL(c.url).href}`],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    const statusOk = statusMatcher(cfg.acceptStatus);
    const steps = cfg.jsonPath !== undefined ? parseJsonPath(cfg.jsonPath) : null;
    const authorization = cfg.bearerToken
      ? `Bearer ${cfg.bearerToken}`
      : cfg.username !== undefined
        ? `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ''}`, 'utf8').toString('base64')}`
        : undefined;
    let agents: Agents | null = null;
    let stopCheck = () => {};

    const probe = async (signal: AbortSignal): Promise<CheckResult> => {
      agents ??= makeAgents({ ca: cfg.caFile ? readCaFile(cfg.caFile) : undefined, rejectUnauthorized: !cfg.ignoreTlsErrors });
      let res;
      try {
        res = await checkRequest(
          { url: cfg.url, method: cfg.method, headers: cfg.headers, body: cfg.body, authorization, followRedirects: cfg.followRedirects, maxRedirects: cfg.maxRedirects, timeoutMs, maxBytes: cfg.maxBytes, signal },
          agents,
        );
      } catch (err) {
        if (signal.aborted && !(err as Error).message.startsWith('no answer')) throw err;
        return { ok: false, reason: (err as Error).message, fields: { status: null, url: cfg.url, redirects: 0, responseMs: null } };
      }
      const fields: Record<string, unknown> = { status: res.status, url: res.url, redirects: res.redirects, responseMs: res.ms };
      const fail = (reason: string): CheckResult => ({ ok: false, reason, value: res.ms, fields });
      if (!statusOk(res.status)) return fail(`HTTP ${res.status} from ${new URL(res.url).host} (expected ${cfg.acceptStatus.join(', ')})`);
      if (cfg.keyword !== undefined) {
        const present = res.body.includes(cfg.keyword);
        if (present && cfg.keywordAbsent) return fail(`the answer contains "${cfg.keyword}"`);
        if (!present && !cfg.keywordAbsent) return fail(`"${cfg.keyword}" not found in the answer${res.truncated ? ` (read the first ${cfg.maxBytes} bytes)` : ''}`);
      }
      if (steps) {
        let doc: unknown;
        try {
          doc = JSON.parse(res.body.toString('utf8'));
        } catch {
          return fail(`the answer is not JSON${res.truncated ? ` (cut at ${cfg.maxBytes} bytes)` : ''}`);
        }
        const v = valueAt(doc, steps);
        fields.jsonValue = v === undefined ? null : v;
        if (v === undefined) return fail(`no value at ${cfg.jsonPath} in the answer`);
        if (cfg.jsonExpected !== undefined && textOf(v) !== cfg.jsonExpected) return fail(`${cfg.jsonPath} is ${JSON.stringify(v)}, expected ${JSON.stringify(cfg.jsonExpected)}`);
      }
      return { ok: true, value: res.ms, fields, ...(cfg.slowMs !== undefined ? { slow: res.ms > cfg.slowMs } : {}) };
    };

    return {
      start() {
        stopCheck = runCheck(ctx, { kind: 'http', target: `${cfg.method} ${cfg.url}`, probe, formatValue: (v) => `${Math.round(v)} ms` });
      },
      stop() {
        stopCheck();
        agents?.destroy();
        agents = null;
      },
    };
  },
};

export default definition;

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function statusMatcher(specs: string[]): (status: number) => boolean {
  const tests = specs.map((raw) => {
    const s = raw.trim().toLowerCase();
    const range = /^(\d{3})\s*-\s*(\d{3})$/.exec(s);
    if (range) return (n: number) => n >= Number(range[1]) && n <= Number(range[2]);
    const re = new RegExp(`^${s.replace(/x/g, '\\d')}$`);
    return (n: number) => re.test(String(n));
  });
  return (n) => tests.some((t) => t(n));
}
