// DNS check: a name resolves (A, AAAA, CNAME, MX, TXT) at a chosen resolver, optionally to expected values; a
// change of the answer is its own event (`dns.changed`), so a hijacked or moved record is noticed.
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';

const SERVER = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d{1,5})?$/;

export const dnsConfigSchema = z.object({
  name: z.string().trim().min(1).max(253).meta({ label: 'Name', help: 'The DNS name to look up, e.g. example.com' }),
  recordType: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'TXT']).default('A').meta({ label: 'Record type', help: 'A and AAAA: addresses; CNAME: alias target; MX: mail servers ("10 mx.example.com"); TXT: text records.' }),
  server: z
    .string()
    .trim()
    .refine((s) => SERVER.test(s), { message: 'an IP address, optionally with a port: 1.1.1.1, 192.168.1.1:5353 or [2606:4700::1111]:53' })
    .optional()
    .meta({ label: 'Resolver', help: 'Ask this DNS server (IP, optional :port). Empty: the system\'s resolvers.' }),
  expected: z.array(z.string().trim().min(1)).default([]).meta({ label: 'Expected values', help: 'The answer must contain each of these (addresses, "10 mx.example.com", text). Empty: any answer is up.' }),
  ...checkOptionsShape({ interval: '5m', timeout: '5s' }),
});
export type DnsConfig = z.infer<typeof dnsConfigSchema>;

async function lookUp(resolver: Resolver, name: string, type: DnsConfig['recordType']): Promise<string[]> {
  switch (type) {
    case 'A':
      return resolver.resolve4(name);
    case 'AAAA':
      return (await resolver.resolve6(name)).map(normalizeV6);
    case 'CNAME':
      return resolver.resolveCname(name);
    case 'MX':
      return (await resolver.resolveMx(name)).map((m) => `${m.priority} ${m.exchange}`);
    case 'TXT':
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
  }
}

function normalizeV6(a: string): string {
  return net.isIPv6(a) ? a.toLowerCase() : a;
}

function dnsError(err: NodeJS.ErrnoException, name: string, type: string, server: string): string {
  switch (err.code) {
    case 'ENOTFOUND':
      return `${name} does not exist (NXDOMAIN at ${server})`;
    case 'ENODATA':
      return `${name} has no ${type} record at ${server}`;
    case 'ETIMEOUT':
      return `${server} did not answer in time`;
    case 'ECONNREFUSED':
      return `${server} refused the query (no DNS server there?)`;
    case 'ESERVFAIL':
      return `${server} failed to answer for ${name} (SERVFAIL)`;
    case 'EREFUSED':
      return `${server} refused to answer for ${name}`;
    default:
      return `looking up ${name} (${type}) at ${server} failed: ${err.code ?? err.message}`;
  }
}

const definition: MonitorDefinition<DnsConfig> = {
  type: 'dns',
  badge: 'DNS',
  category: 'Checks',
  title: 'DNS check',
  description: 'Looks up a DNS record at a resolver you choose; tells you when it stops resolving (or not to what you expect) and when its answer changes.',
  configSchema: dnsConfigSchema,
  minIntervalMs: 10_000,
  events: [
    ...checkEventDocs('lookup time, ms').map((d) => (d.type === 'check.down' || d.type === 'check.up' ? { ...d, fields: { ...d.fields, answers: 'The answer, sorted' } } : d)),
    { type: 'dns.changed', description: 'The answer differs from the last one (not on the first lookup).', fields: { name: 'The name', recordType: 'A, AAAA, CNAME, MX or TXT', before: 'The previous answer, sorted', after: 'The answer now, sorted', added: 'Values that appeared', removed: 'Values that went away' } },
  ],
  sources: (c) => [`${c.name.toLowerCase()} ${c.recordType} ${c.server ?? ''}`],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    const serverText = cfg.server ?? 'the system resolver';
    const expected = cfg.recordType === 'AAAA' ? cfg.expected.map(normalizeV6) : cfg.expected;
    let stop = () => {};

    const probe = async (): Promise<CheckResult> => {
      const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
      if (cfg.server) resolver.setServers([cfg.server]);
      const started = performance.now();
      let answers: string[];
      try {
        answers = (await lookUp(resolver, cfg.name, cfg.recordType)).sort();
      } catch (err) {
        return { ok: false, reason: dnsError(err as NodeJS.ErrnoException, cfg.name, cfg.recordType, serverText), fields: { answers: [] } };
      } finally {
        resolver.cancel();
      }
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const events = [];
      const before = ctx.dryRun ? undefined : ctx.state.get<string[]>('answers');
      const changed = !ctx.dryRun && JSON.stringify(before) !== JSON.stringify(answers);
      if (changed) {
        if (before) {
          const added = answers.filter((a) => !before.includes(a));
          const removed = before.filter((a) => !answers.includes(a));
          events.push({ type: 'dns.changed', title: `${cfg.name} ${cfg.recordType} changed: ${answers.join(', ') || '(none)'}`, body: `was: ${before.join(', ')}`, fields: { name: cfg.name, recordType: cfg.recordType, before, after: answers, added, removed } });
        }
      }
      const state = changed ? { state: { answers } } : {};
      const missing = expected.filter((e) => !answers.includes(e));
      if (missing.length) return { ok: false, value: ms, events, ...state, reason: `${cfg.name} ${cfg.recordType} is ${answers.join(', ')}, expected ${missing.join(', ')}`, fields: { answers } };
      return { ok: true, value: ms, events, ...state, fields: { answers } };
    };

    return {
      start() {
        stop = runCheck(ctx, { kind: 'dns', target: `${cfg.name} ${cfg.recordType} @ ${serverText}`, probe, formatValue: (v) => `${Math.round(v)} ms` });
      },
      stop: () => stop(),
    };
  },
};

export default definition;
