// A deploy run as it goes, step by step, and what a run cut short may have left on its machine. The engine keeps the
// runs of the form in its store; `panoptes deploy`/`undeploy` keep theirs as a file each in the data folder
// (`deploy-runs/<run id>.json`, 0600, with the CLI's pid) while they run, and leave it ended for the engine to take in
// (it follows the folder, and shows the runs as its own): one that failed with why, one that succeeded with where the
// agent now is (no secrets) — the agent is then deployed from this desktop as if from its Machines form (Upgrade and
// Undeploy there), or no longer is (undeployed).
// A file whose process is gone while its run was under way belongs to a CLI that was killed (SIGKILL, a crash, a
// closed terminal): the engine takes it in as an interrupted run, so Settings → Machines says what happened and what
// to do, as for a run of its own.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DeploymentInfo, DeployRun } from '../../core/protocol.js';
import { DEFAULT_DIR, type DeployStep } from './deploy/deploy.js';
import { shellQuote } from './deploy/ssh.js';

/** A run as kept: the run, and where it went (no secrets), to say what it left when it was cut short. */
export interface KeptRun {
  run: DeployRun;
  where: Pick<DeploymentInfo, 'target' | 'port' | 'identity' | 'knownHosts' | 'sshConfig' | 'dir'>;
  /** The packed build's path on the remote while it is copied and installed (the install removes it). */
  upload: string | null;
}

export function newRun(kind: DeployRun['kind'], agentId: string | null, where: KeptRun['where']): KeptRun {
  return { run: { runId: randomBytes(8).toString('hex'), kind, target: where.target, agentId, startedAt: new Date().toISOString(), steps: [], state: 'running', message: null, endedAt: null }, where, upload: null };
}

/** A step begins (a new one) or says more (the same one again); `ended` marks it done. */
export function applyStep(kept: KeptRun, s: DeployStep, line: string, ended?: 'done'): void {
  const { run } = kept;
  const last = run.steps[run.steps.length - 1];
  if (last && last.step === s) {
    last.text = line;
    if (ended) last.state = ended;
  } else {
    // Rolling back, or a deploy removing what it installed: the step before it is why. (An undeploy removes after
    // its check as a matter of course.)
    if (last) last.state = s === 'rollback' || (s === 'remove' && kept.run.kind !== 'undeploy') ? 'failed' : 'done';
    run.steps.push({ step: s, text: line, state: ended ?? 'running', at: new Date().toISOString() });
  }
  // Past the install the copy is gone (the install removes it, as do a rollback and a removal).
  if (s === 'online' || s === 'rollback' || s === 'remove') kept.upload = null;
}

/** A run that was under way when what ran it ended: its step failed, and the message says what may be left. */
export function markInterrupted(k: KeptRun): void {
  const last = k.run.steps[k.run.steps.length - 1];
  if (last?.state === 'running') last.state = 'failed';
  k.run.state = 'interrupted';
  k.run.endedAt = new Date().toISOString();
  k.run.message = interruptedMessage(k);
}

/** What a run cut short may have left on that machine, and how to remove it. */
export function interruptedMessage({ run, where, upload }: KeptRun): string {
  const last = run.steps[run.steps.length - 1]?.step ?? 'check';
  const flags = [
    ...(where.port ? ['--port', String(where.port)] : []),
    ...(where.identity ? ['--identity', where.identity] : []),
    ...(where.knownHosts ? ['--known-hosts', where.knownHosts] : []),
    ...(where.sshConfig ? ['--ssh-config', where.sshConfig] : []),
    ...(where.dir !== DEFAULT_DIR ? ['--dir', where.dir] : []),
  ];
  const q = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : shellQuote(w));
  const undeployCmd = ['panoptes', 'undeploy', where.target, ...flags].map(q).join(' ');
  const sshCmd = ['ssh', ...(where.port ? ['-p', String(where.port)] : []), ...(where.identity ? ['-i', where.identity] : []), ...(where.knownHosts ? ['-o', `UserKnownHostsFile=${where.knownHosts}`] : []), ...(where.sshConfig ? ['-F', where.sshConfig] : []), where.target].map(q).join(' ');
  const who = run.agentId ?? 'the agent';
  const verb = run.kind === 'deploy' ? 'deploy' : run.kind === 'upgrade' ? 'upgrade' : 'undeploy';
  // The next deploy, upgrade or undeploy of that agent there removes a copy left in /tmp; ssh removes it now.
  const copyLeft = upload ? ` The build may be left, partly copied, at ${upload} there: the next ${verb === 'undeploy' ? 'deploy' : verb} or undeploy of ${who} removes it (or \`${sshCmd} rm -f ${upload}\` now).` : '';
  const doing = last === 'check' ? `was checking ${where.target}` : last === 'copy' ? `was copying the build to ${where.target}` : last === 'install' ? `was installing on ${where.target}` : last === 'online' ? `was waiting for ${who} to come online` : last === 'rollback' ? `was rolling back on ${where.target}` : `was removing ${who} from ${where.target}`;
  const head = `Panoptes stopped while this ${verb} ${doing}`;
  // The check only reads the machine: an undeploy stopped there removed nothing.
  if (run.kind === 'undeploy' && last === 'check') return `${head}: nothing was removed there yet; undeploy again.`;
  if (run.kind === 'undeploy') return `${head}: ${who} may be half removed from ${where.dir} there. Undeploy again, or run \`${undeployCmd}\`.`;
  if (last === 'check') return `${head}: nothing was installed there; ${verb} again.`;
  if (run.kind === 'deploy') {
    if (last === 'copy') return `${head}: nothing was installed there.${copyLeft} Then deploy again.`;
    return `${head}: ${who} may be installed in ${where.dir} there, and running.${copyLeft} Remove it with \`${undeployCmd}\` (it stops the agent and deletes the folder), then deploy again.`;
  }
  if (last === 'copy') return `${head}: ${who} runs its release as before.${copyLeft} Upgrade again.`;
  return `${head}: ${who} in ${where.dir} there may run the new release, not yet seen online, or be stopped.${copyLeft} Upgrade again (a release that does not come online is rolled back), or remove it with \`${undeployCmd}\`.`;
}

// --- The CLI's runs: a file each while they go ---

export const CLI_RUNS_DIR = 'deploy-runs';

/** A CLI's run as the engine takes it in: ended, and for a deploy or upgrade that succeeded, where the agent now is. */
export interface EndedCliRun extends KeptRun {
  deployed?: DeploymentInfo;
}

interface CliRunFile extends EndedCliRun {
  pid: number;
}

/** A run of `panoptes deploy`/`undeploy`, written to its file as each step begins and ends, removed when it ends. */
export class CliRunJournal {
  readonly kept: KeptRun;
  private readonly file: string;
  private deployed: DeploymentInfo | undefined;
  private ended = false;

  constructor(dataDir: string, kind: DeployRun['kind'], agentId: string | null, where: KeptRun['where']) {
    this.kept = newRun(kind, agentId, where);
    const dir = path.join(dataDir, CLI_RUNS_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, `${this.kept.run.runId}.json`);
    this.write();
  }

  step = (s: DeployStep, line: string, ended?: 'done'): void => {
    applyStep(this.kept, s, line, ended);
    this.write();
  };

  uploading = (remotePath: string): void => {
    this.kept.upload = remotePath;
    this.write();
  };

  /** The agent id, once the run knows it (an upgrade or undeploy learns it from the machine). */
  named(agentId: string): void {
    this.kept.run.agentId = agentId;
    this.write();
  }

  /**
   * The run succeeded: its file stays, ended, for the engine to take in — with where the agent now is (a deploy or an
   * upgrade), so the desktop of this data folder manages it as one deployed from its form; an undeploy's agent is no
   * longer deployed from here.
   */
  done(deployed?: DeploymentInfo): void {
    const { run } = this.kept;
    const last = run.steps[run.steps.length - 1];
    if (last) last.state = 'done';
    run.state = 'done';
    run.endedAt = new Date().toISOString();
    this.deployed = deployed;
    this.ended = true;
    this.write();
  }

  /** The run failed, for this reason (the CLI said it too): left for the engine, which shows it as the form's. */
  failed(message: string): void {
    if (this.ended) return;
    const { run } = this.kept;
    const last = run.steps[run.steps.length - 1];
    if (last?.state === 'running') last.state = 'failed';
    run.state = 'failed';
    run.endedAt = new Date().toISOString();
    run.message = message;
    this.ended = true;
    this.write();
  }

  /** The command ends: a run it neither finished nor failed (an unexpected error, said on stderr) failed. */
  end(): void {
    this.failed('panoptes stopped with an unexpected error (it said what on its standard error)');
  }

  private write(): void {
    const body: CliRunFile = { ...this.kept, ...(this.deployed ? { deployed: this.deployed } : {}), pid: process.pid };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(body) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}

/** Is the CLI that wrote a run file still running it? (Its pid alive, and on Linux still a panoptes command.) */
function stillRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A pid can be reused once its process is gone: only a process that runs our CLI counts.
    return /panoptes/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): alive is all we can tell
  }
}

/**
 * The CLI's runs in the data folder: those under way as they stand, and those that ended — done (with where a deployed
 * agent now is), or found with their CLI gone and marked interrupted — their files removed, for the caller to keep
 * from now on.
 */
export function readCliRuns(dataDir: string): { running: DeployRun[]; ended: EndedCliRun[] } {
  const dir = path.join(dataDir, CLI_RUNS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^[0-9a-f]{16}\.json$/.test(n));
  } catch {
    return { running: [], ended: [] };
  }
  const running: DeployRun[] = [];
  const ended: EndedCliRun[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    let k: CliRunFile;
    try {
      k = JSON.parse(readFileSync(file, 'utf8')) as CliRunFile;
    } catch {
      continue; // being written (a rename makes that brief) or not ours
    }
    if (!k?.run?.runId || !Array.isArray(k.run.steps)) continue;
    // Ended (a success the CLI left here), or under way with its CLI gone (killed): taken in either way.
    if (k.run.state === 'running' && stillRunning(k.pid)) {
      running.push(k.run);
      continue;
    }
    const { pid: _pid, ...kept } = k;
    if (kept.run.state === 'running') markInterrupted(kept);
    ended.push(kept);
    rmSync(file, { force: true });
  }
  // In the order they ended: a deploy then an undeploy of the same agent (both while no engine ran) leave it undeployed.
  ended.sort((a, b) => (a.run.endedAt ?? '').localeCompare(b.run.endedAt ?? ''));
  return { running, ended };
}
