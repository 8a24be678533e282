/**
 * What the machine itself costs for the steps every event needs before any rule is evaluated (see docs/rules.md,
 * "Benchmark"): a random memory read, a hash lookup of a freshly parsed string (V8's Map and our StringTable), and one
 * pass over a title. Measured on the same generated events as the rules benchmark, parsed from JSON as the store
 * hands them over; parsing is untimed. Medians of 7 rounds.
 */
import { performance } from 'node:perf_hooks';
import type { PanoptesEvent } from '../core/event.js';
import { StringTable } from '../rules/string-table.js';
import { makeEvent } from './helpers/rule-mix.js';
import { eventStream } from './helpers/event-stream.js';

const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** ns per event of `f`, over events parsed fresh for each chunk (median of ROUNDS rounds after one warm-up round). */
function perEvent(lines: string[], f: (e: PanoptesEvent) => number): number {
  const st = eventStream(lines, 0, 0, f);
  st.round(300);
  return median(Array.from({ length: ROUNDS }, () => 1e9 / st.round(300)));
}

/** ns per dependent read from a random permutation of `bytes` bytes (each read waits for the one before). */
function memoryRead(bytes: number): number {
  const n = bytes >> 2;
  const next = new Int32Array(n);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let seed = 1;
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) & 0x7fffffff;
    const j = seed % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (let i = 0; i < n; i++) next[order[i]!] = order[(i + 1) % n]!;
  const rounds: number[] = [];
  let p = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const reads = 2_000_000;
    const s = performance.now();
    for (let i = 0; i < reads; i++) p = next[p]!;
    rounds.push(((performance.now() - s) * 1e6) / reads);
  }
  if (p === -1) console.log(p);
  return median(rounds);
}

const T = Date.parse('2026-03-02T10:00:00Z');
const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(makeEvent(i, T + i * 50)));
// A table as large as the 10,000-rule index's `fields.repo` table, holding other repositories than most events carry.
const keys = Array.from({ length: 7_600 }, (_, i) => `org${i % 97}/project-${(i * 13) % 20_000}`);
const map = new Map(keys.map((k, i) => [k, i]));
const table = new StringTable<number>(keys.length);
keys.forEach((k, i) => table.set(k, i));

const rows: [string, number][] = [
  ['random memory read, 4 MB working set', memoryRead(4 << 20)],
  ['random memory read, 64 MB working set', memoryRead(64 << 20)],
  ['Map.get of a fresh 18-character string, 7,600 keys', perEvent(lines, (e) => (map.get(e.fields.repo as string) === undefined ? 0 : 1))],
  ['StringTable.get, same keys and strings', perEvent(lines, (e) => (table.get(e.fields.repo as string) === undefined ? 0 : 1))],
  [
    'one charCodeAt pass over the title (62 characters on average)',
    perEvent(lines, (e) => {
      const s = e.title;
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h + s.charCodeAt(i)) | 0;
      return h & 1;
    }),
  ],
];
console.log('| step | ns (median of 7 rounds) |');
console.log('|---|---:|');
for (const [what, ns] of rows) console.log(`| ${what} | ${ns.toFixed(ns < 10 ? 1 : 0)} |`);
