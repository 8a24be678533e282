/**
 * Panoptes side by side with what people would use instead (issue #22): Node-RED, and the machine's floor (a bare
 * Node HTTP server appending to SQLite WAL and forwarding, `helpers/peer-floor.ts`). Every program runs as its own
 * process on loopback, started fresh for each job and round; this process sends the events and is the receiver, so
 * latency is from the request leaving to the delivery arriving, on one clock.
 *
 * Jobs, identical on every side (see `helpers/peers.ts` for how each side is built):
 * - webhook: POST a JSON event → regex on the title → POST to the receiver (every event matches);
 * - 1,000 conditions: the same with 1,000 regexes (`\bsvcN\b`), each event matching exactly one;
 * - count: deliver the event that makes 3 within 10 minutes for its key (100 keys, round robin);
 * - idle: cold start to the first accepted request, RSS after start and after an idle period, CPU and wake-ups
 *   (context switches of all threads, /proc/<pid>/task/…/status) per minute while idle.
 * Senders: PANOPTES_PEERS_CONCURRENCY (16) requests in flight on keep-alive connections, each sending its next event
 * when the last was answered. "Sustained events/s" is the job's events over the time from the first request to the
 * last delivery, so a side that answers fast but delivers late is measured by its deliveries.
 *
 * Settings (environment): PANOPTES_PEERS_ROUNDS (3), PANOPTES_PEERS_EVENTS per job and round (5,000),
 * PANOPTES_PEERS_WARMUP events sent first, not measured (5,000),
 * PANOPTES_PEERS_IDLE_S (60; the issue's figure is 600), PANOPTES_PEERS_JOBS (below), PANOPTES_PEERS_SIDES=panoptes (no
 * peers: for profiling, with PANOPTES_PEERS_PROFILE=DIR; or a list of panoptes, node-red, floor, ceiling — the last not by
 * default: a server that stores nothing, the most this bench can measure), PANOPTES_PEERS_BEFORE=<another checkout, built> adds a
 * "Panoptes (before)" column for before/after comparisons in the same run.
 */
import http from 'node:http';
import { execSync } from 'node:child_process';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { quantile } from './helpers/stats.js';
import {
  contextSwitches,
  ceilingPeer,
  cpuSeconds,
  floorPeer,
  nodeRedPeer,
  panoptesPeer,
  peakRssMB,
  rssMB,
  type JobSpec,
  type Peer,
  type PeerProcess,
} from './helpers/peers.js';

const ROUNDS = Number(process.env.PANOPTES_PEERS_ROUNDS ?? 3);
const EVENTS = Number(process.env.PANOPTES_PEERS_EVENTS ?? 5_000);
const IDLE_S = Number(process.env.PANOPTES_PEERS_IDLE_S ?? 60);
const CONCURRENCY = Number(process.env.PANOPTES_PEERS_CONCURRENCY ?? 16);
// Every side gets this many events before the measured ones: V8 compiles a hot function with its optimising compiler
// only after thousands of calls, so after 300 warm-up events the rounds measured that ramp (Panoptes: 1,245 events/s
// on 2,000 measured events, 3,000+ once warm; Node-RED and the floor ramp too), not the sustained rate.
const WARMUP = Number(process.env.PANOPTES_PEERS_WARMUP ?? 5_000);
const KEYS = 100;
/** How long deliveries may stop coming before the rest count as lost. */
const STALL_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(', ');

// ---- the receiver: records when each event's delivery arrives ----
const sentAt = new Map<number, number>();
const arrivedAt = new Map<number, number>();
let duplicates = 0;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    const t = performance.now();
    res.writeHead(204).end();
    let id: unknown;
    try {
      id = (JSON.parse(body) as { id?: unknown }).id;
    } catch {
      return;
    }
    if (typeof id !== 'number') return;
    if (arrivedAt.has(id)) duplicates++;
    else arrivedAt.set(id, t);
  });
});
receiver.keepAliveTimeout = 60_000;
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/receive`;

// ---- the jobs ----
interface Job extends JobSpec {
  title: string;
  event(id: number, i: number, warm: boolean): { id: number; title: string; key: string };
  /** Ids of the events that must be delivered. */
  expected(events: { id: number; key: string }[]): number[];
}
const matchAll = (events: { id: number }[]) => events.map((e) => e.id);
const WEBHOOK: Job = {
  name: 'webhook',
  title: 'webhook → regex on the title → POST',
  patterns: ['deploy (failed|error)'],
  event: (id, i) => ({ id, title: `Deploy failed on host-${i % 50} (#${id})`, key: `k${i % KEYS}` }),
  expected: matchAll,
};
const CONDITIONS: Job = {
  name: 'conditions',
  title: 'the same with 1,000 conditions',
  patterns: Array.from({ length: 1_000 }, (_, j) => `\\bsvc${j}\\b`),
  event: (id, i) => ({ id, title: `Alert from svc${(i * 7) % 1_000}: disk almost full (#${id})`, key: `k${i % KEYS}` }),
  expected: matchAll,
};
const COUNT: Job = {
  name: 'count',
  title: '"count 3 within 10 minutes per key"',
  count: { n: 3, withinMs: 600_000 },
  // Warm-up events use keys of their own, so measured keys start with empty windows.
  event: (id, i, warm) => ({ id, title: `Login failed (#${id})`, key: `${warm ? 'w' : 'k'}${i % KEYS}` }),
  expected(events) {
    const seen = new Map<string, number>();
    const out: number[] = [];
    for (const e of events) {
      const n = (seen.get(e.key) ?? 0) + 1;
      if (n === 3) out.push(e.id);
      seen.set(e.key, n % 3);
    }
    return out;
  },
};
/** PANOPTES_PEERS_JOBS=webhook,conditions,count,idle (all by default) runs only those, for profiling and quick looks. */
const only = (process.env.PANOPTES_PEERS_JOBS ?? 'webhook,conditions,count,idle').split(',');
const JOBS = [WEBHOOK, CONDITIONS, COUNT].filter((j) => only.includes(j.name));

// ---- sending ----
let nextId = 1;
const sendAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(p: PeerProcess, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(p.hookUrl, { method: 'POST', agent: sendAgent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...p.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Sends the events CONCURRENCY at a time; returns how many were not accepted (non-2xx). */
async function send(p: PeerProcess, events: { id: number; title: string; key: string }[]): Promise<number> {
  let i = 0;
  let refused = 0;
  const worker = async () => {
    while (i < events.length) {
      const e = events[i++]!;
      sentAt.set(e.id, performance.now());
      const status = await post(p, JSON.stringify(e));
      if (status < 200 || status > 299) refused++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return refused;
}

/** Waits until every expected id arrived, or deliveries stalled for STALL_MS; returns the arrival time of the last. */
async function delivered(ids: number[]): Promise<{ got: number; last: number }> {
  let got = 0;
  let lastProgress = performance.now();
  for (;;) {
    const now = ids.reduce((n, id) => n + (arrivedAt.has(id) ? 1 : 0), 0);
    if (now !== got) lastProgress = performance.now();
    got = now;
    if (got === ids.length || performance.now() - lastProgress > STALL_MS) break;
    await sleep(got === 0 ? 20 : 50);
  }
  return { got, last: Math.max(...ids.map((id) => arrivedAt.get(id) ?? -Infinity)) };
}

/** Starts the peer and sends a probe until one is accepted: the cold start, from spawn to the first 2xx. */
async function launch(peer: Peer, job: JobSpec): Promise<{ proc: PeerProcess; coldMs: number }> {
  const t0 = performance.now();
  const proc = await peer.launch(job, receiverUrl);
  const deadline = t0 + 120_000;
  for (;;) {
    const status = await post(proc, JSON.stringify({ id: -1, title: 'probe', key: 'probe' }));
    if (status >= 200 && status < 300) return { proc, coldMs: performance.now() - t0 };
    if (performance.now() > deadline) {
      await proc.stop();
      throw new Error(`${peer.name} did not accept a request within 120 s:\n${proc.output().slice(-3000)}`);
    }
    await sleep(10);
  }
}

interface JobResult {
  rate: number;
  p50: number;
  p99: number;
  cpuPer10k: number;
  peakMB: number;
  lost: number;
  refused: number;
}

async function runJob(peer: Peer, job: Job): Promise<JobResult> {
  const { proc } = await launch(peer, job);
  try {
    const make = (n: number, warm: boolean) => Array.from({ length: n }, (_, i) => job.event(nextId++, i, warm));
    const warm = make(WARMUP, true);
    await send(proc, warm);
    await delivered(job.expected(warm));
    const events = make(EVENTS, false);
    const ids = job.expected(events);
    const cpu0 = cpuSeconds(proc.pid);
    const t0 = performance.now();
    const refused = await send(proc, events);
    const { got, last } = await delivered(ids);
    const cpu = cpuSeconds(proc.pid) - cpu0;
    const lat = ids.filter((id) => arrivedAt.has(id)).map((id) => arrivedAt.get(id)! - sentAt.get(id)!);
    return {
      rate: got ? EVENTS / ((last - t0) / 1000) : 0,
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      cpuPer10k: (cpu / EVENTS) * 10_000,
      peakMB: peakRssMB(proc.pid),
      lost: ids.length - got,
      refused,
    };
  } finally {
    await proc.stop();
    sentAt.clear();
    arrivedAt.clear();
  }
}

interface IdleResult {
  coldMs: number;
  rssStartMB: number;
  rssIdleMB: number;
  cpuPerMin: number;
  wakeupsPerMin: number;
}

/** All peers started one after another (cold start each), then idle together for IDLE_S. */
async function runIdle(peers: Peer[]): Promise<IdleResult[]> {
  const started: { proc: PeerProcess; coldMs: number }[] = [];
  try {
    for (const peer of peers) started.push(await launch(peer, WEBHOOK));
    await sleep(5_000); // let start-up work settle (monitors starting, first timers)
    const before = started.map(({ proc }) => ({ rss: rssMB(proc.pid), cpu: cpuSeconds(proc.pid), cs: contextSwitches(proc.pid) }));
    await sleep(IDLE_S * 1000);
    return started.map(({ proc, coldMs }, i) => ({
      coldMs,
      rssStartMB: before[i]!.rss,
      rssIdleMB: rssMB(proc.pid),
      cpuPerMin: ((cpuSeconds(proc.pid) - before[i]!.cpu) * 60) / IDLE_S,
      wakeupsPerMin: ((contextSwitches(proc.pid) - before[i]!.cs) * 60) / IDLE_S,
    }));
  } finally {
    for (const { proc } of started) await proc.stop();
  }
}

// ---- the run ----
const peers: Peer[] = [panoptesPeer()];
if (process.env.PANOPTES_PEERS_BEFORE) peers.push(panoptesPeer('Panoptes (before)', process.env.PANOPTES_PEERS_BEFORE));
// PANOPTES_PEERS_SIDES: `panoptes` alone, or a list (`panoptes,floor`: the floor ratio without waiting for Node-RED).
const sides = (process.env.PANOPTES_PEERS_SIDES ?? 'panoptes,node-red,floor').split(',');
if (sides.includes('node-red')) peers.push(nodeRedPeer());
if (sides.includes('floor')) peers.push(floorPeer());
// Not by default: `ceiling` adds the bench's own limit (helpers/peers.ts), for judging targets beyond it.
if (sides.includes('ceiling')) peers.push(ceilingPeer());

const loads: string[] = [];
console.log(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}; load average at start ${load()}`);
console.log(`${ROUNDS} rounds, ${EVENTS.toLocaleString('en')} events per job and round (after ${WARMUP} warm-up), ${CONCURRENCY} in flight, idle ${IDLE_S} s\n`);

const jobResults = new Map<string, JobResult[]>();
const jobKey = (job: Job, name: string) => `${job.name}|${name}`;
/** A side's results of a job, one per round it ran (none when it did not run the job). */
const resultsOf = (job: Job, name: string) => jobResults.get(jobKey(job, name)) ?? [];
const idleResults = new Map<string, IdleResult[]>();
for (let r = 0; r < ROUNDS; r++) {
  // Rotate who goes first, so a drift of the machine's load does not always favour the same side.
  const order = peers.map((_, i) => peers[(i + r) % peers.length]!);
  for (const job of JOBS) {
    for (const peer of order) {
      if (!peer.runs(job)) continue;
      const res = await runJob(peer, job);
      jobResults.set(jobKey(job, peer.name), [...resultsOf(job, peer.name), res]);
      console.error(`round ${r + 1} ${job.name} ${peer.name}: ${Math.round(res.rate)}/s p50 ${res.p50.toFixed(1)} ms p99 ${res.p99.toFixed(1)} ms lost ${res.lost} (load ${load()})`);
    }
  }
  if (only.includes('idle')) {
    const idle = await runIdle(order);
    order.forEach((p, i) => idleResults.set(p.name, [...(idleResults.get(p.name) ?? []), idle[i]!]));
  }
  loads.push(load());
  console.error(`round ${r + 1} idle done (load ${load()})`);
}

// ---- the tables ----
const med = (xs: number[]) => quantile(xs, 0.5);
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const cell = (xs: number[], digits = 0) => (xs.length ? `${fmt(med(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})` : '—');
const ours = peers[0]!.name;
const nodeRed = peers.find((p) => p.name.startsWith('Node-RED'))?.name ?? 'Node-RED';
const floor = peers.find((p) => p.name.startsWith('floor'))?.name ?? 'floor';
/** A ratio's digits: two significant ones below 0.1 (a latency of 3.6 ms against 2 s is 0.0018×, not 0.00×). */
const ratioDigits = (x: number) => (x < 0.1 ? x.toPrecision(2) : x.toFixed(x < 10 ? 2 : 0));
const times = (x: number) => (Number.isFinite(x) ? `${ratioDigits(x)}×` : '—');
/** A ratio above 1 as a percentage more, below 1 as one less. */
const percentMore = (x: number) => `${x >= 1 ? '+' : '−'}${fmt(100 * Math.abs(x - 1))} %`;
/**
 * Ratios are taken round by round (the two sides ran minutes apart at most, under the same load) and their median
 * reported, with the rounds' range: a drift of the shared machine moves both sides of a round alike, where it can
 * put the two medians of a column in different rounds. Targets are judged on these.
 */
const roundRatios = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!).filter(Number.isFinite);
const pairedRatio = (a: number[], b: number[]) => med(roundRatios(a, b));
const ratioCell = (a: number[], b: number[]) => {
  const rs = roundRatios(a, b);
  if (!rs.length) return '—';
  return rs.length > 1 ? `${times(med(rs))} (${ratioDigits(Math.min(...rs))}–${ratioDigits(Math.max(...rs))})` : times(rs[0]!);
};

const metrics: [string, (r: JobResult) => number, number][] = [
  ['sustained events/s', (r) => r.rate, 0],
  ['p50 latency, ms', (r) => r.p50, 1],
  ['p99 latency, ms', (r) => r.p99, 1],
  ['CPU s per 10,000 events', (r) => r.cpuPer10k, 2],
  ['peak RSS, MB', (r) => r.peakMB, 0],
];
const targets: [string, boolean][] = [];
for (const job of JOBS) {
  const shown = peers.filter((p) => p.runs(job));
  console.log(`\n### ${job.title}\n`);
  console.log(`| measure | ${shown.map((p) => p.name).join(' | ')} | ${ours} / Node-RED |${shown.some((p) => p.name === floor) ? ` ${ours} / floor |` : ''}`);
  console.log(`|---|${shown.map(() => '---:|').join('')}---:|${shown.some((p) => p.name === floor) ? '---:|' : ''}`);
  for (const [label, pick, digits] of metrics) {
    const of = (name: string) => resultsOf(job, name).map(pick);
    const r = (name: string) => ratioCell(of(ours), of(name));
    console.log(`| ${label} | ${shown.map((p) => cell(of(p.name), digits)).join(' | ')} | ${r(nodeRed)} |${shown.some((p) => p.name === floor) ? ` ${r(floor)} |` : ''}`);
  }
  const lost = shown.map((p) => `${p.name} ${resultsOf(job, p.name).reduce((n, x) => n + x.lost + x.refused, 0)}`);
  console.log(`\nNot delivered or refused, all rounds: ${lost.join(', ')}.`);
  const rates = (name: string) => resultsOf(job, name).map((x) => x.rate);
  const over = (a: string, b: string) => pairedRatio(rates(a), rates(b));
  // A target is judged only when both of its sides ran.
  const ran = (name: string) => resultsOf(job, name).length > 0;
  if (job === WEBHOOK && ran(nodeRed)) targets.push([`webhook job ≥ 3× Node-RED's sustained events/s (${times(over(ours, nodeRed))})`, over(ours, nodeRed) >= 3]);
  if (job === WEBHOOK && ran(floor)) targets.push([`webhook job within 2× of the floor (floor / Panoptes ${times(over(floor, ours))})`, over(floor, ours) <= 2]);
  if (job === CONDITIONS && ran(nodeRed)) targets.push([`1,000 conditions ≥ 50× Node-RED (${times(over(ours, nodeRed))})`, over(ours, nodeRed) >= 50]);
}

// What 1,000 conditions cost each side over one, per event: the CPU of a round's 1,000-conditions run over that of its
// webhook run (the same side, minutes apart). Unlike a throughput ratio, this stays measurable when the faster side
// would outrun what the bench can send and receive.
if (JOBS.includes(WEBHOOK) && JOBS.includes(CONDITIONS)) {
  const cpu = (job: Job, name: string) => resultsOf(job, name).map((r) => r.cpuPer10k);
  const extra = (name: string) => {
    const rs = roundRatios(cpu(CONDITIONS, name), cpu(WEBHOOK, name));
    return rs.length ? `${percentMore(med(rs))} (rounds ${percentMore(Math.min(...rs))} to ${percentMore(Math.max(...rs))})` : '—';
  };
  const sides = [ours, nodeRed].filter((name) => resultsOf(CONDITIONS, name).length);
  console.log(`\nCPU per event with 1,000 conditions over one condition, median of the rounds: ${sides.map((n) => `${n} ${extra(n)}`).join('; ')}.`);
}

if (only.includes('idle')) {
  console.log(`\n### idle (${IDLE_S} s idle, after 5 s to settle)\n`);
  console.log(`| measure | ${peers.map((p) => p.name).join(' | ')} | ${ours} / Node-RED |`);
  console.log(`|---|${peers.map(() => '---:|').join('')}---:|`);
  const idleMetrics: [string, (r: IdleResult) => number, number][] = [
    ['cold start to first accepted request, ms', (r) => r.coldMs, 0],
    ['RSS after start, MB', (r) => r.rssStartMB, 0],
    [`RSS after ${IDLE_S} s idle, MB`, (r) => r.rssIdleMB, 0],
    ['CPU s per minute idle', (r) => r.cpuPerMin, 3],
    ['wake-ups per minute idle (context switches, all threads)', (r) => r.wakeupsPerMin, 0],
  ];
  for (const [label, pick, digits] of idleMetrics) {
    const of = (name: string) => (idleResults.get(name) ?? []).map(pick);
    console.log(`| ${label} | ${peers.map((p) => cell(of(p.name), digits)).join(' | ')} | ${ratioCell(of(ours), of(nodeRed))} |`);
  }
  const idleOf = (name: string, pick: (r: IdleResult) => number) => med((idleResults.get(name) ?? []).map(pick));
  if (idleResults.has(nodeRed)) targets.push([`idle RSS ≤ Node-RED's (${fmt(idleOf(ours, (r) => r.rssIdleMB))} vs ${fmt(idleOf(nodeRed, (r) => r.rssIdleMB))} MB)`, idleOf(ours, (r) => r.rssIdleMB) <= idleOf(nodeRed, (r) => r.rssIdleMB)]);
  targets.push([`≤ 1 wake-up per second idle (${fmt(idleOf(ours, (r) => r.wakeupsPerMin) / 60, 2)}/s)`, idleOf(ours, (r) => r.wakeupsPerMin) <= 60]);
}

console.log('\nTargets (issue #22), this run (ratios: the median of the rounds\' own ratios):');
for (const [what, met] of targets) console.log(`- ${what}: ${met ? 'met' : 'MISSED'}`);
console.log(`\nLoad average after each round: ${loads.join(' | ')}; uptime at the end: ${execSync('uptime').toString().trim()}`);
console.log(
  `\nWhat each side keeps: Panoptes stores every event (SQLite WAL, synchronous=FULL, before the 200) and every action in its outbox, so a crash loses nothing accepted and deliveries are retried; the count windows are stored too. Node-RED keeps its flows (flows.json) only: messages live in memory (a crash or restart loses what is in flight, and a failed POST is not retried), the count function's context is in memory as shipped, and no event history is kept. The floor stores each event like Panoptes and forwards once, without retries.`,
);
sendAgent.destroy();
receiver.closeAllConnections();
receiver.close();
