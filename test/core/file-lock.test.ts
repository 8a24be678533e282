// The lock file that config.json and secrets.json writes go under (core/config/file-lock.ts). When its holder dies
// mid-write the lock stays behind; whoever waits next takes it over. Several waiters notice the dead holder at the
// same moment (they poll every few ms): exactly one of them may end up holding the lock, or two writers each
// rewrite the file from their own read and one's change is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { acquireFileLock, acquireFileLockSync } from '../../core/config/file-lock.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/** A pid that was a process a moment ago and is none now: the holder that died. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid, 'a short-lived process ran');
  return r.pid;
}

// Shared counters between the test and its contenders (each a worker thread: real concurrent calls on the real
// file system; workers share this process's pid, as the engine's config and secret stores do).
const ROUND = 0; // the round the contenders may start
const HOLDING = 1; // contenders that believe they hold the lock now
const OVERLAPS = 2; // times a contender took the lock while another believed it held it
const DONE = 3; // contenders done with this round

const contender = `
const { workerData, parentPort } = require('node:worker_threads');
const { lockFile, shared, rounds, modUrl } = workerData;
const s = new Int32Array(shared);
const pause = new Int32Array(new SharedArrayBuffer(4));
import(modUrl).then(({ acquireFileLockSync }) => {
  parentPort.postMessage('ready');
  for (let round = 1; round <= rounds; round++) {
    while (Atomics.load(s, ${ROUND}) < round) Atomics.wait(s, ${ROUND}, round - 1, 100);
    const release = acquireFileLockSync(lockFile);
    if (Atomics.add(s, ${HOLDING}, 1) > 0) Atomics.add(s, ${OVERLAPS}, 1);
    Atomics.wait(pause, 0, 0, 3); // a short write under the lock
    Atomics.sub(s, ${HOLDING}, 1);
    release();
    Atomics.add(s, ${DONE}, 1);
  }
}).catch((err) => parentPort.postMessage('error: ' + (err && err.stack || err)));
`;

test('waiters that all find a dead holder\'s lock at once: exactly one takes it over at a time', async (t) => {
  const dir = tempDir(t);
  const lockFile = path.join(dir, 'config.json.lock');
  const CONTENDERS = 4;
  const ROUNDS = 150;
  const shared = new SharedArrayBuffer(16);
  const s = new Int32Array(shared);
  const modUrl = new URL('../../core/config/file-lock.js', import.meta.url).href;
  const workers = Array.from({ length: CONTENDERS }, () => new Worker(contender, { eval: true, workerData: { lockFile, shared, rounds: ROUNDS, modUrl } }));
  t.after(() => Promise.all(workers.map((w) => w.terminate())));
  const errors: string[] = [];
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', (m: string) => { if (m !== 'ready') errors.push(m); resolve(); }))));
  for (const w of workers) w.on('message', (m: string) => errors.push(m)).on('error', (err) => errors.push(String(err)));
  assert.deepEqual(errors, []);
  const dead = deadPid();
  for (let round = 1; round <= ROUNDS; round++) {
    writeFileSync(lockFile, String(dead), { mode: 0o600 }); // its holder died while writing
    Atomics.store(s, DONE, 0);
    Atomics.store(s, ROUND, round);
    Atomics.notify(s, ROUND);
    await waitFor(() => Atomics.load(s, DONE) === CONTENDERS || errors.length > 0, `round ${round} to end`, 30_000, 2);
    assert.deepEqual(errors, []);
  }
  assert.equal(Atomics.load(s, OVERLAPS), 0, `contenders that believed they held the lock while another did, over ${ROUNDS} rounds`);
  assert.deepEqual(readdirSync(dir), [], 'nothing left behind (the lock released, no take-over files)');
});

test('a lock whose holder is alive is waited for; releasing twice leaves the next holder\'s lock alone', async (t) => {
  const dir = tempDir(t);
  const lockFile = path.join(dir, 'config.json.lock');
  const first = await acquireFileLock(lockFile);
  let second: (() => void) | null = null;
  const waiting = acquireFileLock(lockFile).then((r) => (second = r));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(second, null, 'the second waits while the first holds it');
  first();
  await waiting;
  assert.ok(second);
  first(); // released twice (a finally after an early release): must not take the second's lock away
  assert.deepEqual(readdirSync(dir), ['config.json.lock'], 'the second\'s lock is still there');
  (second as () => void)();
  assert.deepEqual(readdirSync(dir), []);
  acquireFileLockSync(lockFile)();
});
