// `context.maintenance`: a rule says "not during maintenance" (false) or "only then" (true); what counts as
// maintenance for an event is the environment's answer for its source and tags, or the `maintenance` flag alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleEngine, validateRule } from '../../rules/index.js';
import type { RuleEnv } from '../../rules/types.js';
import { ev, rules, T0, MIN } from './helpers.js';

const quiet = { id: 'quiet', when: { type: 'heartbeat.missed' }, context: { maintenance: false }, then: [{ notify: { title: '{{ title }}' } }] };
const during = { id: 'during', when: { type: 'heartbeat.missed' }, context: { maintenance: true }, then: [{ notify: { title: 'in maintenance: {{ title }}' } }] };

test('the gate is part of the rule format: a boolean, nothing else', () => {
  assert.deepEqual(validateRule(quiet).errors, []);
  const bad = validateRule({ ...quiet, context: { maintenance: 'yes' } });
  assert.equal(bad.errors[0]?.path, '$.context.maintenance');
});

test('an event of a source in maintenance fires only the rule that wants maintenance; other sources and tags are unaffected', () => {
  const engine = new RuleEngine();
  engine.setRules(rules([quiet, during]));
  const asked: [string | null, readonly string[]][] = [];
  const env: RuleEnv = {
    now: T0,
    flags: {},
    maintenance: (source, tags) => {
      asked.push([source, tags]);
      return source === 'heartbeat:backup' || tags.includes('nas');
    },
  };
  const fired = (over: Parameters<typeof ev>[1]) => engine.process(ev(T0, { type: 'heartbeat.missed', ...over }), env).firings.map((f) => f.ruleId);
  assert.deepEqual(fired({ source: 'heartbeat:backup' }), ['during']);
  assert.deepEqual(fired({ source: 'heartbeat:other' }), ['quiet']);
  assert.deepEqual(fired({ source: 'heartbeat:other', tags: ['heartbeat', 'nas'] }), ['during']);
  assert.deepEqual(asked.at(-1), ['heartbeat:other', ['heartbeat', 'nas']]);
  const trace = engine.process(ev(T0, { type: 'heartbeat.missed', source: 'heartbeat:other' }), env).firings[0]!.trace;
  assert.deepEqual(trace.context?.maintenance, { want: false, was: false });
});

test('without an answer from the environment (rule tests, replays) maintenance is the flag', () => {
  const engine = new RuleEngine();
  engine.setRules(rules([quiet]));
  assert.equal(engine.process(ev(T0, { type: 'heartbeat.missed' }), { now: T0, flags: { maintenance: true } }).firings.length, 0);
  assert.equal(engine.process(ev(T0, { type: 'heartbeat.missed' }), { now: T0, flags: {} }).firings.length, 1);
});

test('a silence (absence) is gated when its deadline passes, by the last event seen', () => {
  const engine = new RuleEngine();
  engine.setRules(rules([{ id: 'nas-quiet', when: { source: 'heartbeat:nas' }, context: { maintenance: false }, pattern: { absent: true, within: '10m' }, then: [{ notify: { title: 'quiet' } }] }]));
  let maint = true;
  const env = (now: number): RuleEnv => ({ now, flags: {}, maintenance: () => maint });
  engine.process(ev(T0, { source: 'heartbeat:nas', type: 'heartbeat.ping' }), env(T0));
  assert.equal(engine.advanceTo(T0 + 11 * MIN, env(T0 + 11 * MIN)).firings.length, 0, 'in maintenance when the hour passed: skipped');
  maint = false;
  engine.process(ev(T0 + 12 * MIN, { source: 'heartbeat:nas', type: 'heartbeat.ping' }), env(T0 + 12 * MIN));
  assert.equal(engine.advanceTo(T0 + 23 * MIN, env(T0 + 23 * MIN)).firings.length, 1);
});

test('explain says the maintenance gate is why a rule did not match', () => {
  const engine = new RuleEngine();
  engine.setRules(rules([quiet]));
  const [v] = engine.explain(ev(T0, { type: 'heartbeat.missed' }), { now: T0, flags: {}, maintenance: () => true });
  assert.equal(v!.matched, false);
  assert.match(v!.reason, /\$\.context\.maintenance: in maintenance now/);
});
