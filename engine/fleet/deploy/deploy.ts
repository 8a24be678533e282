// `panoptes deploy` / `undeploy`: put a headless agent on another machine over SSH and see it come online on the
// broker. Order matters for "nothing half-installed": everything that can be checked is checked before a file is
// written there (Node, ABI, a writable folder, the broker reachable from that side); a fresh install that does
// not come online is removed again, an upgrade that does not is rolled back to the release before it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { clientOptions, endClient, loadMqtt, mqttErrorText, parseBrokerUrl, redactUrl, secretKeyFor, type BrokerAddress } from '../../../base/mqtt.js';
import { AGENT_ID, decodeStatus, statusTopic, type AgentStatus } from '../../forwarding/wire.js';
import { configSetTopic, configStateTopic } from '../wire.js';
import { packBundle, thisBuild, type BundleInfo } from './bundle.js';
import { DeployError, scp, shellQuote, ssh, type SshTarget } from './ssh.js';

export { DeployError } from './ssh.js';

export const MIN_NODE_MAJOR = 20;
export const DEFAULT_DIR = '.panoptes-agent';

export interface DeployOptions extends SshTarget {
  agentId?: string | undefined;
  /** Required for a fresh deploy; an upgrade keeps the one deployed. */
  broker?: string | undefined;
  upgrade?: boolean;
  /** The install folder on the remote, relative to its home unless absolute. */
  dir?: string | undefined;
  /** The remote's node (default: `node` on the PATH of a non-interactive ssh session). */
  node?: string | undefined;
  service?: 'auto' | 'systemd' | 'pidfile' | undefined;
  /** A packed build (.tar.gz from an earlier pack) instead of packing this one. */
  bundle?: string | undefined;
  /** How long to wait for the agent to report online. */
  onlineTimeoutMs?: number | undefined;
  /**
   * The desktop that will manage the agent: its public key is written into the new agent's configuration with a
   * fresh pairing id, so the agent takes configuration changes from it alone (engine/fleet/).
   */
  controller?: { publicKey: string; name?: string | undefined } | undefined;
  say?: ((line: string) => void) | undefined;
  /**
   * Each step as it begins (the form lists them): check, copy, install, online — then rollback or remove when it did
   * not come online. The line is also said (`say`).
   */
  step?: ((step: DeployStep, line: string, ended?: 'done') => void) | undefined;
  /** Where the packed build is copied to on the remote, before it is (so a run cut short can say what is left there). */
  uploading?: ((remotePath: string) => void) | undefined;
  /** The agent's id once known (an upgrade without --agent-id learns it from the machine). */
  identified?: ((agentId: string) => void) | undefined;
}

export type DeployStep = 'check' | 'copy' | 'install' | 'online' | 'rollback' | 'remove';

export interface DeployResult {
  agentId: string;
  release: string;
  service: 'systemd' | 'pidfile';
  dir: string;
  status: AgentStatus;
  /** The agent's own public key (read from it on install and upgrade) and the desktop it takes changes from. */
  agentKey: string | null;
  controller: { publicKey: string; pairing: string } | null;
}

interface RemoteRecord {
  agentId: string;
  broker: string;
}

const REMOTE_SCRIPT = fileURLToPath(new URL('./remote.js', import.meta.url));

/** Run one step of remote.js on the remote machine and return its result line. */
async function remoteStep(t: SshTarget, node: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const script = `globalThis.__panoptesDeploy = ${JSON.stringify(params)};\n` + readFileSync(REMOTE_SCRIPT, 'utf8');
  const r = await ssh(t, `${shellQuote(node)} --input-type=module -`, script);
  const line = r.stdout.split('\n').find((l) => l.startsWith('PANOPTES-RESULT '));
  if (!line) throw new DeployError(`the ${String(params.step)} step on ${t.target} ended without a result (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' / ') || 'no output'}`);
  const out = JSON.parse(line.slice('PANOPTES-RESULT '.length)) as Record<string, unknown>;
  if (out.ok !== true) throw new DeployError(String(out.message));
  return out;
}

/** Is there a Node, and which? Asked with plain sh so that a missing or ancient Node still gets a clear answer. */
async function probeNode(t: SshTarget, node: string | undefined): Promise<{ node: string; version: string }> {
  const n = node ?? 'node';
  const cmd = `N=${shellQuote(n)}; if ! command -v "$N" >/dev/null 2>&1; then echo PANOPTES-NO-NODE; exit 0; fi; "$N" -e 'console.log("PANOPTES-NODE " + process.version + " " + process.execPath)'`;
  const r = await ssh(t, cmd, undefined, 60_000);
  const host = t.target.replace(/^.*@/, '');
  if (r.stdout.includes('PANOPTES-NO-NODE'))
    throw new DeployError(
      node
        ? `there is no Node at ${node} on ${host}: install Node ${MIN_NODE_MAJOR} or newer there, or give --node the path of one`
        : `Node is not installed on ${host} (no \`node\` on the PATH of an ssh session): install Node ${MIN_NODE_MAJOR} or newer there, or give --node its path`,
    );
  const m = /PANOPTES-NODE v(\d+)\.(\d+)\.(\d+) (.+)/.exec(r.stdout);
  if (!m) throw new DeployError(`could not run Node on ${host}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  if (Number(m[1]) < MIN_NODE_MAJOR) throw new DeployError(`Node v${m[1]}.${m[2]}.${m[3]} on ${host} is too old: the agent needs Node ${MIN_NODE_MAJOR} or newer; upgrade it there, or give --node the path of a newer one`);
  return { node: m[4]!.trim(), version: `v${m[1]}.${m[2]}.${m[3]}` };
}

function brokerPort(a: BrokerAddress): { host: string; port: number } {
  const u = new URL(a.url);
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaults[u.protocol] || 1883) };
}

/** Watches one agent's retained status topic. */
class StatusWatch {
  private latest: AgentStatus | null = null;
  private waiters: (() => void)[] = [];
  private constructor(private readonly client: MqttClient, readonly agentId: string) {}

  static async open(broker: BrokerAddress, agentId: string): Promise<StatusWatch> {
    let client: MqttClient;
    try {
      const { connectAsync } = await loadMqtt();
      client = await connectAsync(broker.url, clientOptions(broker, undefined, { clientId: `panoptes-deploy-${randomBytes(4).toString('hex')}`, clean: true, reconnectPeriod: 1_000, connectTimeout: 10_000 }));
    } catch (err) {
      throw new DeployError(`cannot reach the broker ${broker.url} from here to watch the agent come online: ${mqttErrorText(err as Error)}`);
    }
    const w = new StatusWatch(client, agentId);
    client.on('message', (topic, payload) => {
      if (topic !== statusTopic(agentId)) return;
      w.latest = decodeStatus(payload, agentId);
      for (const f of w.waiters.splice(0)) f();
    });
    client.on('error', () => {});
    await client.subscribeAsync(statusTopic(agentId), { qos: 1 });
    return w;
  }

  async until(ok: (s: AgentStatus) => boolean, timeoutMs: number): Promise<AgentStatus | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.latest && ok(this.latest)) return this.latest;
      const left = end - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Forget the machine on the broker (empty retained messages clear its status and its configuration there). */
  async clear(): Promise<void> {
    for (const topic of [statusTopic(this.agentId), configSetTopic(this.agentId), configStateTopic(this.agentId)]) await this.client.publishAsync(topic, '', { qos: 1, retain: true });
  }

  close(): Promise<void> {
    return endClient(this.client, 1_000);
  }
}

function bundleInfoOf(file: string): BundleInfo {
  const r = spawnSync('tar', ['-xzOf', file, 'panoptes-build.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new DeployError(`${file} is not a packed Panoptes build (no panoptes-build.json in it)`);
  return JSON.parse(r.stdout) as BundleInfo;
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');

export async function deploy(o: DeployOptions): Promise<DeployResult> {
  const say = o.say ?? (() => {});
  const begin = (step: DeployStep, line: string) => {
    say(line);
    o.step?.(step, line);
  };
  const dir = o.dir ?? DEFAULT_DIR;
  const host = o.target.replace(/^.*@/, '');
  if (!o.upgrade && !o.broker) throw new DeployError('--broker is required: the MQTT broker the agent reports to (like mqtt://user:pass@desktop.lan:1883)');
  if (o.agentId !== undefined && !AGENT_ID.test(o.agentId)) throw new DeployError(`agent id ${JSON.stringify(o.agentId)}: use 1 to 64 letters, digits and . _ - only`);
  let broker: BrokerAddress | null = null;
  if (o.broker) {
    try {
      broker = parseBrokerUrl(o.broker);
    } catch (err) {
      throw new DeployError(`--broker: ${(err as Error).message}`);
    }
  }

  begin('check', `checking ${o.target}: ssh, Node, the install folder, the broker from there…`);
  const node = await probeNode(o, o.node);
  const work = mkdtempSync(path.join(os.tmpdir(), 'panoptes-deploy-'));
  try {
    // What the remote must be able to run is known before packing: refusals come first, and fast.
    const build: BundleInfo = o.bundle ? bundleInfoOf(o.bundle) : thisBuild();
    const agentId = o.agentId ?? (o.upgrade ? undefined : host.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64));
    const checked = await remoteStep(o, node.node, {
      step: 'check',
      dir,
      ...(agentId ? { agentId } : {}),
      upgrade: !!o.upgrade,
      build,
      minNodeMajor: MIN_NODE_MAJOR,
      ...(o.service ? { service: o.service } : {}),
      ...(broker ? { broker: brokerPort(broker) } : {}),
    });
    const record = checked.record as RemoteRecord | undefined;
    const id = agentId ?? record?.agentId;
    if (!id) throw new DeployError(`no agent id: give --agent-id`);
    o.identified?.(id);
    if (o.upgrade && record && o.agentId && o.agentId !== record.agentId) throw new DeployError(`${dir} on ${host} holds agent ${record.agentId}, not ${o.agentId}`);
    // The broker to watch: the one given, else (upgrade) the deployed one with its stored password.
    const watchBroker = broker ?? { ...parseBrokerUrl(record!.broker), ...(typeof checked.password === 'string' ? { password: checked.password } : {}) };
    const watch = await StatusWatch.open(watchBroker, id);
    try {
      let file = o.bundle;
      if (!file) {
        file = path.join(work, 'panoptes.tgz');
        begin('copy', 'packing this build…');
        packBundle(file);
      }
      const release = `${build.version}-${stamp()}-${randomBytes(2).toString('hex')}`;
      // The remote names the copy (by agent and install folder, so its leftover sweep knows which copies are its own).
      const upload = String(checked.upload);
      begin('copy', `copying the build (${(readFileSync(file).length / 1e6).toFixed(1)} MB) to ${host}…`);
      o.uploading?.(upload);
      await scp(o, file, upload);
      const service = checked.service as 'systemd' | 'pidfile';
      begin('install', o.upgrade ? `upgrading ${id} in ${String(checked.dir)} (${service}): unpacking, starting it…` : `installing ${id} in ${String(checked.dir)} (${service}): unpacking, writing its configuration (0600), starting it…`);
      const installParams: Record<string, unknown> = { step: 'install', dir, release, bundle: upload, service, node: node.node, agentId: id };
      if (broker && !o.upgrade) {
        const forStore: BrokerAddress = { url: broker.url, ...(broker.username !== undefined ? { username: broker.username } : {}) };
        const url = broker.username !== undefined ? broker.url.replace('://', `://${encodeURIComponent(broker.username)}@`) : broker.url;
        installParams.broker = { ...brokerPort(broker), url, ...(broker.password !== undefined ? { password: broker.password, passwordKey: secretKeyFor(forStore) } : {}) };
      }
      // A fresh agent is paired with this desktop; an upgrade pairs one deployed before pairing existed (kept otherwise).
      if (o.controller) installParams.controller = { publicKey: o.controller.publicKey, pairing: randomBytes(12).toString('base64url'), ...(o.controller.name ? { name: o.controller.name } : {}) };
      const installed = await remoteStep(o, node.node, installParams);
      if (o.upgrade && installed.paired === true) say(`${id} had no desktop to take changes from: paired it with this one`);
      begin('online', `waiting for ${id} to report online on ${redactUrl(watchBroker.url)}…`);
      const status = await watch.until((s) => s.state === 'online' && s.release === release, o.onlineTimeoutMs ?? 90_000);
      if (status) {
        const controller = (installed.controller ?? null) as DeployResult['controller'];
        return { agentId: id, release, service, dir: String(checked.dir), status, agentKey: typeof installed.agentKey === 'string' ? installed.agentKey : null, controller };
      }

      const log = await remoteStep(o, node.node, { step: 'log', dir }).then((r) => String(r.log ?? '').trim(), () => '');
      const tail = log ? `\nits log ends with:\n${log.split('\n').slice(-12).join('\n')}` : '';
      if (o.upgrade) {
        begin('rollback', 'the new version did not come online; rolling back…');
        const back = await remoteStep(o, node.node, { step: 'rollback', dir });
        o.step?.('rollback', `rolled back to ${String(back.release)}`, 'done');
        const again = await watch.until((s) => s.state === 'online' && s.release === back.release, o.onlineTimeoutMs ?? 90_000);
        throw new DeployError(`the upgraded agent did not report online within ${Math.round((o.onlineTimeoutMs ?? 90_000) / 1000)} s; rolled back to ${String(back.release)}${again ? ', which is online again' : ' (which has not reported online yet either)'}${tail}`);
      }
      begin('remove', `${id} did not come online; removing it again…`);
      await remoteStep(o, node.node, { step: 'remove', dir }).catch(() => {});
      await watch.clear().catch(() => {});
      o.step?.('remove', `removed ${id} from ${host} again`, 'done');
      throw new DeployError(`the agent did not report online within ${Math.round((o.onlineTimeoutMs ?? 90_000) / 1000)} s, so it was removed again${tail}`);
    } finally {
      await watch.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface UndeployOptions extends SshTarget {
  dir?: string | undefined;
  node?: string | undefined;
  keepData?: boolean | undefined;
  say?: ((line: string) => void) | undefined;
  step?: ((step: DeployStep, line: string) => void) | undefined;
  /**
   * Called with the agent's id once it is removed, before its retained messages are cleared: the desktop forgets the
   * agent's key here, since a desktop ignores an empty status of an agent whose key it still holds (anyone on the
   * broker could send one).
   */
  removed?: ((agentId: string) => void) | undefined;
}

/** Stop the agent, unregister its service, delete its folder, and clear its retained status on the broker. */
export async function undeploy(o: UndeployOptions): Promise<{ agentId: string | null; cleared: boolean }> {
  const say = o.say ?? (() => {});
  o.step?.('check', `checking ${o.target}…`);
  const node = await probeNode(o, o.node);
  o.step?.('remove', `stopping the agent and removing it from ${o.target}…`);
  const r = await remoteStep(o, node.node, { step: 'remove', dir: o.dir ?? DEFAULT_DIR, keepData: !!o.keepData });
  const agentId = typeof r.agentId === 'string' ? r.agentId : null;
  if (agentId) o.removed?.(agentId);
  let cleared = false;
  if (agentId && typeof r.broker === 'string') {
    try {
      const b = { ...parseBrokerUrl(r.broker), ...(typeof r.password === 'string' ? { password: r.password } : {}) };
      const watch = await StatusWatch.open(b, agentId);
      await watch.clear();
      await watch.close();
      cleared = true;
    } catch (err) {
      say(`(could not clear ${agentId}'s status on the broker: ${(err as Error).message})`);
    }
  }
  return { agentId, cleared };
}
