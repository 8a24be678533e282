// A batch whose transaction fails (the disk full, the database busy past its wait) is rolled back and processed
// again from the cursor. The rules' windows in memory must go back with it: matching had already counted the batch's
// events, so counting them again on the retry made "3 within 10 minutes" fire after two events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanoptesEvent } from '../../core/event.js';
import { newId } from '../../core/ids.js';
import { rules } from '../rules/helpers.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { closeRules, feed, openRules } from './rule-store-helpers.js';

const event = (title: string): PanoptesEvent => {
  const at = new Date().toISOString();
  return { id: newId(), ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title, body: '', url: null, fields: {}, tags: [] };
};

test('a batch rolled back and processed again is counted once: "3 within 10 minutes" does not fire after two events', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const s = openRules(dir, rules([{ id: 'three', when: { type: 'webhook.received' }, pattern: { count: 3, within: '10m' }, then: [{ notify: { title: 'three: {{ title }}' } }] }]));
  t.after(() => closeRules(s));
  const firings = () => (s.store.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;

  await feed(s, [event('one')]);
  // The next save of the rules' state fails once, as a full disk would make it: the batch's transaction rolls back.
  const states = s.store.ruleStates;
  const apply = states.apply.bind(states);
  let failures = 0;
  states.apply = (delta) => {
    if (failures++ === 0) throw new Error('database or disk is full');
    return apply(delta);
  };
  s.store.tx(() => s.store.events.append([event('two')]));
  const two = s.store.events.maxSeq();
  s.processor.wake();
  // Processed again after the failure (the processor retries on its own).
  await waitFor(() => s.processor.cursor === two, 'the batch processed again after the failure', 30_000);
  assert.ok(failures >= 2, 'the first attempt failed and a second one saved');
  assert.equal(firings(), 0, 'two events are not three: nothing fires');

  await feed(s, [event('three')]);
  assert.equal(firings(), 1, 'the third event fires the rule, once');
});
