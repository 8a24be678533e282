import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquireFileLockSync } from './config/file-lock.js';

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

/**
 * The headless store. More than one process writes it — the agent, and `panoptes monitor signin` when no agent runs
 * (it waits minutes for the user, so an agent may start meanwhile) — and each keeps a copy. So every change is a
 * read-modify-write under the same lock file the config document uses, starting from what is on disk now and
 * changing only the fields it names; reads take in what another process wrote since. Written through a temp file
 * and a rename, so a reader never sees half a file.
 */
export class FileSecretStore implements SecretStore {
  readonly file: string;
  private data: Record<string, Record<string, string>> = {};
  /** The file as last read or written (inode, size, change time): another process's write changes it. */
  private seen = '';

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'secrets.json');
    if (existsSync(this.file)) {
      const stamp = this.stamp();
      try {
        this.data = JSON.parse(readFileSync(this.file, 'utf8'));
      } catch {
        throw new Error(`${this.file} is not valid JSON; fix or remove it (it holds only passwords and tokens)`);
      }
      this.seen = stamp;
      chmodSync(this.file, 0o600);
    }
  }

  get(owner: string): Record<string, string> {
    this.takeInDiskChanges();
    return { ...(this.data[owner] ?? {}) };
  }

  set(owner: string, values: Record<string, string | null | undefined>): void {
    this.change((d) => void (d[owner] = mergeSecretValues(d[owner], values)));
  }

  delete(owner: string): void {
    this.change((d) => void delete d[owner]);
  }

  private change(mutate: (data: Record<string, Record<string, string>>) => void): void {
    const release = acquireFileLockSync(this.file + '.lock');
    try {
      this.takeInDiskChanges();
      mutate(this.data);
      this.persist();
    } finally {
      release();
    }
  }

  private stamp(): string {
    try {
      const s = statSync(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.ctimeNs}:${s.mtimeNs}`;
    } catch {
      return '';
    }
  }

  /** Another process wrote the file since we last saw it: its copy is the newer one. */
  private takeInDiskChanges(): void {
    const now = this.stamp();
    if (now === this.seen || !now) return; // unchanged, or removed by hand (the next write puts back what we hold)
    try {
      this.data = JSON.parse(readFileSync(this.file, 'utf8'));
      this.seen = now;
    } catch {
      // Broken by a hand edit since: keep the last good copy rather than forget every secret.
    }
  }

  private persist(): void {
    // A temp name of our own: two processes never write the same temp file (the lock makes that doubly sure).
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.seen = this.stamp();
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
