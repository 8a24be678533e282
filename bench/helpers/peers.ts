/**
 * The programs `bench/peers.bench.ts` measures side by side, each started as its own process on loopback with the job
 * built in its own terms: Panoptes as the real headless agent (`panoptes agent`, a webhook monitor and rules with a
 * webhook action, durable store as shipped), Node-RED (installed on first use into a cache folder of its own, never
 * into this project's node_modules) with a flow of `http in` → `switch`/`function` → `http request`, and the floor
 * (`peer-floor.ts`). Also what a process costs, read from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node-RED release measured: the newest 4.x in the registry when this bench was written (5.x was in beta). */
export const NODE_RED_VERSION = '4.1.15';
/** Rules per Node-RED switch node (see nodeRedFlow). */
const SWITCH_RULES = 250;
const HOOK_SECRET = 'bench-hook-secret-0123456789';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The project's root (dist/bench/helpers → three up), or another checkout's for a before/after column. */
const ROOT = path.resolve(here, '..', '..', '..');
const cacheRoot = () => path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'panoptes-bench');

/** A job, the same on every side: which events are delivered to the receiver. */
export interface JobSpec {
  name: string;
  /** Regex conditions on the title (case-insensitive); an event is delivered once for each one it matches. */
  patterns?: string[];
  /** Deliver the event that makes `n` within `withinMs` for its `key` field; the key's window then starts again. */
  count?: { n: number; withinMs: number };
}

export interface PeerProcess {
  name: string;
  pid: number;
  hookUrl: string;
  headers: Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

export interface Peer {
  name: string;
  /** Can this peer run the job? (The floor runs the single-condition job only.) */
  runs(job: JobSpec): boolean;
  launch(job: JobSpec, receiverUrl: string): Promise<PeerProcess>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function spawnPeer(name: string, args: string[], hookUrl: string, headers: Record<string, string>, dir: string, env: Record<string, string> = {}): PeerProcess {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd: dir });
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    name,
    pid: child.pid!,
    hookUrl,
    headers,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** PANOPTES_PEERS_PROFILE=DIR: a V8 CPU profile of the agent (and the floor) per run into DIR, written when it stops. */
const profileArgs = () => (process.env.PANOPTES_PEERS_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PANOPTES_PEERS_PROFILE}`] : []);

const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `panoptes-peers-${prefix}-`));

/** Panoptes as shipped: the headless agent, a webhook monitor, the job's rules each with a webhook action. */
export function panoptesPeer(name = 'Panoptes', root = ROOT): Peer {
  return {
    name,
    runs: () => true,
    async launch(job, receiverUrl) {
      const dir = tempDir('panoptes');
      const then = [{ webhook: { url: receiverUrl, headers: { 'content-type': 'application/json' }, body: '{"id": {{ fields.id }}}' } }];
      const rules = job.count
        ? [{ id: 'count', when: { type: 'webhook.received' }, pattern: { count: job.count.n, within: `${job.count.withinMs / 1000}s`, by: 'fields.key' }, then }]
        : (job.patterns ?? []).map((p, i) => ({ id: `c${i}`, when: { type: 'webhook.received' }, if: { field: 'title', matches: p, flags: 'i' }, then }));
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:bench', type: 'webhook', name: 'Bench', config: { hookId: 'bench' } }], rules }));
      writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:bench': { secret: HOOK_SECRET } }), { mode: 0o600 });
      const port = await freePort();
      return spawnPeer(name, [...profileArgs(), path.join(root, 'bin', 'panoptes.js'), 'agent', '--data', dir, '--port', String(port)], `http://127.0.0.1:${port}/hooks/bench`, { 'x-panoptes-secret': HOOK_SECRET }, dir, {
        PANOPTES_LOG: 'warn',
      });
    },
  };
}

/** Node-RED's folder in the bench cache, installed from the npm registry on first use. */
export function ensureNodeRed(): string {
  const dir = path.join(cacheRoot(), `node-red-${NODE_RED_VERSION}`);
  const red = path.join(dir, 'node_modules', 'node-red', 'red.js');
  if (existsSync(red)) return red;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, description: 'Node-RED for panoptes bench/peers' }));
  console.log(`Installing node-red@${NODE_RED_VERSION} into ${dir} (first use only)…`);
  // Through the npm that runs `npm run bench` when there is one, else the npm on PATH.
  const npm = process.env.npm_execpath;
  const args = ['install', '--no-audit', '--no-fund', '--omit=dev', `node-red@${NODE_RED_VERSION}`];
  const r = npm && npm.endsWith('.js') ? spawnSync(process.execPath, [npm, ...args], { cwd: dir, stdio: 'inherit' }) : spawnSync('npm', args, { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(red)) throw new Error(`could not install node-red@${NODE_RED_VERSION} into ${dir}`);
  return red;
}

/** The job as a Node-RED user builds it: http in (answered at once) → switch (regex rules) or function (context) → http request. */
export function nodeRedFlow(job: JobSpec, receiverUrl: string): unknown[] {
  const z = 'bench';
  const request = { id: 'req', type: 'http request', z, name: 'to receiver', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: receiverUrl, tls: '', persist: true, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], wires: [[]] };
  let middle: Record<string, unknown>[];
  if (job.count) {
    // The usual "N within T per key" function: timestamps per key in the node's context (memory, as shipped).
    const func = [
      'const now = Date.now();',
      'const key = String(msg.payload.key);',
      `let times = (context.get(key) || []).filter((t) => now - t <= ${job.count.withinMs});`,
      'times.push(now);',
      `if (times.length >= ${job.count.n}) { context.set(key, []); return msg; }`,
      'context.set(key, times);',
      'return null;',
    ].join('\n');
    middle = [{ id: 'cond0', type: 'function', z, name: `count ${job.count.n} per key`, func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['req']] }];
  } else {
    // One switch node holds at most SWITCH_RULES rules: a switch node with 1,000 regex rules kills Node-RED 4.1.15 on
    // its first message (V8 "RegExpCompiler Allocation failed" at about rule 750, with memory to spare; the node
    // evaluates its rules by nested callbacks, which points at the stack), so the 1,000 conditions are split over
    // switch nodes fed in parallel, as a user would have to.
    const patterns = job.patterns ?? [];
    middle = [];
    for (let start = 0; start < patterns.length; start += SWITCH_RULES) {
      const part = patterns.slice(start, start + SWITCH_RULES);
      middle.push({
        id: `cond${middle.length}`,
        type: 'switch',
        z,
        name: 'title matches',
        property: 'payload.title',
        propertyType: 'msg',
        rules: part.map((v) => ({ t: 'regex', v, vt: 'str', case: true })), // case: true = ignore case
        checkall: 'true',
        repair: false,
        outputs: part.length,
        wires: part.map(() => ['req']),
      });
    }
  }
  return [
    { id: z, type: 'tab', label: 'bench', disabled: false, info: '' },
    { id: 'in', type: 'http in', z, name: 'hook', url: '/hook', method: 'post', upload: false, swaggerDoc: '', wires: [['ok', ...middle.map((m) => m.id as string)]] },
    { id: 'ok', type: 'http response', z, name: '', statusCode: '200', headers: {}, wires: [] },
    ...middle,
    request,
  ];
}

export function nodeRedPeer(): Peer {
  return {
    name: `Node-RED ${NODE_RED_VERSION}`,
    runs: () => true,
    async launch(job, receiverUrl) {
      const red = ensureNodeRed();
      const dir = tempDir('node-red');
      const port = await freePort();
      writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(nodeRedFlow(job, receiverUrl)));
      // Node-RED's defaults (editor on, memory context), bound to loopback, quiet logs, no diagnostics or telemetry.
      const settings = {
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret: false,
        logging: { console: { level: 'warn', metrics: false, audit: false } },
        diagnostics: { enabled: false, ui: false },
        telemetry: { enabled: false, updateNotification: false },
      };
      writeFileSync(path.join(dir, 'settings.cjs'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
      return spawnPeer(`Node-RED ${NODE_RED_VERSION}`, [red, '--settings', path.join(dir, 'settings.cjs'), '--userDir', dir], `http://127.0.0.1:${port}/hook`, {}, dir);
    },
  };
}

export function floorPeer(): Peer {
  return {
    name: 'floor (bare Node + SQLite WAL)',
    runs: (job) => !job.count && (job.patterns?.length ?? 0) === 1,
    async launch(job, receiverUrl) {
      const dir = tempDir('floor');
      const port = await freePort();
      return spawnPeer('floor', [...profileArgs(), path.join(here, 'peer-floor.js'), String(port), dir, receiverUrl, job.patterns![0]!, 'i'], `http://127.0.0.1:${port}/hook`, {}, dir);
    },
  };
}

/**
 * The bench's own ceiling: the floor's server storing nothing and forwarding every event at once. What it sustains is
 * the most the sender and receiver of this bench can measure on the machine (they share its cores with the side).
 */
export function ceilingPeer(): Peer {
  return {
    name: 'ceiling (no storage, no rules)',
    runs: (job) => !job.count,
    async launch(job, receiverUrl) {
      const dir = tempDir('ceiling');
      const port = await freePort();
      return spawnPeer('ceiling', [path.join(here, 'peer-floor.js'), String(port), dir, receiverUrl, '', '', 'ceiling'], `http://127.0.0.1:${port}/hook`, {}, dir);
    },
  };
}

// ---- what a process costs, from /proc ----

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of the process so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
/** Resident memory now, MB. */
export const rssMB = (pid: number) => statusField(pid, 'VmRSS') / 1024;
/** Peak resident memory since start, MB. */
export const peakRssMB = (pid: number) => statusField(pid, 'VmHWM') / 1024;

/** Context switches (voluntary + nonvoluntary) of all the process's threads so far: each wake-up is one. */
export function contextSwitches(pid: number): number {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return n;
}
