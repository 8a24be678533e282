// process, command and folder checks on this machine: processes and scripts started by the test, a temp folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import processCheck from '../../monitors/process/index.js';
import command from '../../monitors/command/index.js';
import folder from '../../monitors/folder/index.js';
import { globToPattern } from '../../monitors/folder/glob.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';

const said = (t: { healthLog: string[] }) => t.healthLog.filter((h) => h !== 'ok').at(-1) ?? '';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'panoptes-host-checks-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

async function checkRuns<C>(def: MonitorDefinition<C>, config: Record<string, unknown>, times = 1) {
  const t = createTestContext(def, { retries: 1, ...config });
  await t.instance.start();
  for (let i = 0; i < times; i++) await t.tick();
  await t.stop();
  return t;
}

/** A script the test writes and runs (bash, found by its #! line: argv is the script itself, no shell in between). */
function script(name: string, body: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test('process: found by name and by command line with count and memory; absent is down; thresholds give process.over once', async () => {
  const marker = `panoptes-sleeper-${process.pid}`;
  const sleeper = script(marker, 'exec sleep 60');
  for (let i = 0; i < 3; i++) children.push(spawn(sleeper, [], { stdio: 'ignore' }));
  const burner = script(`burn-${process.pid}`, 'while :; do :; done');
  await new Promise((r) => setTimeout(r, 200));

  const byName = await checkRuns(processCheck, { name: 'sleep' });
  assert.match(said(byName), /^ok: up/);
  const byLine = await checkRuns(processCheck, { commandLine: `sleep 60`, minCount: 3, maxCount: 3 });
  assert.match(said(byLine), /^ok: up/);
  const tooMany = await checkRuns(processCheck, { commandLine: 'sleep 60', maxCount: 2 }, 2);
  const overs = tooMany.events.filter((e) => e.type === 'process.over');
  assert.equal(overs.length, 1, 'once while it stays over');
  assert.deepEqual(overs[0]!.fields!.over, ['count']);
  assert.ok((overs[0]!.fields!.memoryMB as number) >= 0);
  const absent = await checkRuns(processCheck, { name: 'no-such-daemon' });
  assert.equal(said(absent), 'degraded: down: no-such-daemon is not running');

  // Memory over its limit is process.over once; back under it (here: a higher limit, the same remembered state) process.normal.
  const memState = new Map<string, unknown>();
  const heavy = createTestContext(processCheck, { commandLine: 'sleep 60', maxMemoryMB: 0.1, retries: 1 }, { state: memState });
  await heavy.instance.start();
  await heavy.tick();
  await heavy.tick();
  await heavy.stop();
  assert.deepEqual(heavy.events.filter((e) => e.type === 'process.over').map((e) => e.fields!.over), [['memory']]);
  const light = createTestContext(processCheck, { commandLine: 'sleep 60', maxMemoryMB: 100_000, retries: 1 }, { state: memState });
  await light.instance.start();
  await light.tick();
  await light.stop();
  assert.deepEqual(light.events.filter((e) => e.type.startsWith('process.')).map((e) => e.type), ['process.normal']);
  const tested = await dryRunMonitor(processCheck, { name: 'no-such-daemon' });
  assert.deepEqual(tested.map((e) => e.type), ['check.down', 'check.sample'], '"Test now"');

  const b = spawn(burner, [], { stdio: 'ignore' });
  children.push(b);
  const cpu = createTestContext(processCheck, { commandLine: `burn-${process.pid}`, maxCpuPercent: 5, retries: 1 });
  await cpu.instance.start();
  await cpu.tick();
  await new Promise((r) => setTimeout(r, 1_000));
  await cpu.tick();
  await cpu.stop();
  const cpuOver = cpu.events.find((e) => e.type === 'process.over');
  // 5 %: the machine running the tests may be busy, and a loop still gets far more than that.
  assert.ok(cpuOver, `a busy loop is over 5% CPU: ${said(cpu)}`);
  assert.deepEqual(cpuOver.fields!.over, ['cpu']);
  b.kill('SIGKILL');
  assert.equal(processCheck.configSchema.safeParse({ commandLine: '(a' }).success, false);
  assert.equal(processCheck.configSchema.safeParse({}).success, false, 'a name or a pattern is needed');
});

test('command: exit status is up/down; stdout as one result, as JSON lines, or by a pattern with named groups', async () => {
  const ok = script('ok.sh', 'echo "all good"');
  const r = await checkRuns(command, { argv: [ok] });
  assert.match(said(r), /^ok: up/);
  const result = r.events.find((e) => e.type === 'command.result')!;
  assert.equal(result.fields!.exitCode, 0);
  assert.equal(result.fields!.stdout, 'all good\n');

  const fails = script('fails.sh', 'echo "disk on fire" >&2; exit 3');
  assert.equal(said(await checkRuns(command, { argv: [fails] })), `degraded: down: ${fails} exited with 3: disk on fire`);
  assert.match(said(await checkRuns(command, { argv: [fails], okExitCodes: [0, 3] })), /^ok: up/);

  const json = script('json.sh', 'echo \'{"mount":"/","percent":71}\'; echo \'{"mount":"/home","percent":40}\'; echo not json');
  const j = await checkRuns(command, { argv: [json], output: 'json-lines' });
  assert.deepEqual(j.events.filter((e) => e.type === 'command.line').map((e) => [e.fields!.mount, e.fields!.percent]), [['/', 71], ['/home', 40]]);

  const df = script('df.sh', 'printf "/dev/sda1 71%% /\\n/dev/sdb1 40%% /home\\nheader line\\n"');
  const re = await checkRuns(command, { argv: [df], output: 'regex', pattern: '^(?<dev>\\S+) (?<percent>\\d+)% (?<mount>\\S+)$' });
  assert.deepEqual(re.events.filter((e) => e.type === 'command.line').map((e) => [e.fields!.mount, e.fields!.percent]), [['/', '71'], ['/home', '40']]);

  const args = script('args.sh', 'printf "%s|" "$@"');
  const a = await checkRuns(command, { argv: [args, 'a b', '$HOME', '; rm -rf /', '`id`'] });
  assert.equal(a.events.find((e) => e.type === 'command.result')!.fields!.stdout, 'a b|$HOME|; rm -rf /|`id`|', 'arguments reach the program as they are: no shell');

  assert.equal(command.configSchema.safeParse({ argv: ['x'], output: 'regex', pattern: '(?=look)ahead' }).success, false, 'RE2 refuses look-ahead');
  assert.equal(command.configSchema.safeParse({ argv: ['x'], output: 'regex' }).success, false, 'regex needs a pattern');
  const events = await dryRunMonitor(command, { argv: [ok] });
  assert.deepEqual(events.map((e) => e.type), ['command.result', 'check.up', 'check.sample']);
});

test('command: a program that hangs is ended at the timeout, one that floods stdout at the cap, a missing one is named; none blocks another', async () => {
  const hangs = script('hangs.sh', 'sleep 30 & sleep 30; echo never');
  const floods = script('floods.sh', 'yes "flood flood flood"');
  const started = Date.now();
  const [h, f, m, quick] = await Promise.all([
    checkRuns(command, { argv: [hangs], timeout: '1s' }),
    checkRuns(command, { argv: [floods], maxOutputBytes: 65536 }),
    checkRuns(command, { argv: [path.join(tmp, 'missing')] }),
    checkRuns(command, { argv: ['/bin/true'] }),
  ]);
  assert.ok(Date.now() - started < 8_000, 'they ran side by side and the hang was cut short');
  assert.equal(said(h), `degraded: down: ${hangs} did not finish within 1 s and was ended`);
  assert.equal(said(f), `degraded: down: ${floods} wrote more than 65536 bytes and was ended`);
  assert.ok((f.events.find((e) => e.type === 'command.result')!.fields!.stdout as string).length <= 65536);
  assert.equal(said(m), `degraded: down: no program ${path.join(tmp, 'missing')} (give the full path, or check PATH)`);
  assert.match(said(quick), /^ok: up/);
});

test('folder: created, changed (once settled) and removed, recursive with glob filters; a vanished folder is a clear health message', async () => {
  const dir = path.join(tmp, 'watched');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'old.txt'), 'x');
  const state = new Map<string, unknown>();
  const t = createTestContext(folder, { path: dir, include: ['*.txt', 'sub/**/*.csv'], exclude: ['*.tmp.txt'], interval: '1s' }, { state });
  await t.instance.start();
  await t.tick();
  assert.equal(t.events.length, 0, 'the first look is the baseline');

  writeFileSync(path.join(dir, 'new.txt'), 'hello');
  writeFileSync(path.join(dir, 'skip.tmp.txt'), 'x');
  writeFileSync(path.join(dir, 'image.png'), 'x');
  mkdirSync(path.join(dir, 'sub', 'deep'));
  writeFileSync(path.join(dir, 'sub', 'deep', 'data.csv'), '1,2');
  await t.tick();
  assert.equal(t.events.length, 0, 'new files wait one look to settle');
  appendFileSync(path.join(dir, 'new.txt'), ' world, still writing');
  await t.tick();
  assert.deepEqual(t.events.map((e) => e.title), ['Created: sub/deep/data.csv'], 'data.csv settled; new.txt is still being written');
  await t.tick();
  assert.deepEqual(t.events.map((e) => e.title), ['Created: sub/deep/data.csv', 'Created: new.txt'], 'one event for a file written in bursts');
  assert.equal(t.events[1]!.fields!.size, 26);

  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(path.join(dir, 'old.txt'), 'changed');
  rmSync(path.join(dir, 'sub', 'deep', 'data.csv'));
  await t.tick();
  await t.tick();
  assert.deepEqual(t.events.slice(2).map((e) => e.title).sort(), ['Changed: old.txt', 'Removed: sub/deep/data.csv']);

  renameSync(dir, dir + '-gone');
  await t.tick();
  assert.match(t.errors.at(-1)!, /the folder .*watched does not exist \(removed, renamed, or a disk not mounted\); watching for it to come back/);
  renameSync(dir + '-gone', dir);
  const before = t.events.length;
  await t.tick();
  assert.equal(t.events.length, before, 'back as it was: nothing reported');
  await t.stop();

  assert.equal(globToPattern('reports/**/*.csv'), 'reports/(?:.*/)?[^/]*\\.csv');
  const events = await dryRunMonitor(folder, { path: dir, include: ['*.txt'], exclude: ['*.tmp.txt'] });
  assert.deepEqual(events.map((e) => e.title), ['Created: new.txt', 'Created: old.txt']);
});

test('process, command and folder patterns go through the user-pattern checks: the message names what is wrong', () => {
  const issue = (def: MonitorDefinition<any>, cfg: unknown) => {
    const r = def.configSchema.safeParse(cfg);
    return r.success ? 'accepted' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };
  assert.match(issue(processCheck, { commandLine: '(\\w+) \\1' }), /^commandLine: backreference \\1 is not supported/);
  assert.match(issue(processCheck, { commandLine: 'backup(' }), /^commandLine: unterminated group/);
  assert.match(issue(command, { argv: ['x'], output: 'regex', pattern: '(?=look)ahead' }), /^pattern: lookahead \(\?=…\) is not supported/);
  // A group named like one of the event's own fields is refused even when the pattern cannot match an empty line.
  assert.match(issue(command, { argv: ['x'], output: 'regex', pattern: '^(?<line>\\S+)$' }), /^pattern: named groups may not be called line, exitCode, command/);
  assert.match(issue(folder, { path: '/tmp', include: ['*.{pdf,txt'] }), /^include\.0: "\{" at position 3 is not closed/);
});
