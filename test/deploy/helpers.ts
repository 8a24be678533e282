// What the deploy tests share: the CLI as a child process, a real sshd (this machine, logged into over loopback with
// a throw-away key, host keys checked) and a real Mosquitto, and an install folder whose agent is stopped for sure.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { BIN } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { sshdAvailable, startSshd } from '../helpers/sshd.js';
import { packBundle } from '../../engine/fleet/deploy/bundle.js';
import { decodeStatus, statusTopic, type AgentStatus } from '../../engine/forwarding/wire.js';

export const skip = !sshdAvailable() ? 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)' : !mosquittoAvailable() ? 'skipped: no mosquitto' : false;

export function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 400_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Is a process whose command line mentions `needle` running? */
export function running(needle: string): boolean {
  const r = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return r.stdout.split('\n').some((l) => l.includes(needle) && !l.includes('ps -eo'));
}

export async function retainedStatus(url: string, agentId: string): Promise<AgentStatus | null> {
  const c = await connectAsync(url);
  try {
    let got: AgentStatus | null = null;
    let seen = false;
    c.on('message', (_t, p) => {
      seen = true;
      got = decodeStatus(p, agentId);
    });
    await c.subscribeAsync(statusTopic(agentId), { qos: 1 });
    // A retained message arrives right after SUBACK; give it a moment, then a publish round trip as a barrier.
    await c.publishAsync('panoptes-test/barrier', 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    return seen ? got : null;
  } finally {
    await c.endAsync();
  }
}


export interface Setup {
  broker: Awaited<ReturnType<typeof startMosquitto>>;
  sshd: Awaited<ReturnType<typeof startSshd>>;
  work: string;
  dir: string;
  ssh: string[];
  brokerUrl: string;
  base: string[];
  desktopDir: string;
}

export async function setup(t: { after(fn: () => void | Promise<void>): void }): Promise<Setup> {
  const broker = await startMosquitto({ persistence: false });
  t.after(() => broker.close());
  const sshd = await startSshd();
  t.after(() => sshd.close());
  // A failed step must not leave the deployed agent running: stop its supervisor (which stops the agent). Hooks
  // run in the order they were added, so this one comes before the temp folder's removal.
  let dir = '';
  t.after(() => {
    try {
      process.kill(Number(readFileSync(path.join(dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
    } catch {
      /* not running */
    }
  });
  const work = tempDir(t, 'panoptes-deploy-test-');
  dir = path.join(work, 'agent');
  const ssh = sshd.deployArgs();
  const brokerUrl = `mqtt://deployer:s3cret@127.0.0.1:${broker.port}`;
  // The desktop's data folder: deploy pairs the agent with its key (never the test user's own ~/.config/panoptes).
  const desktopDir = path.join(work, 'desktop');
  // No --service: auto, and these ssh sessions have no systemd user manager, so the fallback (a supervised process
  // with a pid file) is what they deploy (systemd.test.ts gives its sessions a manager).
  const base = ['--data', desktopDir, sshd.target, ...ssh, '--dir', dir, '--agent-id', 'fleet1', '--timeout', '120'];

  return { broker, sshd, work, dir, ssh, brokerUrl, base, desktopDir };
}

/**
 * Clean-up for set-up shared by a whole file (one sshd, one broker, one deployed agent for several tests): what
 * `setup` registers runs once after the file's last test, in the order registered, as a test's own `t.after` would.
 */
export function fileScope(): { after(fn: () => void | Promise<void>): void; register(): void } {
  const fns: (() => void | Promise<void>)[] = [];
  return {
    after: (fn) => void fns.push(fn),
    register: () =>
      after(async () => {
        for (const fn of fns) await fn();
      }),
  };
}

/**
 * One packed build for every deploy test file of a run (packing is the slowest step of a deploy on a busy machine,
 * and every file deployed the same build). The files of one `npm test` run are children of one test runner, so its
 * pid names the tarball; the first file to ask packs it (a folder made with mkdir is the lock), the others wait for
 * it. Tarballs of earlier runs are removed.
 */
export async function sharedBundle(): Promise<string> {
  const root = path.join(os.tmpdir(), 'panoptes-test-bundles');
  mkdirSync(root, { recursive: true });
  const file = path.join(root, `run-${process.ppid}.tgz`);
  const lock = file + '.lock';
  const end = Date.now() + 240_000;
  for (;;) {
    if (existsSync(file)) return file;
    try {
      mkdirSync(lock);
    } catch {
      // Another file is packing it; a lock older than the wait (its packer died) is taken over.
      if (Date.now() > end || Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 240_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      for (const n of readdirSync(root)) {
        const p = path.join(root, n);
        if (p !== lock && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
      }
      const dir = path.join(lock, 'work');
      mkdirSync(dir);
      packBundle(path.join(dir, 'panoptes.tgz'));
      renameSync(path.join(dir, 'panoptes.tgz'), file);
      return file;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface Deployed extends Setup {
  /** The packed build it was deployed from. */
  bundle: string;
  /** Its release folder's name right after the deploy. */
  release: string;
}

/**
 * For a file whose tests run in order on one deployed agent: one sshd and broker, the shared packed build, one
 * deploy (as fleet1, paired with `desktopDir`) before the first test, everything stopped and removed after the last.
 */
export function deployedAgent(): () => Deployed {
  let d: Deployed | null = null;
  const scope = fileScope();
  before(async () => {
    if (skip) return;
    const s = await setup(scope);
    const bundle = await sharedBundle();
    const first = await cli(['deploy', ...s.base, '--broker', s.brokerUrl, '--bundle', bundle]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    d = { ...s, bundle, release: path.basename(readlinkSync(path.join(s.dir, 'current'))) };
  }, { timeout: 290_000 });
  scope.register();
  return () => d!;
}

/** `panoptes undeploy` of the file's agent, and what it must leave: no process, no folder, no retained status. */
export async function undeployAndCheck(s: Setup): Promise<void> {
  const gone = await cli(['undeploy', s.sshd.target, ...s.ssh, '--dir', s.dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(s.dir), false);
  await waitFor(() => !running(path.join(s.dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(s.broker.url, 'fleet1'), null);
}
