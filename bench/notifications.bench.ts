/**
 * The notification center's added latency per notification: the time `offer()` takes to decide a rule's notify
 * candidate, record it (SQLite, on disk, WAL) and hand it to the pushes, for each path a candidate can take.
 * The store is a real data folder; channels are none (external sends are asynchronous and not on this path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../core/store/index.js';
import { silentLogger } from '../core/log.js';
import { notificationSettingsSchema } from '../core/config/schema.js';
import { NotificationCenter, type Candidate } from '../engine/notifications/center.js';
import { noExternalChannels } from '../engine/notifications/outbound-channels.js';
import type { FlagState } from '../core/protocol.js';
import { ManualClock } from '../test/helpers/manual-clock.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-notify-'));
const store = openStore(dir);
const clock = new ManualClock(Date.parse('2030-01-07T12:00:00Z'));
const settings = notificationSettingsSchema.parse({});
let flags: FlagState[] = [];
let pushes = 0;
const center = new NotificationCenter({
  store,
  clock,
  log: silentLogger,
  settings: () => settings,
  flags: () => flags,
  ruleName: (id) => id,
  eventInfo: () => ({ type: 'feed.item', source: 'rss:bench' }),
  channels: noExternalChannels,
  push: () => void pushes++,
  pushStatus: () => {},
});
center.start();

let n = 0;
const candidate = (over: Partial<Candidate> = {}): Candidate => {
  n++;
  return { key: `r${n}/E${n}`, ruleId: `r${n % 50}`, eventId: `E${n}`, title: `Item ${n}`, body: 'body', url: null, priority: 'normal', sound: true, ...over };
};

function measure(label: string, count: number, make: (i: number) => Candidate, between: (i: number) => void = () => {}): void {
  const us: number[] = [];
  for (let i = 0; i < count; i++) {
    between(i);
    const c = make(i);
    const t = performance.now();
    center.offer(c);
    us.push((performance.now() - t) * 1000);
  }
  us.sort((a, b) => a - b);
  const p = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!.toFixed(0);
  console.log(`| ${label} | ${count} | ${p(0.5)} µs | ${p(0.99)} µs |`);
}

console.log('| path | candidates | p50 | p99 |');
console.log('|---|---:|---:|---:|');
// Shown: spaced a minute apart, so no storm; each one is decided, recorded and pushed.
measure('shown (one per event)', 2_000, () => candidate(), () => clock.advance(61_000));
// Merged: a second rule for an event that already has its notification.
let lastEvent = '';
measure('merged (second rule, same event)', 2_000, (i) => candidate({ key: `m${i}`, eventId: lastEvent, ruleId: 'other' }), () => {
  clock.advance(61_000);
  const first = candidate();
  lastEvent = first.eventId!;
  center.offer(first);
});
// Held: dnd is set.
flags = [{ name: 'dnd', value: true, setAt: new Date(clock.now()).toISOString(), expiresAt: null, setBy: 'bench' }];
measure('held (dnd)', 2_000, () => candidate());
flags = [];
let t = performance.now();
center.reconsider();
console.log(`| release 2,000 held as one summary | 1 | ${((performance.now() - t) * 1000).toFixed(0)} µs | |`);
// A storm: 5,000 within the window fold into one.
measure('storm (folded)', 5_000, () => candidate(), () => clock.advance(2));
clock.advance(61_000);
t = performance.now();
center.reconsider();
console.log(`| flush a fold of ~5,000 | 1 | ${((performance.now() - t) * 1000).toFixed(0)} µs | |`);

await center.close();
store.close();
rmSync(dir, { recursive: true, force: true });
