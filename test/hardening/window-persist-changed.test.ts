// Saving the rules' state after a batch must cost what the batch changed (#16): the save serialised every rule's
// state and compared it with the saved one, so with thousands of rules holding state, a batch of one event that
// touched one rule serialised all of them. And whatever the save skips, the saved rows must still restore exactly the
// state the engine holds, after every batch, whichever path changed it (matching, deadlines, sweeps, rule edits,
// restarts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanoptesEvent } from '../../core/event.js';
import type { Rule } from '../../rules/index.js';
import { SavedRuleStates } from '../../rules/state-delta.js';
import { newId } from '../../core/ids.js';
import { rules } from '../rules/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { closeRules, feed, openRules, type RulesOnStore } from './rule-store-helpers.js';

const event = (source: string, type = 'webhook.received', k = 'a'): PanoptesEvent => {
  const at = new Date().toISOString();
  return { id: newId(), ts: at, receivedAt: at, source, type, title: 'e', body: '', url: null, fields: { k }, tags: [] };
};

/** `n` rules, each a day-long count window on a source of its own. */
const countRules = (n: number) =>
  rules(Array.from({ length: n }, (_, i) => ({ id: `r${i}`, when: { source: `src:${i}` }, pattern: { count: 1_000, within: '1d' }, then: [{ notify: { title: 'many' } }] })));

/** Rule states serialised for each of five one-event batches, each to one rule, with `n` rules that all hold state. */
async function comparedPerBatch(t: { after(fn: () => void): void }, n: number): Promise<number[]> {
  const dir = tempDir(t);
  const s = openRules(dir, countRules(n));
  t.after(() => closeRules(s));
  for (let i = 0; i < n; i += 500) await feed(s, Array.from({ length: Math.min(500, n - i) }, (_, j) => event(`src:${i + j}`)));
  const per: number[] = [];
  for (let b = 0; b < 5; b++) {
    const before = s.processor.statesCompared;
    await feed(s, [event(`src:${b * 7}`)]);
    per.push(s.processor.statesCompared - before);
  }
  return per;
}

test('a one-event batch serialises the state of the rules it changed, not of every rule holding state (5,000 vs 50 rules)', { timeout: 240_000 }, async (t) => {
  const few = await comparedPerBatch(t, 50);
  const many = await comparedPerBatch(t, 5_000);
  t.diagnostic(`rule states serialised per one-event batch: ${few.join(', ')} with 50 rules, ${many.join(', ')} with 5,000`);
  assert.ok(Math.max(...many) <= 2, `a one-event batch serialised ${Math.max(...many)} rule states among 5,000 rules (${Math.max(...few)} among 50): the save's cost follows the rule count, not the change`);
});

// ---- what is saved is what the engine holds ---------------------------------------------------------------------

const MIN = 60_000;
const notify = [{ notify: { title: '{{ title }}' } }];
const mix = (): Rule[] =>
  rules([
    { id: 'count-by', when: { type: 't.a' }, pattern: { count: 3, within: '10m', by: 'fields.k' }, then: notify },
    { id: 'count', when: { type: 't.a' }, pattern: { count: 4, within: '5m' }, then: notify },
    { id: 'quiet', when: { type: 't.a' }, pattern: { absent: true, within: '5m' }, then: notify },
    { id: 'quiet-by', when: { type: 't.a' }, pattern: { absent: true, within: '3m', by: 'fields.k' }, then: notify },
    { id: 'after-by', when: { type: 't.b' }, pattern: { after: { when: { type: 't.a' } }, absent: true, within: '4m', by: 'fields.k' }, then: notify },
    { id: 'seq-by', when: { type: 't.c' }, pattern: { sequence: [{ when: { type: 't.a' } }, { when: { type: 't.b' } }], within: '10m', by: 'fields.k' }, then: notify },
    { id: 'throttle-by', when: { type: 't.a' }, throttle: { per: '2m', by: 'fields.k' }, then: notify },
    { id: 'digest', when: { type: 't.b' }, digest: { every: '3m' }, then: [{ notify: { title: '{{ count }}' } }] },
    { id: 'gated', when: { type: 't.a' }, context: { flags: { away: true } }, pattern: { absent: true, within: '2m', by: 'fields.k' }, then: notify },
    { id: 'plain', when: { type: 't.c' }, then: notify },
  ]);

/** Per rule, its state as the saved rows restore it and as the engine holds it. */
function savedAndHeld(s: RulesOnStore): { saved: Record<string, string>; held: Record<string, string> } {
  const per = (snap: unknown) => {
    const out: Record<string, string> = {};
    for (const [id, st] of Object.entries((snap as { rules: Record<string, unknown> }).rules).sort(([a], [b]) => a.localeCompare(b))) out[id] = JSON.stringify(st);
    return out;
  };
  return { saved: per(new SavedRuleStates().load(s.store.ruleStates.load())), held: per(s.engine.snapshot()) };
}

test('after every batch the saved rows restore exactly the state the engine holds: events, deadlines, sweeps, rule edits, restarts', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  let now = Date.parse('2026-03-02T10:00:00.000Z');
  const clock = { now: () => now };
  let s = openRules(dir, mix(), clock);
  t.after(() => closeRules(s));
  const same = (step: string) => {
    const { saved, held } = savedAndHeld(s);
    assert.deepEqual(saved, held, `after ${step}, the saved rows restore what the engine holds`);
  };
  /** No events: the processor's drain runs the deadlines that are due (absences, after, digests). */
  const tick = async (ms: number) => {
    now += ms;
    s.processor.wake();
    const { waitFor } = await import('../helpers/tmp.js');
    await waitFor(() => {
      const next = s.engine.nextDeadline();
      return next === null || next > now;
    }, 'the deadlines run');
    // The drain that ran them has saved (it runs in one turn); one more turn to be sure it finished.
    await new Promise((r) => setImmediate(r));
  };
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];

  await feed(s, keys.map((k) => event('src', 't.a', k)));
  same('a first batch');
  now += MIN;
  await feed(s, [event('src', 't.b', 'k1'), event('src', 't.a', 'k2'), event('src', 't.a', 'k2'), event('src', 't.b', 'k3')]);
  same('a batch of steps, follow-ups and repeats');
  await feed(s, [event('src', 't.c', 'k3'), event('src', 't.a', 'k0')]);
  same('a sequence completing');
  // Keys let go and set again within one batch move to the end of their maps: a deadline met and started again, a
  // window that fired and opened again.
  await feed(s, [event('src', 't.b', 'k0'), event('src', 't.a', 'k0'), ...Array.from({ length: 4 }, () => event('src', 't.a', 'k1'))]);
  same('keys let go and set again in one batch');
  await tick(3 * MIN + 1);
  same('absences and digests falling due with no event');
  await tick(2 * MIN);
  same('after-deadlines falling due');
  now += 11 * MIN;
  await feed(s, [event('src', 't.c', 'k9')]);
  same('a sweep of expired windows, runs and throttles');

  await feed(s, keys.map((k) => event('src', 't.a', k)));
  // Edits: one rule deleted, one changed (its state starts over), the order reversed, one added.
  const edited = mix()
    .filter((r) => r.id !== 'throttle-by')
    .map((r) => (r.id === 'count-by' ? { ...r, pattern: { count: 5, within: '10m', by: 'fields.k' } } : r))
    .reverse();
  edited.push(...rules([{ id: 'new-quiet', when: { type: 't.z' }, pattern: { absent: true, within: '1m' }, then: notify }]));
  s.engine.setRules(edited as Rule[]);
  s.processor.rulesChanged();
  await feed(s, [event('src', 't.b', 'k4')]);
  same('rules deleted, changed, reordered and added');
  await tick(MIN + 1);
  same('a new rule\'s absence falling due');

  closeRules(s);
  s = openRules(dir, edited as Rule[], clock);
  await feed(s, [event('src', 't.a', 'k7')]);
  same('a restart and a batch');
  await tick(5 * MIN);
  same('deadlines after a restart');
});
