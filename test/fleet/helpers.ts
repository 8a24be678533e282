// What the fleet tests share: an agent paired with a desktop the way `panoptes deploy` pairs it — the desktop's public
// key and a pairing id in the agent's config, the agent's own key pair in its data folder (`agent-key`, 0600), and
// the agent's public key recorded at the desktop (`fleet-agents.json`, 0600) — without an SSH deploy, so tests of
// what happens after a deploy start the agent process directly.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeConfig } from '../forwarding/helpers.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity, type FleetIdentity } from '../../engine/fleet/identity.js';
import { tempDir } from '../helpers/tmp.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

export interface PairedAgent {
  agentId: string;
  dir: string;
  pairing: string;
  /** The agent's public key (raw Ed25519, base64url), as deploy reads it. */
  publicKey: string;
}

export function pairAgent(desktop: { dir: string; publicKey: string }, agentDir: string, agentId: string, extraConfig: Record<string, unknown> = {}): PairedAgent {
  const pairing = `pair-${agentId}-${randomBytes(6).toString('hex')}`;
  writeConfig(agentDir, { ...extraConfig, fleet: { controller: { publicKey: desktop.publicKey, pairing } } });
  const raw = writeAgentKey(agentDir);
  const file = path.join(desktop.dir, 'fleet-agents.json');
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...known, [agentId]: { publicKey: raw, pairing, at: new Date().toISOString() } }, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { agentId, dir: agentDir, pairing, publicKey: raw };
}

/** An agent's own key in its data folder (`agent-key`, 0600, as deploy makes it); returns its public half as recorded. */
export function writeAgentKey(agentDir: string): string {
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path.join(agentDir, 'agent-key'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return (publicKey.export({ format: 'jwk' }) as { x: string }).x;
}

export interface PairedFleet {
  broker: Mosquitto;
  /** The test's temp folder: the desktop's data folder and a1's are in it. */
  root: string;
  desktopDir: string;
  identity: FleetIdentity;
  a1: PairedAgent;
  desktop: Engine;
  /** a1's running process (the latest one started). */
  readonly agent: RunningAgent;
  /** Start a1 (again), forwarding to the broker; stopped when the test ends. */
  startAgent(): Promise<RunningAgent>;
}

/**
 * What most fleet tests start from: a real Mosquitto, a desktop data folder receiving from it with its fleet key, one
 * agent `a1` paired with it as deploy pairs it and running as `panoptes agent --forward`, and the desktop engine open.
 * `agentConfig` is a1's configuration beyond its pairing (it may write files under `root`); `beforeAgentStarts` changes
 * the pairing before a1 starts (say, to forget its key).
 */
export async function pairedFleet(
  t: { after(fn: () => unknown): void },
  o: { prefix: string; persistence?: boolean; desktopConfig?: Record<string, unknown>; agentConfig?: (root: string, brokerUrl: string) => Record<string, unknown>; beforeAgentStarts?: (desktopDir: string) => void },
): Promise<PairedFleet> {
  const broker = await startMosquitto({ persistence: o.persistence ?? false });
  t.after(() => broker.close());
  const root = tempDir(t, o.prefix);
  const desktopDir = path.join(root, 'desktop');
  writeConfig(desktopDir, { forwarding: { subscribe: [{ url: broker.url }] }, ...o.desktopConfig });
  const identity = loadOrCreateIdentity(desktopDir);
  const a1 = pairAgent({ dir: desktopDir, publicKey: identity.publicKey }, path.join(root, 'a1'), 'a1', o.agentConfig?.(root, broker.url) ?? {});
  o.beforeAgentStarts?.(desktopDir);
  let current: RunningAgent | null = null;
  const start = async () => (current = await startAgent(a1.dir, ['--forward', broker.url, '--agent-id', 'a1']));
  t.after(() => current?.stop());
  await start();
  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  return {
    broker,
    root,
    desktopDir,
    identity,
    a1,
    desktop,
    get agent() {
      return current!;
    },
    startAgent: start,
  };
}
