// SNMP: poll a device (router, switch, printer, UPS) with SNMP v2c or v3 — GET of named OIDs with thresholds, WALK
// of subtrees — as an up/down check, and receive its traps (`snmp.trap`). Oath's Panoptes polled networks this way.
import type { Session, Varbind, Receiver } from 'net-snmp';
import { z } from 'zod';
import type { NewEvent } from '../../core/event.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';

/** net-snmp, loaded when an SNMP monitor first starts or is tested, not with the engine (#22: idle memory). */
let snmp: typeof import('net-snmp').default;
async function loadSnmp(): Promise<void> {
  snmp ??= (await import('net-snmp')).default;
}

const OID = /^\.?\d+(\.\d+)+$/;
const MAX_WALK = 1_000;
const oid = z.string().trim().refine((s) => OID.test(s), { message: 'a numeric OID like 1.3.6.1.2.1.1.3.0' });

export const snmpConfigSchema = z
  .object({
    host: z.string().trim().min(1).meta({ label: 'Device', help: 'Name or address of the SNMP agent, e.g. 192.168.1.1' }),
    port: z.number().int().min(1).max(65535).default(161).meta({ label: 'Port', help: 'UDP port of the agent (161).' }),
    version: z.enum(['2c', '3']).default('2c').meta({ label: 'SNMP version', help: '2c: a community string; 3: a user with authentication and privacy.' }),
    community: z.string().min(1).default('public').meta({ label: 'Community', help: 'v2c community string (also accepted on received traps). Stored in the secret store.', secret: true }),
    user: z.string().min(1).optional().meta({ label: 'v3 user', help: 'SNMPv3 user name.' }),
    authProtocol: z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']).default('sha').meta({ label: 'v3 authentication', help: 'Hash the agent expects.' }),
    authPassword: z.string().min(8).optional().meta({ label: 'v3 auth password', help: 'At least 8 characters. Stored in the secret store.', secret: true }),
    privProtocol: z.enum(['des', 'aes']).default('aes').meta({ label: 'v3 privacy', help: 'Encryption the agent expects.' }),
    privPassword: z.string().min(8).optional().meta({ label: 'v3 privacy password', help: 'Empty: authentication without encryption. Stored in the secret store.', secret: true }),
    oids: z
      .array(
        z.object({
          oid: oid.meta({ label: 'OID', help: 'e.g. 1.3.6.1.2.1.1.3.0 (sysUpTime)' }),
          name: z.string().trim().min(1).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _').optional().meta({ label: 'Name', help: 'Field name for the value, e.g. ifInErrors. Empty: the OID.' }),
          above: z.number().optional().meta({ label: 'Over above', help: 'snmp.threshold when the value is above this.' }),
          below: z.number().optional().meta({ label: 'Over below', help: 'snmp.threshold when the value is below this.' }),
        }),
      )
      .default([{ oid: '1.3.6.1.2.1.1.3.0', name: 'sysUpTime' }])
      .meta({ label: 'Values (GET)', help: 'OIDs to read each check, with optional thresholds.' }),
    walk: z.array(oid).default([]).meta({ label: 'Subtrees (WALK)', help: 'OIDs whose whole subtree is read each check (at most 1,000 values), e.g. 1.3.6.1.2.1.2.2.1.10 (ifInOctets).' }),
    emitValues: z.boolean().default(true).meta({ label: 'Emit the values', help: 'One ambient snmp.values event per check with every value read.' }),
    trapPort: z.number().int().min(1).max(65535).optional().meta({ label: 'Receive traps on port', help: 'Listen for traps from the device on this UDP port (162 needs privileges; e.g. 10162). Empty: no traps.' }),
    trapAddress: z.string().trim().min(1).default('0.0.0.0').meta({ label: 'Receive traps on address', help: 'Local address to listen on (0.0.0.0: all).' }),
    ...checkOptionsShape({ interval: '1m', timeout: '5s' }),
  })
  .refine((c) => c.version !== '3' || (c.user && c.authPassword), { message: 'SNMPv3 needs a user and an auth password', path: ['user'] });
export type SnmpConfig = z.infer<typeof snmpConfigSchema>;

/** A varbind's value as a person reads it: text for printable octet strings, numbers for counters and gauges. */
export function readable(vb: Varbind): string | number | null {
  const v = vb.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) {
    if (vb.type === 70) return Number(v.length ? BigInt('0x' + v.toString('hex')) : 0n); // Counter64
    const text = v.toString('utf8');
    return /^[\x20-\x7e\t\r\n]*$/.test(text) ? text : v.toString('hex');
  }
  return String(v);
}

function sessionFor(cfg: SnmpConfig, timeoutMs: number): Session {
  const options = { port: cfg.port, retries: 0, timeout: timeoutMs, transport: cfg.host.includes(':') ? ('udp6' as const) : ('udp4' as const) };
  if (cfg.version === '2c') return snmp.createSession(cfg.host, cfg.community, { ...options, version: snmp.Version2c });
  return snmp.createV3Session(
    cfg.host,
    {
      name: cfg.user!,
      level: cfg.privPassword ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
      authProtocol: snmp.AuthProtocols[cfg.authProtocol],
      authKey: cfg.authPassword!,
      ...(cfg.privPassword ? { privProtocol: snmp.PrivProtocols[cfg.privProtocol], privKey: cfg.privPassword } : {}),
    },
    { ...options, version: snmp.Version3 },
  );
}

function snmpError(err: Error, cfg: SnmpConfig, timeoutMs: number): string {
  const where = `${cfg.host}:${cfg.port}`;
  if (err.name === 'RequestTimedOutError' || /timed out/i.test(err.message)) {
    return cfg.version === '2c'
      ? `no SNMP answer from ${where} within ${timeoutMs / 1000} s (wrong community string, SNMP off on the device, or a firewall)`
      : `no SNMP answer from ${where} within ${timeoutMs / 1000} s (SNMP off on the device, or a firewall)`;
  }
  if (/unknown user|usm|authentication|decrypt|wrong digest/i.test(err.message)) return `${where} refused the SNMPv3 credentials: ${err.message}`;
  return `SNMP request to ${where} failed: ${err.message}`;
}

const definition: MonitorDefinition<SnmpConfig> = {
  type: 'snmp',
  badge: 'SNMP',
  category: 'Checks',
  title: 'SNMP',
  description: 'Polls a network device with SNMP v2c or v3 (values with thresholds, whole subtrees) and receives its traps.',
  configSchema: snmpConfigSchema,
  minIntervalMs: 5_000,
  events: [
    ...checkEventDocs('answer time, ms'),
    { type: 'snmp.values', ambient: true, description: 'Ambient: the values read by one check.', fields: { values: '{ name or OID: value } of the GETs', walked: '{ OID: value } of the WALKs (at most 1,000)', host: 'The device' } },
    { type: 'snmp.threshold', description: 'A value went over one of its thresholds (once, until back within).', fields: { name: 'Value name (or OID)', oid: 'The OID', value: 'The value', above: 'Threshold above', below: 'Threshold below', host: 'The device' } },
    { type: 'snmp.trap', description: 'A trap (notification) the device sent.', fields: { from: 'Sender address', trapOid: 'snmpTrapOID.0 (what happened), if present', varbinds: '[{ oid, value }]', host: 'The configured device' } },
  ],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    let stopCheck = () => {};
    let receiver: Receiver | null = null;

    const get = (session: Session, oids: string[]) =>
      new Promise<Varbind[]>((resolve, reject) => (oids.length ? session.get(oids, (err, vbs) => (err ? reject(err) : resolve(vbs))) : resolve([])));
    const walk = (session: Session, root: string, into: Record<string, unknown>) =>
      new Promise<void>((resolve, reject) =>
        session.subtree(
          root,
          20,
          (vbs) => {
            for (const vb of vbs) if (!snmp.isVarbindError(vb)) into[vb.oid] = readable(vb);
            return Object.keys(into).length >= MAX_WALK;
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );

    const probe = async (): Promise<CheckResult> => {
      await loadSnmp();
      const session = sessionFor(cfg, timeoutMs);
      session.on('error', () => {}); // socket errors also reject the request; this only keeps them from being unhandled
      const started = performance.now();
      const values: Record<string, unknown> = {};
      const walked: Record<string, unknown> = {};
      const problems: string[] = [];
      try {
        const vbs = await get(session, cfg.oids.map((o) => o.oid.replace(/^\./, '')));
        vbs.forEach((vb, i) => {
          const spec = cfg.oids[i]!;
          const key = spec.name ?? spec.oid;
          if (snmp.isVarbindError(vb)) {
            values[key] = null;
            problems.push(`${key}: ${snmp.varbindError(vb)}`);
          } else values[key] = readable(vb);
        });
        for (const root of cfg.walk) await walk(session, root.replace(/^\./, ''), walked);
      } catch (err) {
        return { ok: false, reason: snmpError(err as Error, cfg, timeoutMs) };
      } finally {
        session.close();
      }
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const events: NewEvent[] = [];
      if (cfg.emitValues) {
        events.push({ type: 'snmp.values', title: `${cfg.host}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ').slice(0, 200)}`, fields: { host: cfg.host, values, walked }, tags: ['ambient'] });
      }
      const over = ctx.dryRun ? {} : (ctx.state.get<Record<string, boolean>>('over') ?? {});
      const nextOver: Record<string, boolean> = {};
      for (const spec of cfg.oids) {
        const key = spec.name ?? spec.oid;
        const v = values[key];
        if (typeof v !== 'number') continue;
        const isOver = (spec.above !== undefined && v > spec.above) || (spec.below !== undefined && v < spec.below);
        if (isOver) nextOver[key] = true;
        if (isOver && !over[key]) {
          events.push({ type: 'snmp.threshold', title: `${cfg.host} ${key} is ${v} (${spec.above !== undefined && v > spec.above ? `above ${spec.above}` : `below ${spec.below}`})`, fields: { host: cfg.host, name: key, oid: spec.oid, value: v, above: spec.above ?? null, below: spec.below ?? null } });
        }
      }
      const state = !ctx.dryRun && JSON.stringify(over) !== JSON.stringify(nextOver) ? { over: nextOver } : undefined;
      if (problems.length && problems.length === cfg.oids.length) return { ok: false, reason: `${cfg.host} answered, but not these OIDs: ${problems.join('; ')}`, value: ms, events, ...(state ? { state } : {}) };
      return { ok: true, value: ms, events, fields: { values }, ...(state ? { state } : {}) };
    };

    const listenForTraps = () => {
      if (cfg.trapPort === undefined || ctx.dryRun) return;
      receiver = snmp.createReceiver({ port: cfg.trapPort, address: cfg.trapAddress, transport: 'udp4', disableAuthorization: false }, (error, n) => {
        if (error) {
          const e = error as Error & { code?: string };
          if (e.code === 'EADDRINUSE' || e.code === 'EACCES') ctx.health.failing(new Error(`cannot receive traps on ${cfg.trapAddress}:${cfg.trapPort}: ${e.code === 'EACCES' ? 'port needs privileges (use one above 1024)' : 'port in use'}`));
          else ctx.log.warn(`trap refused${error.rinfo ? ` from ${error.rinfo.address}` : ''}: ${error.message}`);
          return;
        }
        if (!n) return;
        const varbinds = n.pdu.varbinds.map((vb) => ({ oid: vb.oid, value: readable(vb) }));
        const trapOid = varbinds.find((v) => v.oid === '1.3.6.1.6.3.1.1.4.1.0')?.value ?? null;
        const detail = varbinds.filter((v) => v.oid !== '1.3.6.1.6.3.1.1.4.1.0' && v.oid !== '1.3.6.1.2.1.1.3.0');
        void ctx
          .emit({ type: 'snmp.trap', title: `Trap from ${n.rinfo.address}${trapOid ? `: ${trapOid}` : ''}`, body: detail.map((v) => `${v.oid} = ${v.value}`).join('\n'), fields: { from: n.rinfo.address, trapOid, varbinds, host: cfg.host }, tags: ['snmp'] })
          .catch((err) => ctx.log.warn(`could not store a trap: ${(err as Error).message}`));
      });
      receiver.getAuthorizer().addCommunity(cfg.community);
      if (cfg.version === '3' && cfg.user) {
        receiver.getAuthorizer().addUser({ name: cfg.user, level: cfg.privPassword ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv, authProtocol: snmp.AuthProtocols[cfg.authProtocol], authKey: cfg.authPassword!, ...(cfg.privPassword ? { privProtocol: snmp.PrivProtocols[cfg.privProtocol], privKey: cfg.privPassword } : {}) });
      }
    };

    return {
      async start() {
        await loadSnmp();
        listenForTraps();
        stopCheck = runCheck(ctx, { kind: 'snmp', target: `${cfg.host}:${cfg.port} (v${cfg.version})`, probe, formatValue: (v) => `${Math.round(v)} ms` });
      },
      stop() {
        stopCheck();
        receiver?.close();
        receiver = null;
      },
    };
  },
};

export default definition;
