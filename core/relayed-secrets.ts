import { mergeSecretValues, type SecretStore } from './secrets.js';

/**
 * Secrets when the engine runs inside the desktop app. The engine's utilityProcess has no Electron safeStorage, so
 * the desktop shell's main process owns the encryption: it decrypts the secrets file when it starts the engine,
 * hands the values over the process port, and encrypts again whenever the engine reports a change. The engine
 * keeps them in memory only. The wire messages of that exchange are in shell-messages.ts with the shell's other messages.
 */

import type { SecretsData, SecretsReplyMessage } from './shell-messages.js';
export type { SecretsData, SecretsChangedMessage, SecretsReplyMessage, SecretsRequestMessage } from './shell-messages.js';

/** The shape every secrets source must have; anything else is refused with the path that is wrong. */
export function parseSecretsData(value: unknown, what = 'secrets'): SecretsData {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: expected an object of owners`);
  const out: SecretsData = {};
  for (const [owner, fields] of Object.entries(value as Record<string, unknown>)) {
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new Error(`${what}: "${owner}" should be an object of fields`);
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new Error(`${what}: "${owner}.${k}" should be a string`);
      clean[k] = v;
    }
    out[owner] = clean;
  }
  return out;
}

export function isSecretsReply(msg: unknown): msg is SecretsReplyMessage {
  const m = msg as { type?: unknown; mode?: unknown; reason?: unknown; data?: unknown } | null;
  if (!m || m.type !== 'secrets') return false;
  if (m.mode === 'file') return typeof m.reason === 'string';
  if (m.mode !== 'relay') return false;
  try {
    parseSecretsData(m.data);
    return true;
  } catch {
    return false;
  }
}

/** The engine's side: an in-memory SecretStore that reports each change to whoever persists it. */
export class RelayedSecretStore implements SecretStore {
  private data: SecretsData;

  constructor(initial: SecretsData, private readonly onChange: (snapshot: SecretsData) => void) {
    this.data = parseSecretsData(initial);
  }

  get(owner: string): Record<string, string> {
    return { ...(this.data[owner] ?? {}) };
  }

  set(owner: string, values: Record<string, string | null | undefined>): void {
    const next = mergeSecretValues(this.data[owner], values);
    this.data = { ...this.data, [owner]: next };
    this.onChange(this.snapshot());
  }

  delete(owner: string): void {
    if (!(owner in this.data)) return;
    const { [owner]: _gone, ...rest } = this.data;
    this.data = rest;
    this.onChange(this.snapshot());
  }

  snapshot(): SecretsData {
    return Object.fromEntries(Object.entries(this.data).map(([o, f]) => [o, { ...f }]));
  }
}
