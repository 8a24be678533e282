// A jq program that jq itself would refuse is refused at the form's field, not first at the check: the monitor form's
// `monitors.validate` (and adding or changing the monitor) has jq compile the program, in the filter worker with a
// time budget, and answers jq's own message at the filter line. The balanced-brackets check alone caught only
// unclosed brackets and strings. The program is compiled, never run on anything, so validating costs nothing
// however long the program would run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../helpers/tmp.js';

type Issues = { issues: { path: string; message: string }[] };

test('monitors.validate answers jq’s compile errors at the filter line; valid programs (even endless ones) pass', { timeout: 120_000 }, async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const validate = async (filters: string[]) => ((await engine.request('monitors.validate', { type: 'web', config: { url: 'http://127.0.0.1:9/api', filters } })) as Issues).issues;

  assert.deepEqual(await validate(['css:#x', 'jq:.products | mapp(.name)']), [
    { path: '$.filters[1]', message: 'the jq program ".products | mapp(.name)" is not valid: mapp/1 is not defined at <top-level>, line 1: .products | mapp(.name)' },
  ]);
  const [undefinedVar] = await validate(['jq:.a | $nope']);
  assert.equal(undefinedVar?.path, '$.filters[0]');
  assert.match(undefinedVar?.message ?? '', /^the jq program "\.a \| \$nope" is not valid: \$nope is not defined/);
  const [syntax] = await validate(['jq:.a + + .b']);
  assert.match(syntax?.message ?? '', /^the jq program "\.a \+ \+ \.b" is not valid: syntax error/);
  // Several lines: each problem at its own line.
  assert.deepEqual((await validate(['jq:mapp(.x)', 'jq:.ok', 'jq:.a | nope'])).map((i) => i.path), ['$.filters[0]', '$.filters[2]']);

  assert.deepEqual(await validate(['jq:def price: .price * 1.2; .products[] | select(.inStock) | price']), []);
  assert.deepEqual(await validate(['jq:.a # a comment at the end']), []);
  assert.deepEqual(await validate(['jq:repeat(1)']), [], 'a program that would never end is valid jq: it is not run to be validated');
  assert.deepEqual(await validate(['jq:.products[] | .name | .[]']), [], 'what fails only on some input is the check’s to say');
});

test('adding or changing a web monitor with a jq program jq refuses is refused at the filter line', { timeout: 120_000 }, async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return (err as { issues?: { path: string; message: string }[] }).issues ?? [];
    }
    assert.fail('accepted');
  };
  const added = await refusal(engine.request('monitors.add', { type: 'web', name: 'API', config: { url: 'http://127.0.0.1:9/api', filters: ['jq:.items | mapp(.name)'] } }));
  assert.deepEqual(added.map((i) => i.path), ['$.filters[0]']);
  assert.match(added[0]!.message, /mapp\/1 is not defined/);

  const ok = (await engine.request('monitors.add', { type: 'web', name: 'API', config: { url: 'http://127.0.0.1:9/api', filters: ['jq:.items | map(.name)'] } })) as { id: string };
  const changed = await refusal(engine.request('monitors.update', { id: ok.id, config: { url: 'http://127.0.0.1:9/api', filters: ['jq:.items | map(.name', 'jq:.items | mapp(.name)'] } }));
  assert.ok(changed.some((i) => i.path === '$.filters[0]'), 'the unclosed bracket at its line');
});
