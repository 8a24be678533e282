import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run as replayCmd } from '../../cli/commands/replay.js';
import { run as rulesCmd } from '../../cli/commands/rules.js';
import { main } from '../../cli/cli.js';

function io(dataDir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => out.push(String(d)));
  stderr.on('data', (d) => err.push(String(d)));
  return { io: { stdout, stderr, dataDir }, out: () => out.join(''), err: () => err.join('') };
}

const goodRule = { id: 'burst', when: { type: 'mail.received' }, pattern: { count: 2, within: '10m' }, then: [{ notify: { title: '{{ count }} mails, last: {{ title }}' } }] };
const badRule = { id: 'bad', if: { field: 'title', matches: '(a)\\1' }, then: [{ notify: { title: 'x' } }] };

test('panoptes replay prints one JSON line per firing and reports bad rules and lines on stderr', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-replay-'));
  try {
    writeFileSync(path.join(dir, 'rules.json'), JSON.stringify([goodRule, badRule]));
    writeFileSync(
      path.join(dir, 'events.jsonl'),
      [
        JSON.stringify({ id: 'a', ts: '2026-03-02T10:00:00Z', type: 'mail.received', title: 'one' }),
        'not json',
        JSON.stringify({ id: 'b', ts: '2026-03-02T10:10:00Z', type: 'mail.received', title: 'two' }),
      ].join('\n'),
    );
    const t = io(dir);
    const code = await replayCmd(['--rules', path.join(dir, 'rules.json'), '--events', path.join(dir, 'events.jsonl')], t.io);
    assert.equal(code, 1, 'problems in the input give exit code 1, the rest still runs');
    const lines = t.out().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [{ rule: 'burst', at: '2026-03-02T10:10:00.000Z', events: ['a', 'b'], actions: [{ notify: { title: '2 mails, last: two', body: '', url: null, priority: 'normal', sound: false } }] }]);
    assert.match(t.err(), /rule "bad" \$\[1\]\.if\.matches: backreference \\1 is not supported/);
    assert.match(t.err(), /line 2: not valid JSON/);
    const unknown = io(dir);
    assert.equal(await main(['replay', '--rules', 'x', '--bogus'], unknown.io.stdout, unknown.io.stderr), 2);
    assert.match(unknown.err(), /unknown option --bogus/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('panoptes rules validate / import / export', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-rules-'));
  try {
    const file = path.join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify([goodRule, badRule]));
    const v = io(dir);
    assert.equal(await rulesCmd(['validate', file], v.io), 1);
    assert.match(v.out(), /1 of 2 rules valid/);
    const refused = io(dir);
    assert.equal(await rulesCmd(['import', file], refused.io), 1);
    assert.match(refused.err(), /nothing imported/);
    const imported = io(dir);
    assert.equal(await rulesCmd(['import', file, '--skip-invalid'], imported.io), 1);
    const exported = path.join(dir, 'out.json');
    assert.equal(await rulesCmd(['export', exported], io(dir).io), 0);
    assert.deepEqual(JSON.parse(readFileSync(exported, 'utf8')), [goodRule]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
