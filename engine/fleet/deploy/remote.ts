// The half of `panoptes deploy` that runs on the remote machine. The local CLI sends this file's compiled text
// over ssh to `node --input-type=module -`, after one line that sets `globalThis.__panoptesDeploy` to the step's
// parameters (secrets travel inside the ssh channel that way, never on a command line where `ps` would show them).
// So: Node built-ins only, nothing of ours imported. It ends by printing one `PANOPTES-RESULT {json}` line.
//
// Layout of the install folder (DIR):
//   releases/<release>/   an unpacked build            current, previous -> releases/…   (symlinks)
//   data/                 the agent's data folder (config.json, secrets.json, the store), kept across upgrades
//   deploy.json           what was deployed (agent id, broker without password, service kind)
//   supervise.mjs, supervisor.pid, agent.log     when there is no systemd --user
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, openSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

interface Params {
  step: 'check' | 'install' | 'rollback' | 'remove' | 'log';
  dir: string;
  agentId?: string;
  upgrade?: boolean;
  build?: { version: string; abi: string; node: string; platform: string; arch: string };
  broker?: { host: string; port: number; url: string; username?: string; passwordKey?: string; password?: string };
  /** The desktop this agent takes configuration changes from (its public key, this deployment's pairing id). */
  controller?: { publicKey: string; pairing: string; name?: string };
  bundle?: string;
  release?: string;
  service?: 'auto' | 'systemd' | 'pidfile';
  node?: string;
  keepData?: boolean;
  minNodeMajor?: number;
}

interface DeployRecord {
  agentId: string;
  broker: string;
  service: 'systemd' | 'pidfile';
  unit?: string;
  node: string;
  release: string;
  deployedAt: string;
}

const P = (globalThis as unknown as { __panoptesDeploy: Params }).__panoptesDeploy;
const DIR = path.resolve(os.homedir(), P.dir);
const at = (...p: string[]) => path.join(DIR, ...p);
const host = os.hostname();

class Refused extends Error {}

function result(value: Record<string, unknown>): never {
  process.stdout.write(`PANOPTES-RESULT ${JSON.stringify(value)}\n`);
  process.exit(0);
}

function readRecord(): DeployRecord | null {
  try {
    return JSON.parse(readFileSync(at('deploy.json'), 'utf8')) as DeployRecord;
  } catch {
    return null;
  }
}

function writePrivate(file: string, text: string): void {
  const tmp = file + '.tmp';
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function link(name: string, release: string): void {
  const tmp = at(`${name}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(path.join('releases', release), tmp);
  renameSync(tmp, at(name));
}

function linked(name: string): string | null {
  try {
    return path.basename(readlinkSync(at(name)));
  } catch {
    return null;
  }
}

const unitName = (agentId: string) => `panoptes-agent-${agentId}.service`;
const unitFile = (agentId: string) => path.join(os.homedir(), '.config', 'systemd', 'user', unitName(agentId));

function systemdUserWorks(): boolean {
  const r = spawnSync('systemctl', ['--user', 'show-environment'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

function systemctl(...args: string[]): void {
  const r = spawnSync('systemctl', ['--user', ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`systemctl --user ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** The supervisor used where there is no systemd --user: restarts the agent when it ends, stops it on SIGTERM. */
const SUPERVISOR = `// Written by panoptes deploy: keeps the Panoptes agent running (restarted when it ends, with a growing pause).
import { spawn } from 'node:child_process';
import { openSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
const dir = path.dirname(new URL(import.meta.url).pathname);
writeFileSync(path.join(dir, 'supervisor.pid'), String(process.pid) + '\\n', { mode: 0o600 });
let child = null, stopping = false, pause = 1000;
function run() {
  const log = openSync(path.join(dir, 'agent.log'), 'a', 0o600);
  const started = Date.now();
  child = spawn(process.execPath, [path.join(dir, 'current', 'bin', 'panoptes.js'), 'agent', '--data', path.join(dir, 'data')], { stdio: ['ignore', log, log], env: { ...process.env, PANOPTES_LOG: process.env.PANOPTES_LOG || 'info' } });
  writeFileSync(path.join(dir, 'agent.pid'), String(child.pid) + '\\n', { mode: 0o600 });
  child.on('exit', () => {
    child = null;
    rmSync(path.join(dir, 'agent.pid'), { force: true });
    if (stopping) return done();
    if (Date.now() - started > 60000) pause = 1000;
    setTimeout(run, pause);
    pause = Math.min(pause * 2, 30000);
  });
}
function done() { rmSync(path.join(dir, 'supervisor.pid'), { force: true }); process.exit(0); }
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => { stopping = true; if (child) child.kill('SIGTERM'); else done(); });
run();
`;

function supervisorPid(): number | null {
  try {
    const pid = Number(readFileSync(at('supervisor.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    process.kill(pid, 0);
    // A pid file can outlive its process and the number be reused: only ours is stopped.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(at('supervise.mjs')) ? pid : null;
  } catch (err) {
    // Without /proc (macOS) the pid's liveness is all we can check.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(at('supervisor.pid')) && !existsSync('/proc/self')) {
      const pid = Number(readFileSync(at('supervisor.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 ? pid : null;
    }
    return null;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopAgent(rec: DeployRecord | null): Promise<void> {
  if (rec?.service === 'systemd') {
    spawnSync('systemctl', ['--user', 'stop', unitName(rec.agentId)], { stdio: 'ignore', timeout: 60_000 });
    return;
  }
  const pid = supervisorPid();
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + 30_000;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    // The agent did not finish in time: end both, the agent first (else it would be left running on its own).
    let agent = 0;
    try {
      agent = Number(readFileSync(at('agent.pid'), 'utf8').trim());
    } catch {
      /* no agent running */
    }
    if (Number.isInteger(agent) && agent > 1 && alive(agent)) process.kill(agent, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
  }
  rmSync(at('supervisor.pid'), { force: true });
  rmSync(at('agent.pid'), { force: true });
}

function startAgent(rec: DeployRecord): void {
  if (rec.service === 'systemd') {
    systemctl('restart', unitName(rec.agentId));
    return;
  }
  // Its own session: it outlives this ssh connection. Its own errors go to the agent's log, where deploy looks.
  const out = openSync(at('agent.log'), 'a', 0o600);
  const child = spawn(rec.node, [at('supervise.mjs')], { detached: true, stdio: ['ignore', out, out], cwd: DIR });
  closeSync(out);
  child.unref();
}

function registerService(kind: 'systemd' | 'pidfile', rec: DeployRecord): void {
  if (kind === 'systemd') {
    mkdirSync(path.dirname(unitFile(rec.agentId)), { recursive: true });
    writeFileSync(
      unitFile(rec.agentId),
      `[Unit]\nDescription=Panoptes agent ${rec.agentId}\nAfter=network-online.target\n\n[Service]\nExecStart=${rec.node} ${at('current', 'bin', 'panoptes.js')} agent --data ${at('data')}\nRestart=on-failure\nRestartSec=5\nEnvironment=PANOPTES_LOG=info\n\n[Install]\nWantedBy=default.target\n`,
    );
    systemctl('daemon-reload');
    systemctl('enable', unitName(rec.agentId));
  } else {
    writeFileSync(at('supervise.mjs'), SUPERVISOR, { mode: 0o600 });
  }
}

function unregisterService(rec: DeployRecord | null): void {
  if (rec?.service !== 'systemd') return;
  spawnSync('systemctl', ['--user', 'disable', unitName(rec.agentId)], { stdio: 'ignore', timeout: 30_000 });
  rmSync(unitFile(rec.agentId), { force: true });
  spawnSync('systemctl', ['--user', 'daemon-reload'], { stdio: 'ignore', timeout: 30_000 });
}

function brokerReachable(h: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host: h, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve('no answer within 10 s');
    }, 10_000);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(null);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'no such host' : (err.code ?? err.message));
    });
  });
}

/** The broker password the agent was deployed with (the local side needs it to watch or clear the status). */
function storedPassword(): string | undefined {
  try {
    const secrets = JSON.parse(readFileSync(at('data', 'secrets.json'), 'utf8')) as { forwarding?: Record<string, string> };
    return Object.entries(secrets.forwarding ?? {}).find(([k]) => k.startsWith('password:'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Where this run's copy of the build goes: `/tmp/panoptes-bundle-<agent id>-<folder tag>-<16 hex>.tgz`, the folder tag
 * naming the install folder. A copy left by a run cut short (the deploying process killed while its scp went on, or
 * before its install step removed the copy) is removed by the next deploy, upgrade or undeploy of that agent in that
 * folder — and only then: another run of the same agent id into another folder (a second desktop's "pi", tests side
 * by side) may be between its copy and its install, and its copy is not ours to take.
 */
const uploadPrefix = (agentId: string) => `panoptes-bundle-${agentId}-${createHash('sha256').update(DIR).digest('hex').slice(0, 8)}-`;
const uploadFor = (agentId: string) => path.join('/tmp', `${uploadPrefix(agentId)}${randomBytes(8).toString('hex')}.tgz`);

function removeLeftUploads(agentId: string | undefined): void {
  if (!agentId) return;
  const prefix = uploadPrefix(agentId);
  const mine = (n: string) => n.startsWith(prefix) && /^[0-9a-f]{16}\.tgz$/.test(n.slice(prefix.length));
  let names: string[] = [];
  try {
    names = readdirSync('/tmp');
  } catch {
    return;
  }
  for (const n of names) {
    if (!mine(n)) continue;
    try {
      if (lstatSync(path.join('/tmp', n)).uid === process.getuid?.()) rmSync(path.join('/tmp', n), { force: true });
    } catch {
      /* gone already, or not ours to remove */
    }
  }
}

function removeQuietly(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    /* it was never there (a file in the way, no permission): nothing to remove */
  }
}

async function check(): Promise<never> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < (P.minNodeMajor ?? 20)) throw new Refused(`Node ${process.version} on ${host} is too old: the agent needs Node ${P.minNodeMajor ?? 20} or newer`);
  const b = P.build!;
  if (b.platform !== process.platform || b.arch !== process.arch) throw new Refused(`${host} is ${process.platform}/${process.arch}, this build is for ${b.platform}/${b.arch}: its native modules would not load there`);
  if (b.abi !== process.versions.modules) throw new Refused(`Node ${process.version} on ${host} cannot load this build's native modules (built for Node ${b.node}, module ABI ${b.abi}; that Node has ${process.versions.modules}): install Node ${b.node.split('.')[0]} there, or point --node at one`);
  const rec = readRecord();
  if (P.upgrade && !rec) throw new Refused(`nothing is deployed in ${DIR} on ${host} to upgrade; deploy without --upgrade first`);
  if (!P.upgrade && rec) throw new Refused(`an agent (${rec.agentId}) is already deployed in ${DIR} on ${host}; use --upgrade to update it, or undeploy it first`);
  // This run copies the build anew: one an earlier run of this agent left behind goes.
  const agentId = P.agentId ?? rec?.agentId;
  removeLeftUploads(agentId);
  // Writable? Try for real (permissions, read-only file systems, a file in the way), and leave nothing behind.
  const existed = existsSync(DIR);
  try {
    mkdirSync(DIR, { recursive: true, mode: 0o700 });
    const probe = at(`.write-test-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (err) {
    if (!existed) removeQuietly(DIR);
    const e = err as NodeJS.ErrnoException;
    throw new Refused(`cannot write to ${DIR} on ${host} (${e.code ?? e.message}); choose a folder this user can write with --dir`);
  }
  if (!existed) removeQuietly(DIR);
  if (P.broker) {
    const why = await brokerReachable(P.broker.host, P.broker.port);
    if (why) throw new Refused(`the broker ${P.broker.host}:${P.broker.port} is not reachable from ${host} (${why}); the agent would never come online. Give --broker an address that machine can reach`);
  }
  const service = P.service === 'pidfile' ? 'pidfile' : P.service === 'systemd' || systemdUserWorks() ? 'systemd' : 'pidfile';
  if (P.service === 'systemd' && !systemdUserWorks()) throw new Refused(`systemd --user is not available on ${host}; use --service pidfile (or auto)`);
  const extra: Record<string, unknown> = {};
  if (P.upgrade && rec) {
    extra.record = rec;
    const password = storedPassword();
    if (password !== undefined) extra.password = password;
  }
  if (agentId) extra.upload = uploadFor(agentId);
  result({ ok: true, node: process.version, service: P.upgrade && rec ? rec.service : service, dir: DIR, ...extra });
}

/**
 * The agent's own key (data/agent-key, 0600; made when missing or unusable): what it says on the broker is signed
 * with it, and its public half goes back to the desktop, which from then on takes only what verifies with it.
 */
function agentPublicKey(): string {
  mkdirSync(at('data'), { recursive: true, mode: 0o700 });
  const file = at('data', 'agent-key');
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
  } catch {
    key = generateKeyPairSync('ed25519').privateKey;
    writePrivate(file, key.export({ format: 'pem', type: 'pkcs8' }) as string);
  }
  return (createPublicKey(key).export({ format: 'jwk' }) as { x: string }).x;
}

/** The desktop the agent takes changes from, as its configuration says now (after this install). */
function pairedWith(): { publicKey: string; pairing: string } | null {
  try {
    const doc = JSON.parse(readFileSync(at('data', 'config.json'), 'utf8')) as { fleet?: { controller?: { publicKey?: unknown; pairing?: unknown } } };
    const c = doc.fleet?.controller;
    return c && typeof c.publicKey === 'string' && typeof c.pairing === 'string' ? { publicKey: c.publicKey, pairing: c.pairing } : null;
  } catch {
    return null;
  }
}

async function install(): Promise<never> {
  const release = P.release!;
  const rdir = at('releases', release);
  const old = readRecord();
  const fresh = !old;
  const createdDir = !existsSync(DIR);
  const undo: (() => void | Promise<void>)[] = [];
  let paired = false;
  try {
    mkdirSync(at('releases'), { recursive: true, mode: 0o700 });
    chmodSync(DIR, 0o700);
    mkdirSync(rdir, { mode: 0o700 });
    undo.push(() => rmSync(rdir, { recursive: true, force: true }));
    const tar = spawnSync('tar', ['-xzf', P.bundle!, '-C', rdir], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking the build failed: ${(tar.stderr || tar.error?.message || '').trim()}`);
    rmSync(P.bundle!, { force: true });
    const service = (P.service === 'systemd' ? 'systemd' : 'pidfile') as 'systemd' | 'pidfile';
    const rec: DeployRecord = fresh
      ? { agentId: P.agentId!, broker: P.broker!.url, service, node: P.node ?? process.execPath, release, deployedAt: new Date().toISOString(), ...(service === 'systemd' ? { unit: unitName(P.agentId!) } : {}) }
      : { ...old, node: P.node ?? old.node, release, deployedAt: new Date().toISOString() };
    if (fresh) {
      mkdirSync(at('data'), { recursive: true, mode: 0o700 });
      const forward: Record<string, string> = { url: P.broker!.url, agentId: P.agentId! };
      writePrivate(at('data', 'config.json'), JSON.stringify({ forwarding: { forward, subscribe: [] }, ...(P.controller ? { fleet: { controller: P.controller } } : {}) }, null, 2) + '\n');
      if (P.broker!.password !== undefined) writePrivate(at('data', 'secrets.json'), JSON.stringify({ forwarding: { [P.broker!.passwordKey!]: P.broker!.password } }, null, 2) + '\n');
      registerService(rec.service, rec);
    } else {
      await stopAgent(old);
      // An agent deployed before pairing existed takes no changes from any desktop: the upgrade pairs it with the one
      // upgrading it. One already paired keeps its desktop (a desktop does not take over another's agent this way).
      if (P.controller) {
        const file = at('data', 'config.json');
        let text: string | null = null;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          /* no config yet: the agent runs on defaults */
        }
        const doc = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        const fleet = (doc.fleet ?? {}) as Record<string, unknown>;
        if (!fleet.controller) {
          writePrivate(file, JSON.stringify({ ...doc, fleet: { ...fleet, controller: P.controller } }, null, 2) + '\n');
          paired = true;
          // Rolled back, the release before gets its configuration as it was.
          undo.push(() => (text === null ? rmSync(file, { force: true }) : writePrivate(file, text)));
        }
      }
      const before = linked('current');
      if (before) {
        link('previous', before);
        undo.push(async () => {
          await stopAgent(old);
          link('current', before);
          writePrivate(at('deploy.json'), JSON.stringify(old, null, 2) + '\n');
          startAgent(old);
        });
      }
    }
    const agentKey = agentPublicKey();
    link('current', release);
    writePrivate(at('deploy.json'), JSON.stringify(rec, null, 2) + '\n');
    startAgent(rec);
    result({ ok: true, service: rec.service, release, dir: DIR, paired: fresh ? !!P.controller : paired, agentKey, controller: pairedWith() });
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch {
        /* keep undoing */
      }
    }
    if (fresh) {
      unregisterService({ agentId: P.agentId!, service: P.service === 'systemd' ? 'systemd' : 'pidfile' } as DeployRecord);
      if (createdDir) rmSync(DIR, { recursive: true, force: true });
    }
    rmSync(P.bundle!, { force: true });
    throw err;
  }
}

/** An upgrade that did not come online: back to the release before it, started again. */
async function rollback(): Promise<never> {
  const rec = readRecord();
  const prev = linked('previous');
  if (!rec || !prev) throw new Refused(`nothing to roll back to in ${DIR} on ${host}`);
  const failed = linked('current');
  await stopAgent(rec);
  link('current', prev);
  const back: DeployRecord = { ...rec, release: prev };
  writePrivate(at('deploy.json'), JSON.stringify(back, null, 2) + '\n');
  if (failed && failed !== prev) rmSync(at('releases', failed), { recursive: true, force: true });
  rmSync(at('previous'), { force: true });
  startAgent(back);
  result({ ok: true, release: prev });
}

/** Undeploy (or undo a fresh deploy that never came online): stop, unregister, delete. */
async function remove(): Promise<never> {
  const rec = readRecord();
  if (!rec && !existsSync(DIR)) throw new Refused(`nothing is deployed in ${DIR} on ${host}`);
  const password = storedPassword();
  await stopAgent(rec);
  unregisterService(rec);
  removeLeftUploads(rec?.agentId);
  if (P.keepData) {
    for (const name of ['releases', 'current', 'previous', 'supervise.mjs', 'supervisor.pid', 'agent.pid', 'deploy.json']) rmSync(at(name), { recursive: true, force: true });
  } else rmSync(DIR, { recursive: true, force: true });
  result({ ok: true, agentId: rec?.agentId ?? null, broker: rec?.broker ?? null, ...(password !== undefined ? { password } : {}) });
}

function log(): never {
  const rec = readRecord();
  let text = '';
  if (rec?.service === 'systemd') text = spawnSync('journalctl', ['--user', '-u', unitName(rec.agentId), '-n', '30', '--no-pager'], { encoding: 'utf8' }).stdout ?? '';
  else {
    try {
      text = readFileSync(at('agent.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      text = '';
    }
  }
  result({ ok: true, log: text });
}

try {
  if (P.step === 'check') await check();
  else if (P.step === 'install') await install();
  else if (P.step === 'rollback') await rollback();
  else if (P.step === 'remove') await remove();
  else log();
} catch (err) {
  result({ ok: false, refused: err instanceof Refused, message: (err as Error).message });
}
