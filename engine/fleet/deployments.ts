// Deploying agents from the desktop (Settings → Machines): the form's deploy, and a machine's Upgrade and Undeploy
// buttons, run the same `deploy`/`undeploy` as the CLI, in this process. A run answers at once and goes on here,
// each step pushed as it begins and ends, so a page can follow it (and pick it up again after a reload). Where each
// agent was deployed (ssh target, port, key file, install folder — no secrets) is kept in the store, so Upgrade and
// Undeploy need nothing typed again.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from '../../core/log.js';
import type { DeploymentInfo, DeployRun, ValidationIssue } from '../../core/protocol.js';
import type { KvTable } from '../../core/store/misc-stores.js';
import { parseBrokerUrl } from '../../base/mqtt.js';
import { AGENT_ID } from '../forwarding/wire.js';
import { loadOrCreateIdentity } from './identity.js';
import { deploy, undeploy, DEFAULT_DIR, DeployError, type DeployOptions, type DeployStep } from './deploy/deploy.js';

const KV_KEY = 'fleet.deployments';
/** Finished runs kept for a page that opens later (the last few are enough to see what happened). */
const KEEP_RUNS = 10;

export interface DeployRequest {
  target: string;
  broker: string;
  agentId?: string | undefined;
  port?: number | undefined;
  identity?: string | undefined;
  knownHosts?: string | undefined;
  dir?: string | undefined;
  node?: string | undefined;
  service?: 'auto' | 'systemd' | 'pidfile' | undefined;
}

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
  private readonly runs = new Map<string, DeployRun>();
  /** Runs under way, by agent id and by ssh target: one at a time on either. */
  private readonly busy = new Set<string>();

  constructor(private readonly host: DeploymentsHost) {}

  list(): { deployments: DeploymentInfo[]; runs: DeployRun[] } {
    return { deployments: Object.values(this.saved()).sort((a, b) => a.agentId.localeCompare(b.agentId)), runs: [...this.runs.values()] };
  }

  start(r: DeployRequest): DeployRun {
    const issues: ValidationIssue[] = [];
    const target = r.target.trim();
    if (!target) issues.push({ path: '$.target', message: 'the machine to deploy to, as user@host' });
    else if (/\s/.test(target) || target.startsWith('-')) issues.push({ path: '$.target', message: 'user@host, without spaces (as you would give it to ssh)' });
    const agentId = r.agentId?.trim() || target.replace(/^.*@/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64);
    if (r.agentId?.trim() && !AGENT_ID.test(agentId)) issues.push({ path: '$.agentId', message: 'use 1 to 64 letters, digits and . _ - only' });
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
      identity: r.identity?.trim() || null,
      knownHosts: r.knownHosts?.trim() || null,
      dir: r.dir?.trim() || DEFAULT_DIR,
      node: r.node?.trim() || null,
      service: 'pidfile',
      release: '',
      deployedAt: '',
    };
    return this.run('deploy', where, async (step) => {
      mkdirSync(this.host.dataDir, { recursive: true, mode: 0o700 });
      const result = await deploy({
        ...this.sshOf(where),
        agentId,
        broker: r.broker.trim(),
        ...(r.service ? { service: r.service } : {}),
        // The agent takes changes from this desktop: its key is made now if this is its first agent.
        controller: { publicKey: loadOrCreateIdentity(this.host.dataDir).publicKey, name: os.hostname() },
        step,
      });
      this.remember({ ...where, service: result.service, release: result.release, deployedAt: new Date().toISOString() });
    });
  }

  upgrade(agentId: string): DeployRun {
    const where = this.find(agentId);
    return this.run('upgrade', where, async (step) => {
      const result = await deploy({
        ...this.sshOf(where),
        agentId,
        upgrade: true,
        controller: { publicKey: loadOrCreateIdentity(this.host.dataDir).publicKey, name: os.hostname() },
        step,
      });
      this.remember({ ...where, release: result.release, deployedAt: new Date().toISOString() });
    });
  }

  remove(agentId: string, keepData = false): DeployRun {
    const where = this.find(agentId);
    return this.run('undeploy', where, async (step) => {
      await undeploy({ ...this.sshOf(where), keepData, step });
      const all = this.saved();
      delete all[agentId];
      this.host.kv.set(KV_KEY, all);
    });
  }

  private find(agentId: string): DeploymentInfo {
    const where = this.saved()[agentId];
    if (!where) throw new DeployInputError([{ path: '$.agentId', message: `${agentId} was not deployed from this desktop (use panoptes deploy/undeploy where it was)` }]);
    return where;
  }

  private sshOf(d: DeploymentInfo): Pick<DeployOptions, 'target' | 'port' | 'identity' | 'knownHosts' | 'dir' | 'node'> {
    return { target: d.target, dir: d.dir, ...(d.port ? { port: d.port } : {}), ...(d.identity ? { identity: d.identity } : {}), ...(d.knownHosts ? { knownHosts: d.knownHosts } : {}), ...(d.node ? { node: d.node } : {}) };
  }

  private saved(): Record<string, DeploymentInfo> {
    return this.host.kv.get<Record<string, DeploymentInfo>>(KV_KEY) ?? {};
  }

  private remember(d: DeploymentInfo): void {
    this.host.kv.set(KV_KEY, { ...this.saved(), [d.agentId]: d });
  }

  private run(kind: DeployRun['kind'], where: DeploymentInfo, work: (step: (s: DeployStep, line: string) => void) => Promise<void>): DeployRun {
    const keys = [`agent:${where.agentId}`, `target:${where.target}:${where.port ?? ''}:${where.dir}`];
    if (keys.some((k) => this.busy.has(k))) throw new DeployInputError([{ path: '$.target', message: `a deploy to ${where.target} (${where.agentId}) is already under way` }]);
    for (const k of keys) this.busy.add(k);
    const run: DeployRun = { runId: randomBytes(8).toString('hex'), kind, target: where.target, agentId: where.agentId, startedAt: new Date().toISOString(), steps: [], state: 'running', message: null };
    this.runs.set(run.runId, run);
    for (const old of [...this.runs.keys()].slice(0, Math.max(0, this.runs.size - KEEP_RUNS))) if (this.runs.get(old)!.state !== 'running') this.runs.delete(old);
    const publish = () => {
      try {
        this.host.publish(structuredClone(run));
      } catch {
        /* the engine is closing: nobody to tell */
      }
    };
    const step = (s: DeployStep, line: string) => {
      const last = run.steps[run.steps.length - 1];
      if (last && last.step === s) last.text = line;
      else {
        if (last) last.state = 'done';
        run.steps.push({ step: s, text: line, state: 'running' });
      }
      publish();
    };
    void work(step).then(
      () => {
        const last = run.steps[run.steps.length - 1];
        if (last) last.state = 'done';
        run.state = 'done';
      },
      (err: Error) => {
        const last = run.steps[run.steps.length - 1];
        if (last) last.state = 'failed';
        run.state = 'failed';
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
