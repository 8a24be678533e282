import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets (passwords, tokens) live apart from the config document. Headless: a JSON file readable by the user
 * alone (0600). The desktop shell can provide a store encrypted with Electron safeStorage behind the same
 * interface. Values never reach logs, traces or exports.
 */
/** Apply a change to one owner's secrets: null removes a field; undefined or '' leaves it as it was. */
export function mergeSecretValues(current: Record<string, string> | undefined, values: Record<string, string | null | undefined>): Record<string, string> {
  const next = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(values)) {
    if (v === null) delete next[k];
    else if (v !== undefined && v !== '') next[k] = String(v);
  }
  return next;
}

export interface SecretStore {
  get(owner: string): Record<string, string>;
  set(owner: string, values: Record<string, string | null | undefined>): void;
  delete(owner: string): void;
}

export class FileSecretStore implements SecretStore {
  readonly file: string;
  private data: Record<string, Record<string, string>> = {};

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'secrets.json');
    if (existsSync(this.file)) {
      try {
        this.data = JSON.parse(readFileSync(this.file, 'utf8'));
      } catch {
        throw new Error(`${this.file} is not valid JSON; fix or remove it (it holds only passwords and tokens)`);
      }
      chmodSync(this.file, 0o600);
    }
  }

  get(owner: string): Record<string, string> {
    return { ...(this.data[owner] ?? {}) };
  }

  set(owner: string, values: Record<string, string | null | undefined>): void {
    const next = mergeSecretValues(this.data[owner], values);
    this.data[owner] = next;
    this.persist();
  }

  delete(owner: string): void {
    delete this.data[owner];
    this.persist();
  }

  private persist(): void {
    const tmp = this.file + '.tmp';
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}

export class MemorySecretStore implements SecretStore {
  private data: Record<string, Record<string, string>> = {};
  get(owner: string) {
    return { ...(this.data[owner] ?? {}) };
  }
  set(owner: string, values: Record<string, string | null | undefined>) {
    const next = mergeSecretValues(this.data[owner], values);
    this.data[owner] = next;
  }
  delete(owner: string) {
    delete this.data[owner];
  }
}
