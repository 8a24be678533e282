// The desktop's identity towards its agents: an Ed25519 key pair made on first use and kept in the data folder as
// `fleet-key` (0600, like `agent-token`), so `panoptes deploy` can hand its public half to a new agent whether or not
// the app runs. Only the public key ever leaves this machine.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyIdOf, publicKeyText } from './wire.js';

export interface FleetIdentity {
  privateKey: KeyObject;
  /** Base64url of the raw public key, as written into an agent's configuration. */
  publicKey: string;
  keyId: string;
}

export const FLEET_KEY_FILE = 'fleet-key';

function fromPrivate(privateKey: KeyObject): FleetIdentity {
  const publicKey = publicKeyText(createPublicKey(privateKey));
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * This data folder's fleet key, or null when it has none: a desktop that only receives events, or has deployed
 * nothing yet, has no use for a private key, so reading never makes one.
 */
export function loadIdentity(dataDir: string): FleetIdentity | null {
  const file = path.join(dataDir, FLEET_KEY_FILE);
  if (!existsSync(file)) return null;
  chmodSync(file, 0o600);
  try {
    return fromPrivate(createPrivateKey(readFileSync(file, 'utf8')));
  } catch (err) {
    // Never replace a key silently: every agent paired with it would stop taking changes.
    throw new Error(`${file} is not a usable key (${(err as Error).message}); restore it from a backup, or remove it and deploy your agents again`);
  }
}

/** This data folder's fleet key, made (and written 0600) when there is none yet: deploying an agent pairs it with it. */
export function loadOrCreateIdentity(dataDir: string): FleetIdentity {
  const file = path.join(dataDir, FLEET_KEY_FILE);
  const known = loadIdentity(dataDir);
  if (known) return known;
  const { privateKey } = generateKeyPairSync('ed25519');
  const tmp = file + '.tmp';
  writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return fromPrivate(privateKey);
}
