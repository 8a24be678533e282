import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import logMonitor from '../../monitors/log/index.js';
import { FileTailer } from '../../monitors/log/tailer.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startWithHost, waitFor } from './web-test-context.js';

function tempFile(content = ''): { file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-log-'));
  const file = path.join(dir, 'app.log');
  if (content !== null) writeFileSync(file, content);
  return { file, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// Live memory after a full collection, so garbage not yet collected does not count as held memory.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function collect(t: FileTailer): Promise<string[]> {
  const lines: string[] = [];
  await t.poll((l, truncated) => void lines.push(truncated ? `${l}[cut]` : l));
  return lines;
}

test('starts at the end by default, or at the beginning when asked; a partial line waits for its newline', async () => {
  const { file, cleanup } = tempFile('old 1\nold 2\n');
  const end = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 });
  const begin = new FileTailer(file, { fromBeginning: true, maxLineLength: 1024 });
  assert.deepEqual(await collect(end), []);
  assert.deepEqual(await collect(begin), ['old 1', 'old 2']);
  appendFileSync(file, 'new 1\r\nhalf');
  assert.deepEqual(await collect(end), ['new 1']);
  appendFileSync(file, ' done\n');
  assert.deepEqual(await collect(end), ['half done']);
  await end.close();
  await begin.close();
  cleanup();
});

test('survives rotation: the old file is read to its end, then the new file from its start', async () => {
  const { file, cleanup } = tempFile('');
  const t = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 });
  await collect(t);
  appendFileSync(file, 'before rotation\n');
  renameSync(file, file + '.1');
  appendFileSync(file + '.1', 'late write to the old file\n');
  assert.deepEqual(await collect(t), ['before rotation', 'late write to the old file'], 'rotated, new file not there yet');
  writeFileSync(file, 'first in new file\n');
  assert.deepEqual(await collect(t), ['first in new file']);
  // Rotation where the new file already exists at the next poll.
  appendFileSync(file, 'a\n');
  renameSync(file, file + '.2');
  writeFileSync(file, 'b\n');
  assert.deepEqual(await collect(t), ['a', 'b']);
  await t.close();
  cleanup();
});

test('survives truncation in place (copytruncate) and a deleted then recreated file', async () => {
  const { file, cleanup } = tempFile('x'.repeat(100) + '\n');
  const t = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 });
  await collect(t);
  truncateSync(file, 0);
  appendFileSync(file, 'after truncate\n');
  assert.deepEqual(await collect(t), ['after truncate']);
  rmSync(file);
  assert.deepEqual(await collect(t), []);
  writeFileSync(file, 'recreated\n');
  assert.deepEqual(await collect(t), ['recreated']);
  await t.close();
  cleanup();
});

test('over-long lines are cut at the limit and the rest skipped, also when the line arrives in pieces', async () => {
  const { file, cleanup } = tempFile('');
  const t = new FileTailer(file, { fromBeginning: false, maxLineLength: 256, chunkSize: 100 });
  await collect(t);
  appendFileSync(file, 'a'.repeat(1000) + '\nshort\n' + 'b'.repeat(256) + '\n');
  assert.deepEqual(await collect(t), ['a'.repeat(256) + '[cut]', 'short', 'b'.repeat(256)]);
  appendFileSync(file, 'c'.repeat(300));
  assert.deepEqual(await collect(t), ['c'.repeat(256) + '[cut]'], 'cut as soon as it is too long');
  appendFileSync(file, 'c'.repeat(5000) + '\nnext\n');
  assert.deepEqual(await collect(t), ['next'], 'the rest of the long line is skipped');
  await t.close();
  cleanup();
});

test('a restart resumes at the saved position: lines written while stopped are not lost', async () => {
  const { file, cleanup } = tempFile('one\n');
  const first = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 });
  await collect(first);
  appendFileSync(file, 'two\n');
  assert.deepEqual(await collect(first), ['two']);
  const saved = first.position()!;
  await first.close();
  appendFileSync(file, 'three\n');
  const second = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 }, saved);
  assert.deepEqual(await collect(second), ['three']);
  await second.close();
  // Replaced while stopped (different inode): the new file is new in full.
  rmSync(file);
  writeFileSync(file, 'replaced\n');
  const third = new FileTailer(file, { fromBeginning: false, maxLineLength: 1024 }, second.position()!);
  assert.deepEqual(await collect(third), ['replaced']);
  await third.close();
  cleanup();
});

test('the monitor under the real host: regex filter with named groups as fields; waits for a missing file', async (t) => {
  const { file, cleanup } = tempFile();
  t.after(cleanup);
  rmSync(file);
  const run = await startWithHost(logMonitor, { path: file, pattern: '^(?<level>ERROR|WARN) (?<msg>.*)$', pollInterval: '250ms' });
  t.after(() => run.stop());
  await waitFor(() => run.health.some((h) => h.status === 'degraded' && /waiting for/.test(h.message ?? '')), 'waiting health');
  writeFileSync(file, 'INFO started\nERROR disk full\nWARN slow\n');
  await waitFor(() => run.events.length === 2, 'two matching lines');
  assert.deepEqual(run.events.map((e) => e.fields), [
    { level: 'ERROR', msg: 'disk full', file, line: 'ERROR disk full', truncated: false },
    { level: 'WARN', msg: 'slow', file, line: 'WARN slow', truncated: false },
  ]);
  assert.equal(run.events[0]!.type, 'log.line');
  // Health is said after the pass that read the lines, so it may come a moment after the events.
  await waitFor(() => run.health.at(-1)!.status === 'ok', 'health ok once the file is read');
  await run.stop();

  // Restarted with the same state: continues after the last line, nothing repeated.
  appendFileSync(file, 'ERROR while stopped\n');
  const again = await startWithHost(logMonitor, { path: file, pattern: '^(?<level>ERROR|WARN) (?<msg>.*)$', pollInterval: '250ms' }, { state: run.state });
  t.after(() => again.stop());
  await waitFor(() => again.events.length === 1, 'the line written while stopped');
  assert.equal(again.events[0]!.fields!.msg, 'while stopped');
});

test('a burst of 100,000 lines arrives in full, in order, without buffering the file', async (t) => {
  const { file, cleanup } = tempFile('');
  t.after(cleanup);
  let count = 0;
  let ordered = true;
  let peak = 0;
  const run = await startWithHost(
    logMonitor,
    { path: file, pattern: '^line (?<n>\\d+) ', pollInterval: '250ms' },
    {
      onEmit: (e) => {
        if (Number(e.fields!.n) !== count) ordered = false;
        count++;
        if (count % 10_000 === 0) peak = Math.max(peak, liveBytes());
      },
    },
  );
  t.after(() => run.stop());
  await waitFor(() => run.health.some((h) => h.status === 'ok'), 'started');
  const baseline = liveBytes();
  // ~50 MB written at once: far more than the bounded reader may hold.
  const fd = openSync(file, 'a');
  const pad = 'x'.repeat(480);
  let batch = '';
  for (let i = 0; i < 100_000; i++) {
    batch += `line ${i} ${pad}\n`;
    if (i % 1000 === 999) {
      writeSync(fd, batch);
      batch = '';
    }
  }
  closeSync(fd);
  const started = Date.now();
  await waitFor(() => count === 100_000, '100,000 lines', 120_000);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(ordered, 'lines arrive in file order');
  const growthMb = (peak - baseline) / 1024 / 1024;
  console.log(`# log burst: 100,000 lines (${(100_000 * 490) / 1e6} MB) in ${seconds.toFixed(2)} s, live memory growth at peak ${growthMb.toFixed(1)} MB`);
  assert.ok(growthMb < 16, `memory stays bounded (live memory grew ${growthMb.toFixed(1)} MB during a 49 MB burst)`);
});

test('monitor test shows the last matching lines now; a missing file is a one-line reason; bad config names the field', async () => {
  const lines = Array.from({ length: 100 }, (_, i) => `${i % 2 ? 'ERROR' : 'INFO'} event ${i}`);
  const { file, cleanup } = tempFile(lines.join('\n') + '\n');
  const events = await dryRunMonitor(logMonitor, { path: file, pattern: '^ERROR' });
  assert.equal(events.length, 20);
  assert.equal(events.at(-1)!.fields.line, 'ERROR event 99');
  assert.equal(events[0]!.fields.line, 'ERROR event 61');
  await assert.rejects(dryRunMonitor(logMonitor, { path: file + '.nope' }), /does not exist/);
  await assert.rejects(dryRunMonitor(logMonitor, { path: 'relative.log' }), /path: give the full path/);
  await assert.rejects(dryRunMonitor(logMonitor, { path: file, pattern: '(?<line>.*)' }), /pattern: named groups may not be called/);
  await assert.rejects(dryRunMonitor(logMonitor, { path: file, pattern: '(a)\\1' }), /pattern: backreference \\1 is not supported/);
  cleanup();
});
