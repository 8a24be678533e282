// Certificate check: how many days until a server's TLS certificate expires, whether its chain is trusted and its
// name matches. Warns once per threshold (30/14/7/1 days by default) with `cert.expiring`, once with `cert.invalid`
// when it stops being valid, and is down while it cannot be used.
import tls from 'node:tls';
import net from 'node:net';
import { z } from 'zod';
import type { NewEvent } from '../../core/event.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';
import { readCaFile } from '../../base/tls.js';
import { connectError } from '../../base/net-errors.js';

const DAY = 86_400_000;

export const certificateConfigSchema = z.object({
  host: z.string().trim().min(1).meta({ label: 'Host', help: 'The server, e.g. example.com or 192.168.1.5' }),
  port: z.number().int().min(1).max(65535).default(443).meta({ label: 'Port', help: '443 for HTTPS; 993 IMAPS, 465 SMTPS, 8883 MQTTS…' }),
  serverName: z.string().trim().min(1).optional().meta({ label: 'Name on the certificate', help: 'The name the certificate must be for (sent as SNI). Empty: the host.' }),
  warnDays: z.array(z.number().int().min(0).max(365)).min(1).default([30, 14, 7, 1]).meta({ label: 'Warn at (days left)', help: 'cert.expiring is emitted once as each of these is reached.' }),
  caFile: z.string().min(1).optional().meta({ label: 'CA file', help: 'PEM of a private CA to check the chain against (instead of the system\'s CAs).' }),
  ...checkOptionsShape({ interval: '6h', timeout: '10s' }),
});
export type CertificateConfig = z.infer<typeof certificateConfigSchema>;

export interface CertificateFacts {
  subject: string;
  issuer: string;
  validTo: string;
  daysLeft: number;
  fingerprint: string;
  /** Why it cannot be used, or null. */
  problem: string | null;
}

const CHAIN_WORDS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is not signed by a trusted CA (or the server does not send the intermediate certificate)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is not signed by a trusted CA (or the server does not send the intermediate certificate)',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet (is this machine\'s clock right?)',
};

export function inspectCertificate(host: string, port: number, serverName: string, ca: Buffer | undefined, timeoutMs: number, signal: AbortSignal): Promise<CertificateFacts> {
  const where = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: net.isIP(serverName) ? undefined : serverName, ca, rejectUnauthorized: false });
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      fn();
    };
    const onAbort = () => finish(() => reject(new Error('stopped')));
    const timer = setTimeout(() => finish(() => reject(new Error(`no TLS handshake with ${where} within ${timeoutMs / 1000} s`))), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(() => reject(new Error(err.code?.startsWith('E') ? connectError(err, where) : `TLS with ${where} failed: ${err.message}`))));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.valid_to) return finish(() => reject(new Error(`${where} presented no certificate`)));
      const daysLeft = Math.floor(((Date.parse(cert.valid_to) - Date.now()) / DAY) * 10) / 10;
      let problem: string | null = null;
      const authErr = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : null;
      if (daysLeft < 0) problem = `the certificate expired on ${new Date(cert.valid_to).toISOString().slice(0, 10)}`;
      else if (!socket.authorized && authErr !== 'ERR_TLS_CERT_ALTNAME_INVALID') problem = `the certificate is not trusted: ${CHAIN_WORDS[authErr ?? ''] ?? authErr ?? 'chain not valid'}`;
      else if (tls.checkServerIdentity(serverName, cert)) problem = `the certificate is for ${cert.subjectaltname || cn(cert.subject?.CN)}, not ${serverName}`;
      const facts: CertificateFacts = { subject: cn(cert.subject?.CN), issuer: cn(cert.issuer?.CN), validTo: new Date(cert.valid_to).toISOString(), daysLeft, fingerprint: cert.fingerprint256, problem };
      finish(() => resolve(facts));
    });
  });
}

function cn(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

interface Remembered {
  fingerprint: string;
  /** The smallest threshold already warned about for this certificate. */
  warned: number | null;
  invalid: string | null;
}

const definition: MonitorDefinition<CertificateConfig> = {
  type: 'certificate',
  badge: 'CERT',
  category: 'Checks',
  title: 'Certificate expiry',
  description: 'Checks a server\'s TLS certificate: days until it expires (warning at 30, 14, 7 and 1 days), trusted chain and matching name.',
  configSchema: certificateConfigSchema,
  minIntervalMs: 60_000,
  events: [
    ...checkEventDocs('days until expiry'),
    { type: 'cert.expiring', description: 'The certificate reached a warning threshold (once per threshold; a renewed certificate starts over).', fields: { host: 'Host', port: 'Port', serverName: 'Name checked', daysLeft: 'Days until it expires', threshold: 'The threshold reached', validTo: 'Expiry (ISO)', subject: 'Certificate subject CN', issuer: 'Issuer CN' } },
    { type: 'cert.invalid', description: 'The certificate cannot be used: expired, untrusted chain or wrong name (once, until it is fixed).', fields: { host: 'Host', port: 'Port', serverName: 'Name checked', problem: 'What is wrong', validTo: 'Expiry (ISO)', subject: 'Certificate subject CN', issuer: 'Issuer CN' } },
  ],
  sources: (c) => [`${c.host.toLowerCase()}:${c.port} ${c.serverName ?? ''}`],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    const name = cfg.serverName ?? cfg.host;
    const thresholds = [...new Set(cfg.warnDays)].sort((a, b) => a - b);
    let stop = () => {};

    const probe = async (signal: AbortSignal): Promise<CheckResult> => {
      const facts = await inspectCertificate(cfg.host, cfg.port, name, readCaFile(cfg.caFile), timeoutMs, signal);
      const base = { host: cfg.host, port: cfg.port, serverName: name, validTo: facts.validTo, subject: facts.subject, issuer: facts.issuer, daysLeft: facts.daysLeft };
      const seen = ctx.dryRun ? null : ctx.state.get<Remembered>('certificate');
      const memory: Remembered = seen && seen.fingerprint === facts.fingerprint ? { ...seen } : { fingerprint: facts.fingerprint, warned: null, invalid: null };
      const events: NewEvent[] = [];
      const reached = thresholds.find((t) => facts.daysLeft <= t);
      if (!facts.problem && reached !== undefined && (memory.warned === null || reached < memory.warned)) {
        memory.warned = reached;
        events.push({ type: 'cert.expiring', title: `Certificate of ${name} expires in ${Math.max(0, Math.floor(facts.daysLeft))} day${Math.floor(facts.daysLeft) === 1 ? '' : 's'}`, body: `Valid until ${facts.validTo}; issued by ${facts.issuer}.`, fields: { ...base, threshold: reached } });
      }
      if (facts.problem && facts.problem !== memory.invalid) {
        events.push({ type: 'cert.invalid', title: `Certificate of ${name}: ${facts.problem}`, body: `${cfg.host}:${cfg.port}, valid until ${facts.validTo}`, fields: { ...base, problem: facts.problem } });
      }
      memory.invalid = facts.problem;
      const state = !ctx.dryRun && JSON.stringify(memory) !== JSON.stringify(seen) ? { certificate: memory } : undefined;
      return { ok: !facts.problem, reason: facts.problem, value: facts.daysLeft, events, fields: base, ...(state ? { state } : {}) };
    };

    return {
      start() {
        stop = runCheck(ctx, { kind: 'certificate', target: `${name} (${cfg.host}:${cfg.port})`, probe, formatValue: (v) => `${Math.floor(v)} days left` });
      },
      stop: () => stop(),
    };
  },
};

export default definition;
