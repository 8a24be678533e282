/**
 * What sealing forwarded events costs (engine/fleet/seal.ts), per event, on both ends of forwarding: the agent's
 * encode (+ seal per batch) and the desktop's check + decode, against the plain path. Batches of 1 (a quiet agent:
 * one event per read of the log — one Ed25519 signature and check per event, what signing each message would cost),
 * 10 and 100 (a busy one: the forwarder reads up to 200 at a time). Two event sizes: a log line (~0.5 KB
 * on the wire) and a feed item (~4 KB). Rounds alternate the variants; medians of 7 rounds.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { PanoptesEvent } from '../core/event.js';
import { decodeEvent, encodeEvent } from '../engine/forwarding/wire.js';
import { checkSeal, sealBatch, SealCache } from '../engine/fleet/seal.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const origin = { agentId: 'pi', hostname: 'raspberrypi' };
const event = (i: number, body: string): PanoptesEvent => ({
  id: `01JBENCH${String(i).padStart(18, '0')}`,
  ts: new Date(1_700_000_000_000 + i).toISOString(),
  receivedAt: new Date(1_700_000_000_000 + i).toISOString(),
  source: 'log:app',
  type: 'log.line',
  title: `GET /api/items/${i} 200 12ms`,
  body,
  url: null,
  fields: { status: 200, path: `/api/items/${i}`, ms: 12 },
  tags: ['http'],
});
const N = 2_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(label: string, body: string): void {
  const events = Array.from({ length: N }, (_, i) => event(i, body));
  const plainTexts = events.map((e) => encodeEvent(e, origin));
  const bytes = Math.round(plainTexts.reduce((a, t) => a + t.length, 0) / N);
  const variants: Record<string, () => void> = {};
  variants['agent: encode (plain)'] = () => void events.map((e) => encodeEvent(e, origin));
  for (const b of [1, 10, 100]) {
    variants[`agent: encode + seal, batches of ${b}`] = () => {
      for (let i = 0; i < N; i += b) sealBatch(events.slice(i, i + b).map((e) => encodeEvent(e, origin)), 'pi', privateKey);
    };
  }
  const sealed: Record<number, string[]> = {};
  for (const b of [1, 10, 100]) {
    sealed[b] = [];
    for (let i = 0; i < N; i += b) sealed[b]!.push(...sealBatch(plainTexts.slice(i, i + b), 'pi', privateKey));
  }
  variants['desktop: decode (plain)'] = () => void plainTexts.map((t) => decodeEvent(Buffer.from(t), 'pi'));
  for (const b of [1, 10, 100]) {
    variants[`desktop: check seal + decode, batches of ${b}`] = () => {
      const cache = new SealCache();
      for (const t of sealed[b]!) {
        const buf = Buffer.from(t);
        if (checkSeal(buf, 'pi', publicKey, 'k', cache) !== 'good') throw new Error('seal did not check');
        decodeEvent(buf, 'pi');
      }
    };
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const f of Object.values(variants)) f(); // warm up
  for (let round = 0; round < 7; round++) {
    for (const [k, f] of Object.entries(variants)) {
      // CPU time of this process, not wall time: the machine is shared, and the question is what sealing costs.
      const t0 = process.cpuUsage();
      f();
      const d = process.cpuUsage(t0);
      times[k]!.push((d.user + d.system) / N);
    }
  }
  const sealBytes = Math.round(sealed[100]!.reduce((a, t) => a + t.length, 0) / N) - bytes;
  console.log(`\n${label}: ${bytes} bytes on the wire plain, +${Math.round(sealed[1]!.reduce((a, t) => a + t.length, 0) / N) - bytes} sealed alone, +${sealBytes} in batches of 100\n`);
  console.log('| path | CPU µs per event (median of 7) |\n|---|---:|');
  for (const k of Object.keys(variants)) console.log(`| ${k} | ${median(times[k]!).toFixed(1)} |`);
}

run('log line', 'GET /api/items 200');
run('feed item', 'Kernel release notes mention a security patch for the storage driver. '.repeat(55));
