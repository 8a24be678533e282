import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';

/** A lock held longer than this is from a process that died mid-write (a save takes milliseconds). */
const STALE_MS = 10_000;
const WAIT_MS = 5_000;

/**
 * An advisory lock between processes that write the same file (the engine, the CLI): a lock file created
 * exclusively, holding the owner's pid. Waits while another live process holds it; takes over a lock whose
 * owner is gone or that is older than a save could ever take. Returns the function that releases it.
 */
export async function acquireFileLock(lockFile: string): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const release = tryLock(lockFile, deadline, 'saving the configuration');
    if (release) return release;
    await new Promise((r) => setTimeout(r, 15));
  }
}

/**
 * The same lock for a short synchronous write (the secret store: its interface is synchronous). Waits by blocking
 * the thread for a few ms at a time — a holder keeps it only while it writes a small file.
 */
export function acquireFileLockSync(lockFile: string): () => void {
  const deadline = Date.now() + WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const release = tryLock(lockFile, deadline, 'saving secrets');
    if (release) return release;
    Atomics.wait(pause, 0, 0, 5);
  }
}

/**
 * One attempt: the release function when the lock is ours (a stale one taken over), null when a live process holds
 * it and there is time left to wait, an error naming the holder when the wait is over.
 */
function tryLock(lockFile: string, deadline: number, doing: string): (() => void) | null {
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!isStale(lockFile)) break;
    rmSync(lockFile, { force: true });
  }
  if (Date.now() > deadline) throw new Error(`${lockFile} is held by process ${ownerOf(lockFile) ?? '?'}; another Panoptes is ${doing}`);
  return null;
}

function ownerOf(lockFile: string): number | null {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isStale(lockFile: string): boolean {
  try {
    if (Date.now() - statSync(lockFile).mtimeMs > STALE_MS) return true;
  } catch {
    return false; // gone already: the next try takes it
  }
  const pid = ownerOf(lockFile);
  if (pid === null) return false; // being written this instant
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
