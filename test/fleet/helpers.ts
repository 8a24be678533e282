// What the fleet tests share: an agent paired with a desktop the way `panoptes deploy` pairs it — the desktop's public
// key and a pairing id in the agent's config, the agent's own key pair in its data folder (`agent-key`, 0600), and
// the agent's public key recorded at the desktop (`fleet-agents.json`, 0600) — without an SSH deploy, so tests of
// what happens after a deploy start the agent process directly.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeConfig } from '../forwarding/helpers.js';

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
