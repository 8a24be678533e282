import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

/** A lock held longer than this is from a process that died mid-write (a save takes milliseconds). */
const STALE_MS = 10_000;
const WAIT_MS = 5_000;
/** The take-over guard is held for a few system calls; one this old was left by a waiter that died. */
const GUARD_STALE_MS = 2_000;

/**
 * An advisory lock between processes that write the same file (the engine, the CLI): a lock file created
 * exclusively, holding the owner's pid. Waits while another live process holds it; takes over a lock whose
 * owner is gone or that is older than a save could ever take (one waiter at a time: see takeOver). Returns the
 * function that releases it.
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
 * it (or another waiter is taking a stale one over) and there is time left to wait, an error naming the holder when
 * the wait is over.
 */
function tryLock(lockFile: string, deadline: number, doing: string): (() => void) | null {
  for (;;) {
    const release = createExclusive(lockFile);
    if (release) return release;
    const stale = staleLock(lockFile, STALE_MS);
    if (stale === null || !takeOver(lockFile, stale)) break;
  }
  if (Date.now() > deadline) throw new Error(`${lockFile} is held by process ${ownerOf(lockFile) ?? '?'}; another Panoptes is ${doing}`);
  return null;
}

/**
 * Creates the file only if there is none, holding our pid and a claim no other file ever holds (inode numbers
 * are reused at once, so they cannot tell one holder's file from the next); its release removes exactly that file.
 */
function createExclusive(file: string): (() => void) | null {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  const claim = `${process.pid} ${threadId}-${randomBytes(8).toString('hex')}`;
  try {
    writeSync(fd, claim);
  } finally {
    closeSync(fd);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only our own file: if we held it so long that a waiter took it over, the lock there now is theirs.
    removeIfSame(file, claim);
  };
}

/**
 * Removes a dead holder's lock — the one judged stale, never a lock someone created since. Waiters that judged the
 * same stale lock at the same moment would otherwise each remove it and create their own, the later one removing
 * the lock the earlier had just taken: two writers. So removals go one at a time under a second exclusive file (held
 * for a few system calls), and only the very file judged stale is removed (same claim inside).
 * False when another waiter is doing it (wait and look again).
 */
function takeOver(lockFile: string, staleClaim: string): boolean {
  const guard = `${lockFile}.takeover`;
  const release = createExclusive(guard);
  if (!release) {
    // A waiter that died between these few calls leaves the guard: judged like the lock, sooner.
    const stale = staleLock(guard, GUARD_STALE_MS);
    if (stale !== null) removeIfSame(guard, stale);
    return false;
  }
  try {
    // Under the guard nobody else removes it, and its dead holder cannot: if it is still there, it stays until us.
    if (contentOf(lockFile) === staleClaim) removeIfSame(lockFile, staleClaim);
    return true;
  } finally {
    release();
  }
}

/**
 * Removes the file at this path if it still holds this claim: moved aside first (atomic: of two removers only one
 * moves a given file), then checked; another file moved aside by mistake (its holder outlived the stale time) is
 * put back — link() fails rather than replace one created meanwhile.
 */
function removeIfSame(file: string, claim: string): void {
  const aside = `${file}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.gone`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (contentOf(aside) !== claim) {
      try {
        linkSync(aside, file);
      } catch {
        // taken meanwhile by a new holder: the one we moved is the older claim and stays removed
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function contentOf(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function ownerOf(lockFile: string): number | null {
  return pidIn(contentOf(lockFile) ?? '');
}

/** The holder's pid: the first word (a lock from an older Panoptes holds only the pid). */
function pidIn(text: string): number | null {
  const pid = Number(text.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The claim in the lock file when its holder is gone (or it is older than any holder keeps it), else null. */
function staleLock(file: string, staleMs: number): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null; // gone already: the next try takes it
  }
  // Time and claim from one open file: the path may name another file by the time we look again.
  let mtimeMs: number;
  let claim: string;
  try {
    mtimeMs = fstatSync(fd).mtimeMs;
    const buf = Buffer.alloc(128);
    claim = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
  if (Date.now() - mtimeMs > staleMs) return claim;
  const pid = pidIn(claim);
  if (pid === null) return null; // being written this instant
  if (pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? claim : null;
  }
}
