/**
 * Store benchmark: durable ingest rate (WAL, synchronous=FULL, batched transactions as the event writer does),
 * full-text search and keyset history pages over 1,000,000 events. Medians of repeated runs, printed as tables.
 * `npm run bench -- store`; PANOPTES_BENCH_EVENTS overrides the size.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../core/store/index.js';
import { newId } from '../core/ids.js';
import type { PanoptesEvent } from '../core/event.js';

const TOTAL = Number(process.env.PANOPTES_BENCH_EVENTS ?? 1_000_000);
const WORDS = 'release kernel weather rain build failed deploy mail invoice meeting lunch server backup disk alert update security patch podcast episode review photo garden train delay football concert'.split(' ');
const SOURCES = ['rss:hn', 'rss:lwn', 'mail:work', 'mail:home', 'irc:libera', 'weather:home', 'log:nginx', 'system:laptop'];

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

function makeEvent(i: number, t: number): PanoptesEvent {
  const iso = new Date(t).toISOString();
  const source = pick(SOURCES);
  return { id: newId(t), ts: iso, receivedAt: iso, source, type: source.split(':')[0] + '.item', title: `${sentence(5)} #${i}`, body: sentence(30), url: `https://example.test/${i}`, fields: { n: i % 1000, feed: source }, tags: i % 50 === 0 ? ['starred'] : [] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

function table(rows: (string | number)[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  rows.forEach((r, i) => {
    console.log('| ' + r.map((v, c) => String(v).padEnd(widths[c]!)).join(' | ') + ' |');
    if (i === 0) console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-'));
try {
  const store = openStore(dir);
  // Ingest: the event writer commits whatever arrived in one turn of the event loop; measure batch sizes it sees.
  const ingestRows: (string | number)[][] = [['append batch size', 'events', 'events/s (durable)']];
  let t = Date.now() - TOTAL * 1000;
  let i = 0;
  for (const batch of [1, 100, 1000]) {
    const n = batch === 1 ? 2_000 : 50_000;
    const events = Array.from({ length: n }, () => makeEvent(i++, (t += 1000)));
    const start = performance.now();
    for (let k = 0; k < n; k += batch) store.events.append(events.slice(k, k + batch));
    const secs = (performance.now() - start) / 1000;
    ingestRows.push([batch, n, Math.round(n / secs).toLocaleString('en-US')]);
  }
  // Full-text indexing follows the durable append in its own batches (and always runs before a search).
  const pending = i;
  const idxStart = performance.now();
  store.events.indexAll();
  const idxSecs = (performance.now() - idxStart) / 1000;
  ingestRows.push(['full-text indexing, 2,000 per batch', pending, Math.round(pending / idxSecs).toLocaleString('en-US')]);
  // Fill up to TOTAL in large batches (not timed as ingest).
  while (i < TOTAL) {
    const n = Math.min(5_000, TOTAL - i);
    store.events.append(Array.from({ length: n }, () => makeEvent(i++, (t += 1000))));
    store.events.indexPending(n);
  }
  console.log(`### Ingest (WAL, synchronous=FULL, one transaction per batch)\n`);
  table(ingestRows);

  const size = ['', '-wal'].reduce((s, e) => { try { return s + statSync(store.file + e).size; } catch { return s; } }, 0);
  console.log(`\n### Queries over ${TOTAL.toLocaleString('en-US')} events (${(size / 1e6).toFixed(0)} MB on disk), 25 runs each\n`);
  const queries: [string, () => unknown][] = [
    ['search one word, first page of 50', () => store.events.list({ search: pick(WORDS), limit: 50 })],
    ['search two words, first page of 50', () => store.events.list({ search: `${pick(WORDS)} ${pick(WORDS)}`, limit: 50 })],
    ['search a rare word (prefix)', () => store.events.list({ search: `#${Math.floor(rand() * TOTAL)}`.slice(1), limit: 50 })],
    ['search + source filter', () => store.events.list({ search: pick(WORDS), source: pick(SOURCES), limit: 50 })],
    ['history first page (no search)', () => store.events.list({ limit: 100 })],
  ];
  const rows: (string | number)[][] = [['query', 'median ms', 'p99 ms']];
  for (const [name, q] of queries) {
    q();
    const times = Array.from({ length: 25 }, () => {
      const s = performance.now();
      q();
      return performance.now() - s;
    });
    rows.push([name, median(times).toFixed(2), p99(times).toFixed(2)]);
  }
  // Keyset paging deep into history: page 1 → page 200 costs the same per page.
  const pageTimes: number[] = [];
  let before: string | undefined;
  for (let p = 0; p < 200; p++) {
    const s = performance.now();
    const page = store.events.list({ limit: 100, ...(before ? { before } : {}) });
    pageTimes.push(performance.now() - s);
    before = page.next ?? undefined;
  }
  rows.push(['keyset history page (200 pages deep)', median(pageTimes).toFixed(2), p99(pageTimes).toFixed(2)]);
  table(rows);
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
