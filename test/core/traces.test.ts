// A rule's traces ("why did this fire") are its last N firings: lists show exactly those, newest first, and what is
// stored stays bounded however often the rule fires, though old ones are deleted in steps rather than per firing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../core/store/index.js';

test("a rule's last N traces are listed, newest first, and storage stays bounded", (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  store.traces.limitPerRule = 5;
  const fire = (ruleId: string, n: number) =>
    store.tx(() => {
      store.traces.add(ruleId, new Date().toISOString(), [`${ruleId}-${n}`], { n });
      store.traces.trimAdded();
    });
  let most = 0;
  for (let i = 1; i <= 200; i++) {
    fire('busy', i);
    if (i % 20 === 0) fire('quiet', i / 20);
    most = Math.max(most, store.db.prepare(`SELECT COUNT(*) FROM traces WHERE rule_id = 'busy'`).pluck().get() as number);
  }
  assert.deepEqual(store.traces.list('busy', 500).map((x) => (x.trace as { n: number }).n), [200, 199, 198, 197, 196]);
  assert.deepEqual(store.traces.list('quiet').map((x) => (x.trace as { n: number }).n), [10, 9, 8, 7, 6]);
  assert.ok(most <= 5 + 16 + 1, `at most a step's worth more than 5 stored (was ${most})`);
  // Over all rules: newest first, no rule beyond its 5.
  const all = store.traces.list(undefined, 50);
  assert.equal(all.filter((x) => x.ruleId === 'busy').length, 5);
  assert.equal(all.filter((x) => x.ruleId === 'quiet').length, 5);
  assert.deepEqual(all.slice(0, 2).map((x) => x.ruleId), ['quiet', 'busy']);
  // A lower limit shows at once; storage follows within a step.
  store.traces.limitPerRule = 2;
  assert.equal(store.traces.list('busy').length, 2);
  for (let i = 201; i <= 220; i++) fire('busy', i);
  assert.ok((store.db.prepare(`SELECT COUNT(*) FROM traces WHERE rule_id = 'busy'`).pluck().get() as number) <= 2 + 16 + 1);
});

test('after a restart the first firing trims what an earlier run left', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-traces-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = openStore(dir);
  first.traces.limitPerRule = 50;
  first.tx(() => {
    for (let i = 0; i < 40; i++) first.traces.add('r', new Date().toISOString(), [`e${i}`], { i });
    first.traces.trimAdded();
  });
  first.close();
  const again = openStore(dir);
  t.after(() => again.close());
  again.traces.limitPerRule = 3;
  again.tx(() => {
    again.traces.add('r', new Date().toISOString(), ['e40'], { i: 40 });
    again.traces.trimAdded();
  });
  assert.equal(again.db.prepare(`SELECT COUNT(*) FROM traces`).pluck().get(), 3);
});
