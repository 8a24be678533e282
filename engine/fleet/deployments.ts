// Deploying agents from the desktop (Settings → Machines): the form's deploy, and a machine's Upgrade and Undeploy
// buttons, run the same `deploy`/`undeploy` as the CLI, in this process. A run answers at once and goes on here,
// each step pushed as it begins and ends, so a page can follow it (and pick it up again after a reload). Where each
// agent was deployed (ssh target, port, key file, ssh config, install folder — no secrets) is kept in the store, so
// Upgrade and Undeploy need nothing typed again. The runs are kept there too, as they go: after a restart of the engine
// a run that was under way is marked interrupted, with what may be left on that machine and the command that removes it;
// so is a run of `panoptes deploy`/`undeploy` whose process was killed (see deploy-runs.ts).
import { mkdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/log.js';
import type { DeploymentInfo, DeployRun, ValidationIssue } from '../../core/protocol.js';
import type { KvTable } from '../../core/store/misc-stores.js';
import { parseBrokerUrl } from '../../base/mqtt.js';
import { AGENT_ID } from '../forwarding/wire.js';
import { forgetAgentKey, loadOrCreateIdentity, rememberDeployed } from './identity.js';
import { deploy, undeploy, DEFAULT_DIR, DeployError, type DeployOptions, type DeployStep } from './deploy/deploy.js';
import { sshConfigProblem } from './deploy/ssh.js';
import { applyStep, CLI_RUNS_DIR, interruptedMessage, markInterrupted, newRun, readCliRuns, type KeptRun } from './deploy-runs.js';

const KV_KEY = 'fleet.deployments';
const RUNS_KEY = 'fleet.deployRuns';
/** Finished runs kept for a page that opens later (the last few are enough to see what happened). */
const KEEP_RUNS = 10;

export interface DeployRequest {
  target: string;
  broker: string;
  agentId?: string | undefined;
  port?: number | undefined;
  identity?: string | undefined;
  knownHosts?: string | undefined;
  sshConfig?: string | undefined;
  dir?: string | undefined;
  node?: string | undefined;
  service?: 'auto' | 'systemd' | 'pidfile' | undefined;
}

/** A path on this machine as the user types it for ssh: `~/` is their home (ssh is run without a shell to expand it). */
const localPath = (p: string | undefined): string | null => {
  const t = p?.trim();
  if (!t) return null;
  return t === '~' ? os.homedir() : t.startsWith('~/') ? path.join(os.homedir(), t.slice(2)) : t;
};

const isFile = (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;

/** Input the form can fix before anything runs: each problem at its field. */
export class DeployInputError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}

export interface DeploymentsHost {
  dataDir: string;
  kv: KvTable;
  log: Logger;
  publish(run: DeployRun): void;
}

export class Deployments {
  private readonly runs = new Map<string, KeptRun>();
  /** Runs under way, by agent id and by ssh target: one at a time on either. */
  private readonly busy = new Set<string>();

  constructor(private readonly host: DeploymentsHost) {
    // Runs the store says were under way ended with the engine that ran them (a restart, a crash, a kill).
    const kept = host.kv.get<KeptRun[]>(RUNS_KEY) ?? [];
    let changed = false;
    for (const k of kept) {
      if (k.run.state === 'running') {
        markInterrupted(k);
        changed = true;
      }
      this.runs.set(k.run.runId, k);
    }
    if (changed) this.keep();
    this.takeCliRuns();
  }

  list(): { deployments: DeploymentInfo[]; runs: DeployRun[] } {
    const cliRunning = this.takeCliRuns();
    return { deployments: Object.values(this.saved()).sort((a, b) => a.agentId.localeCompare(b.agentId)), runs: [...[...this.runs.values()].map((k) => structuredClone(k.run)), ...cliRunning] };
  }

  /**
   * Runs of `panoptes deploy`/`undeploy` on this data folder, kept from now on once they end: one that succeeded
   * leaves its agent deployed from here (as the form's deploy does: Upgrade and Undeploy on its machine) or, undeployed,
   * not any more; one whose CLI was killed is interrupted (with what it may have left there). Those under way are
   * listed as they stand.
   */
  private takeCliRuns(): DeployRun[] {
    const { running, ended } = readCliRuns(this.host.dataDir);
    for (const { deployed, ...k } of ended) {
      const { run } = k;
      if (run.state === 'done' && deployed && run.kind !== 'undeploy') {
        const before = this.saved()[deployed.agentId];
        // An upgrade names no --node when the deploy did: the node it was deployed with stays.
        this.remember({ ...deployed, node: deployed.node ?? before?.node ?? null });
      } else if (run.state === 'done' && run.kind === 'undeploy' && run.agentId) {
        const all = this.saved();
        delete all[run.agentId];
        this.host.kv.set(KV_KEY, all);
      }
      // Killed before it learnt which agent it was for (an undeploy learns it as it removes it): the agent deployed
      // from here to that place, so its machine's entry shows the run and what to do.
      if (!run.agentId) {
        run.agentId = Object.values(this.saved()).find((d) => d.target === k.where.target && (d.port ?? null) === (k.where.port ?? null) && d.dir === k.where.dir)?.agentId ?? null;
        if (run.agentId && run.state === 'interrupted') run.message = interruptedMessage(k);
      }
      this.runs.set(run.runId, k);
    }
    if (ended.length) {
      this.trim();
      this.keep();
    }
    // A page that shows these runs is told they ended (and asks again what is deployed: Upgrade/Undeploy come or go).
    for (const k of ended) this.publish(k.run);
    return running;
  }

  /**
   * Follow the CLI's runs while the engine runs: a change in `deploy-runs/` is pushed to the pages, so Settings →
   * Machines shows a deploy from a terminal step by step, and its end (a machine deployed from the CLI gets Upgrade and
   * Undeploy without a reload). Returns what stops it.
   */
  follow(): () => void {
    const dir = path.join(this.host.dataDir, CLI_RUNS_DIR);
    let watcher: FSWatcher;
    let timer: NodeJS.Timeout | null = null;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      watcher = watch(dir, { persistent: false }, () => {
        // A step is a write and a rename; one look after they settle.
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = null;
          try {
            for (const run of this.takeCliRuns()) this.publish(run);
          } catch (err) {
            this.host.log.warn(`could not read the deploys run from the command line: ${(err as Error).message}`);
          }
        }, 100);
      });
    } catch (err) {
      this.host.log.warn(`not following deploys run from the command line (${dir}): ${(err as Error).message}`);
      return () => {};
    }
    watcher.on('error', (err) => this.host.log.warn(`stopped following deploys run from the command line: ${err.message}`));
    return () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    };
  }

  private publish(run: DeployRun): void {
    try {
      this.host.publish(structuredClone(run));
    } catch {
      /* the engine is closing: nobody to tell */
    }
  }

  private trim(): void {
    for (const old of [...this.runs.keys()].slice(0, Math.max(0, this.runs.size - KEEP_RUNS))) if (this.runs.get(old)!.run.state !== 'running') this.runs.delete(old);
  }

  start(r: DeployRequest): DeployRun {
    const issues: ValidationIssue[] = [];
    const target = r.target.trim();
    if (!target) issues.push({ path: '$.target', message: 'the machine to deploy to, as user@host' });
    else if (/\s/.test(target) || target.startsWith('-')) issues.push({ path: '$.target', message: 'user@host, without spaces (as you would give it to ssh)' });
    else if (/^[^[\]:]+:\d+$/.test(target)) issues.push({ path: '$.target', message: `ssh does not take host:port: give ${target.replace(/:\d+$/, '')} here and the port in SSH port` });
    const agentId = r.agentId?.trim() || target.replace(/^.*@/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64);
    if (r.agentId?.trim() && !AGENT_ID.test(agentId)) issues.push({ path: '$.agentId', message: 'use 1 to 64 letters, digits and . _ - only' });
    // The files the ssh options name are on this machine: one that is not there is said at its field, before ssh runs.
    const identity = localPath(r.identity);
    const knownHosts = localPath(r.knownHosts);
    const sshConfig = localPath(r.sshConfig);
    if (identity && !isFile(identity)) issues.push({ path: '$.identity', message: `no key file at ${identity} on this machine` });
    if (knownHosts && !isFile(knownHosts)) issues.push({ path: '$.knownHosts', message: `no file at ${knownHosts} on this machine (a known_hosts file holding that machine's host key)` });
    if (sshConfig && !isFile(sshConfig)) issues.push({ path: '$.sshConfig', message: `no file at ${sshConfig} on this machine (an ssh config file, like ~/.ssh/config)` });
    else if (target && !issues.some((i) => i.path === '$.target')) {
      // What the user's ssh makes of it all (a bad line in the config file, an alias it cannot read), without connecting.
      const why = sshConfigProblem({ target, ...(r.port ? { port: r.port } : {}), ...(sshConfig ? { sshConfig } : {}) });
      if (why) issues.push({ path: sshConfig ? '$.sshConfig' : '$.target', message: why });
    }
    if (!r.broker.trim()) issues.push({ path: '$.broker', message: 'the MQTT broker the agent reports to, reachable from that machine (like mqtt://user:pass@desktop.lan:1883)' });
    else {
      try {
        parseBrokerUrl(r.broker.trim());
      } catch (err) {
        issues.push({ path: '$.broker', message: (err as Error).message });
      }
    }
    if (issues.length) throw new DeployInputError(issues);
    const known = this.saved()[agentId];
    if (known && known.target === target && (known.dir === (r.dir?.trim() || DEFAULT_DIR))) throw new DeployInputError([{ path: '$.agentId', message: `${agentId} is already deployed there from here: use Upgrade on it in the list of machines` }]);
    const where: DeploymentInfo = {
      agentId,
      target,
      port: r.port ?? null,
      identity,
      knownHosts,
      sshConfig,
      dir: r.dir?.trim() || DEFAULT_DIR,
      node: r.node?.trim() || null,
      service: 'pidfile',
      release: '',
      deployedAt: '',
    };
    return this.run('deploy', where, async (step, uploading) => {
      mkdirSync(this.host.dataDir, { recursive: true, mode: 0o700 });
      // The agent takes changes from this desktop: its key is made now if this is its first agent.
      const desktop = loadOrCreateIdentity(this.host.dataDir);
      const result = await deploy({
        ...this.sshOf(where),
        ...testing(),
        uploading,
        agentId,
        broker: r.broker.trim(),
        ...(r.service ? { service: r.service } : {}),
        controller: { publicKey: desktop.publicKey, name: os.hostname() },
        step,
      });
      rememberDeployed(this.host.dataDir, result, desktop.publicKey);
      this.remember({ ...where, service: result.service, release: result.release, deployedAt: new Date().toISOString() });
    });
  }

  upgrade(agentId: string): DeployRun {
    const where = this.find(agentId);
    return this.run('upgrade', where, async (step, uploading) => {
      const desktop = loadOrCreateIdentity(this.host.dataDir);
      const result = await deploy({
        ...this.sshOf(where),
        ...testing(),
        uploading,
        agentId,
        upgrade: true,
        controller: { publicKey: desktop.publicKey, name: os.hostname() },
        step,
      });
      // An agent deployed before agents had keys gets one now, and the desktop learns it.
      rememberDeployed(this.host.dataDir, result, desktop.publicKey);
      this.remember({ ...where, release: result.release, deployedAt: new Date().toISOString() });
    });
  }

  remove(agentId: string, keepData = false): DeployRun {
    const where = this.find(agentId);
    return this.run('undeploy', where, async (step) => {
      // Its key is forgotten before its status is cleared: the desktop ignores an empty status of an agent whose key it holds.
      await undeploy({ ...this.sshOf(where), keepData, step, removed: (id) => forgetAgentKey(this.host.dataDir, id) });
      forgetAgentKey(this.host.dataDir, agentId);
      const all = this.saved();
      delete all[agentId];
      this.host.kv.set(KV_KEY, all);
    });
  }

  /** Is a deploy, upgrade or undeploy of this agent under way (here, or by the CLI on this data folder)? */
  running(agentId: string): boolean {
    return this.busy.has(`agent:${agentId}`) || this.takeCliRuns().some((r) => r.agentId === agentId);
  }

  /** A machine forgotten (gone for good): where it was deployed, and its runs, are not kept any more. */
  forget(agentId: string): void {
    const all = this.saved();
    if (agentId in all) {
      delete all[agentId];
      this.host.kv.set(KV_KEY, all);
    }
    for (const [id, k] of this.runs) if (k.run.agentId === agentId && k.run.state !== 'running') this.runs.delete(id);
    this.keep();
  }

  private find(agentId: string): DeploymentInfo {
    const where = this.saved()[agentId];
    if (!where) throw new DeployInputError([{ path: '$.agentId', message: `${agentId} was not deployed from this desktop (use panoptes deploy/undeploy where it was)` }]);
    return where;
  }

  private sshOf(d: DeploymentInfo): Pick<DeployOptions, 'target' | 'port' | 'identity' | 'knownHosts' | 'sshConfig' | 'dir' | 'node'> {
    return {
      target: d.target,
      dir: d.dir,
      ...(d.port ? { port: d.port } : {}),
      ...(d.identity ? { identity: d.identity } : {}),
      ...(d.knownHosts ? { knownHosts: d.knownHosts } : {}),
      ...(d.sshConfig ? { sshConfig: d.sshConfig } : {}),
      ...(d.node ? { node: d.node } : {}),
    };
  }

  /** Every run as it stands, in the store (written as each step begins and ends: a few times a deploy). */
  private keep(): void {
    try {
      this.host.kv.set(RUNS_KEY, [...this.runs.values()]);
    } catch {
      /* the store is closed: the engine is stopping, and the next start marks the run interrupted */
    }
  }

  private saved(): Record<string, DeploymentInfo> {
    return this.host.kv.get<Record<string, DeploymentInfo>>(KV_KEY) ?? {};
  }

  private remember(d: DeploymentInfo): void {
    this.host.kv.set(KV_KEY, { ...this.saved(), [d.agentId]: d });
  }

  private run(kind: DeployRun['kind'], where: DeploymentInfo, work: (step: (s: DeployStep, line: string, ended?: 'done') => void, uploading: (remotePath: string) => void) => Promise<void>): DeployRun {
    const keys = [`agent:${where.agentId}`, `target:${where.target}:${where.port ?? ''}:${where.dir}`];
    if (keys.some((k) => this.busy.has(k))) throw new DeployInputError([{ path: '$.target', message: `a deploy to ${where.target} (${where.agentId}) is already under way` }]);
    for (const k of keys) this.busy.add(k);
    const kept = newRun(kind, where.agentId, { target: where.target, port: where.port, identity: where.identity, knownHosts: where.knownHosts, sshConfig: where.sshConfig ?? null, dir: where.dir });
    const { run } = kept;
    this.runs.set(run.runId, kept);
    this.trim();
    const publish = () => {
      this.keep();
      this.publish(run);
    };
    const step = (s: DeployStep, line: string, ended?: 'done') => {
      applyStep(kept, s, line, ended);
      publish();
    };
    const uploading = (remotePath: string) => {
      kept.upload = remotePath;
      this.keep();
    };
    publish();
    void work(step, uploading).then(
      () => {
        const last = run.steps[run.steps.length - 1];
        if (last) last.state = 'done';
        run.state = 'done';
        run.endedAt = new Date().toISOString();
      },
      (err: Error) => {
        const last = run.steps[run.steps.length - 1];
        if (last?.state === 'running') last.state = 'failed';
        run.state = 'failed';
        run.endedAt = new Date().toISOString();
        run.message = err.message;
        if (!(err instanceof DeployError)) this.host.log.warn(`${kind} of ${where.agentId} on ${where.target}: ${err.stack ?? err.message}`);
      },
    ).finally(() => {
      for (const k of keys) this.busy.delete(k);
      publish();
    });
    return structuredClone(run);
  }
}

/**
 * The form's counterparts of `panoptes deploy --bundle` and `--timeout`, for the e2e tests (a broken build to roll
 * back, without repacking this one each run): PANOPTES_DEPLOY_BUNDLE names a packed build, PANOPTES_DEPLOY_TIMEOUT
 * the seconds an agent is given to come online.
 */
function testing(): Pick<DeployOptions, 'bundle' | 'onlineTimeoutMs'> {
  const bundle = process.env.PANOPTES_DEPLOY_BUNDLE;
  const timeout = Number(process.env.PANOPTES_DEPLOY_TIMEOUT);
  return { ...(bundle ? { bundle } : {}), ...(timeout > 0 ? { onlineTimeoutMs: timeout * 1000 } : {}) };
}
