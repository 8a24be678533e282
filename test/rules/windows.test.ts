import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleEngine, replay } from '../../rules/index.js';
import { ev, rules, T0, MIN } from './helpers.js';

const env = (now: number, flags: Record<string, boolean> = {}) => ({ now, flags, timeZone: 'UTC' });
const notify = [{ notify: { title: '{{ title }}' } }];

test('count: N events whose first and last are exactly `within` apart fire; one millisecond more does not', () => {
  const r = rules([{ id: 'burst', when: { type: 'mail.received' }, pattern: { count: 3, within: '10m' }, then: notify }]);
  const at = (times: number[]) => replay(r, times.map((t) => ev(t, { type: 'mail.received' })));
  assert.equal(at([T0, T0 + 5 * MIN, T0 + 10 * MIN]).length, 1);
  assert.equal(at([T0, T0 + 5 * MIN, T0 + 10 * MIN + 1]).length, 0);
});

test('count: the window is emptied after a firing, and `by` keeps groups apart', () => {
  const r = rules([{ id: 'c', pattern: { count: 2, within: '1h', by: 'fields.feed' }, then: notify }]);
  const events = [
    ev(T0, { fields: { feed: 'a' } }),
    ev(T0 + 1, { fields: { feed: 'b' } }),
    ev(T0 + 2, { fields: { feed: 'a' } }), // a: 2 → fires
    ev(T0 + 3, { fields: { feed: 'a' } }), // a: 1 (window was emptied)
    ev(T0 + 4, { fields: { feed: 'b' } }), // b: 2 → fires
  ];
  const out = replay(r, events);
  assert.deepEqual(out.map((f) => f.events), [[events[0]!.id, events[2]!.id], [events[1]!.id, events[4]!.id]]);
});

test('absence: fires at exactly last + within, once, and re-arms on the next matching event', () => {
  const r = rules([{ id: 'quiet', when: { source: 'heartbeat:*' }, pattern: { absent: true, within: '10m' }, then: [{ notify: { title: '{{ source }} went quiet' } }] }]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const last = T0 + 3 * MIN;
  engine.process(ev(T0, { source: 'heartbeat:nas' }), env(T0));
  engine.process(ev(last, { source: 'heartbeat:nas' }), env(last));
  assert.equal(engine.nextDeadline(), last + 10 * MIN);
  assert.equal(engine.advanceTo(last + 10 * MIN - 1, env(last + 10 * MIN - 1)).firings.length, 0);
  const fired = engine.advanceTo(last + 10 * MIN, env(last + 10 * MIN)).firings;
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.at, new Date(last + 10 * MIN).toISOString());
  assert.deepEqual(fired[0]!.actions, [{ notify: { title: 'heartbeat:nas went quiet', body: '', url: null, priority: 'normal', sound: false } }]);
  assert.equal(engine.advanceTo(last + 60 * MIN, env(last + 60 * MIN)).firings.length, 0, 'fires once per silence');
  assert.equal(engine.nextDeadline(), null);
  engine.process(ev(last + 70 * MIN, { source: 'heartbeat:nas' }), env(last + 70 * MIN));
  assert.equal(engine.nextDeadline(), last + 80 * MIN);
});

test('absence: a key re-armed by many events fires once at its last deadline; deadlines at one instant fire in the order they were set', () => {
  // 'late' is listed first but its deadline is set last; both fall due at T0 + 12m.
  const r = rules([
    { id: 'late', when: { source: 'heartbeat:b' }, pattern: { absent: true, within: '5m', by: 'source' }, then: notify },
    { id: 'early', when: { source: 'heartbeat:a' }, pattern: { absent: true, within: '10m', by: 'source' }, then: notify },
  ]);
  const engine = new RuleEngine();
  engine.setRules(r);
  for (let m = 0; m <= 2; m++) engine.process(ev(T0 + m * MIN, { source: 'heartbeat:a' }), env(T0 + m * MIN));
  for (let k = 0; k < 50; k++) engine.process(ev(T0 + 2 * MIN + k, { source: 'heartbeat:a' }), env(T0 + 2 * MIN + k));
  const due = T0 + 2 * MIN + 49 + 10 * MIN;
  engine.process(ev(due - 5 * MIN, { source: 'heartbeat:b' }), env(due - 5 * MIN));
  assert.equal(engine.nextDeadline(), due);
  assert.equal(engine.advanceTo(due - 1, env(due - 1)).firings.length, 0);
  assert.equal(engine.nextDeadline(), due, 'the deadline is still pending after earlier, superseded ones came up');
  const fired = engine.advanceTo(due, env(due)).firings;
  assert.deepEqual(fired.map((f) => [f.ruleId, f.at]), [['early', new Date(due).toISOString()], ['late', new Date(due).toISOString()]]);
  assert.equal(engine.nextDeadline(), null);
  assert.equal(engine.advanceTo(due + 60 * MIN, env(due + 60 * MIN)).firings.length, 0);
});

test('absence: counts from when the rule was enabled, and a matching event exactly at the deadline keeps it quiet', () => {
  const r = rules([{ id: 'quiet', when: { type: 'backup.done' }, pattern: { absent: true, within: '1h' }, then: notify }]);
  // Enabled at the first event (an unrelated one); nothing matching for an hour.
  const silent = replay(r, [ev(T0, { type: 'other.thing' })], { until: new Date(T0 + 60 * MIN).toISOString() });
  assert.deepEqual(silent.map((f) => f.at), [new Date(T0 + 60 * MIN).toISOString()]);
  const onTime = replay(r, [ev(T0, { type: 'other.thing' }), ev(T0 + 60 * MIN, { type: 'backup.done' })], { until: new Date(T0 + 90 * MIN).toISOString() });
  assert.equal(onTime.length, 0, 'an event at exactly the deadline is within the window');
});

test('after-absence: "build started but no build finished within 30m", per build', () => {
  const r = rules([
    {
      id: 'stuck-build',
      when: { type: 'ci.build_finished' },
      pattern: { after: { when: { type: 'ci.build_started' } }, absent: true, within: '30m', by: 'fields.build' },
      then: [{ notify: { title: 'build {{ fields.build }} is stuck' } }],
    },
  ]);
  const events = [
    ev(T0, { type: 'ci.build_started', fields: { build: 1 } }),
    ev(T0 + MIN, { type: 'ci.build_started', fields: { build: 2 } }),
    ev(T0 + 31 * MIN, { type: 'ci.build_finished', fields: { build: 2 } }), // exactly 30m after build 2 started
  ];
  const out = replay(r, events, { until: new Date(T0 + 2 * 60 * MIN).toISOString() });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.at, new Date(T0 + 30 * MIN).toISOString());
  assert.deepEqual(out[0]!.events, [events[0]!.id]);
  assert.deepEqual(out[0]!.actions, [{ notify: { title: 'build 1 is stuck', body: '', url: null, priority: 'normal', sound: false } }]);
});

test('sequence: three failed logins, then a login from a new address, within 5m, same user', () => {
  const r = rules([
    {
      id: 'takeover',
      when: { type: 'auth.login' },
      if: { field: 'fields.newAddress', equals: true },
      pattern: {
        sequence: [{ when: { type: 'auth.failed' } }, { when: { type: 'auth.failed' } }, { when: { type: 'auth.failed' } }],
        within: '5m',
        by: 'fields.user',
      },
      then: notify,
    },
  ]);
  const failed = (t: number, user = 'ann') => ev(t, { type: 'auth.failed', fields: { user } });
  const login = (t: number, user = 'ann') => ev(t, { type: 'auth.login', fields: { user, newAddress: true } });
  // In order, within 5m of the first step (the last event is exactly 5m after it): fires on the login.
  const ok = [failed(T0), failed(T0 + MIN), failed(T0 + 2 * MIN, 'bob'), failed(T0 + 2 * MIN), login(T0 + 5 * MIN)];
  const out = replay(r, ok);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.events, [ok[0]!.id, ok[1]!.id, ok[3]!.id, ok[4]!.id]);
  // Too slow.
  assert.equal(replay(r, [failed(T0), failed(T0 + MIN), failed(T0 + 2 * MIN), login(T0 + 5 * MIN + 1)]).length, 0);
  // Wrong order: the login comes before the third failure.
  assert.equal(replay(r, [failed(T0), failed(T0 + MIN), login(T0 + 2 * MIN), failed(T0 + 3 * MIN)]).length, 0);
  // A later start still completes in time even though an earlier, stale run began first.
  const late = [failed(T0), failed(T0 + 4 * MIN), failed(T0 + 5 * MIN), failed(T0 + 6 * MIN), login(T0 + 8 * MIN)];
  assert.deepEqual(replay(r, late)[0]?.events, [late[1]!.id, late[2]!.id, late[3]!.id, late[4]!.id]);
});

test('throttle: one firing per key per period; suppressed firings are counted in the next trace', () => {
  const r = rules([{ id: 't', throttle: { per: '15m', by: 'source' }, then: notify }]);
  const events = [
    ev(T0, { source: 'a' }),
    ev(T0 + MIN, { source: 'a' }),
    ev(T0 + 2 * MIN, { source: 'b' }),
    ev(T0 + 3 * MIN, { source: 'a' }),
    ev(T0 + 15 * MIN, { source: 'a' }), // exactly one period after the last firing for "a"
  ];
  const engine = new RuleEngine();
  engine.setRules(r);
  const fired = events.flatMap((e) => engine.process(e, env(Date.parse(e.ts))).firings);
  assert.deepEqual(fired.map((f) => f.eventIds[0]), [events[0]!.id, events[2]!.id, events[4]!.id]);
  assert.equal(fired[2]!.trace.throttle?.suppressedSinceLast, 2);
  assert.equal((engine.stats().perRule as Record<string, { suppressedByThrottle: number }>).t!.suppressedByThrottle, 2);
});

test('digest: one set of actions per period with events and count; nothing for an empty period', () => {
  const r = rules([
    { id: 'd', when: { type: 'feed.item' }, digest: { every: '1h' }, then: [{ notify: { title: '{{ count }} new', body: '{% for e in events %}{{ e.title }};{% endfor %}' } }] },
  ]);
  const events = [ev(T0, { title: 'one' }), ev(T0 + 10 * MIN, { title: 'two' }), ev(T0 + 30 * MIN, { title: 'three' })];
  const out = replay(r, events, { until: new Date(T0 + 5 * 60 * MIN).toISOString() });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.at, new Date(T0 + 60 * MIN).toISOString());
  assert.deepEqual(out[0]!.actions, [{ notify: { title: '3 new', body: 'one;two;three;', url: null, priority: 'normal', sound: false } }]);
  assert.deepEqual(out[0]!.events, events.map((e) => e.id));
});

test('stop: a firing rule with stop hides the event from later rules', () => {
  const r = rules([
    { id: 'mute-bots', if: { field: 'fields.author', endsWith: '[bot]' }, then: [{ tag: { add: ['bot'] } }, { stop: true }] },
    { id: 'everything', then: notify },
  ]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const bot = engine.process(ev(T0, { fields: { author: 'dependabot[bot]' } }), env(T0));
  assert.equal(bot.stopped, true);
  assert.deepEqual(bot.firings.map((f) => f.ruleId), ['mute-bots']);
  const human = engine.process(ev(T0 + 1, { fields: { author: 'ann' } }), env(T0 + 1));
  assert.equal(human.stopped, false);
  assert.deepEqual(human.firings.map((f) => f.ruleId), ['everything']);
});

test('rules chain through flags in replay, and a flag set "for" a duration expires in event time', () => {
  const r = rules([
    { id: 'away', when: { type: 'idle.start' }, then: [{ flag: { set: 'away', for: '30m' } }] },
    { id: 'mail-while-away', when: { type: 'mail.received' }, context: { flags: { away: true } }, then: notify },
  ]);
  const events = [
    ev(T0, { type: 'mail.received', title: 'before' }),
    ev(T0 + MIN, { type: 'idle.start' }),
    ev(T0 + 2 * MIN, { type: 'mail.received', title: 'while away' }),
    ev(T0 + 31 * MIN, { type: 'mail.received', title: 'after expiry' }),
  ];
  const out = replay(r, events);
  assert.deepEqual(out.map((f) => [f.rule, f.events[0]]), [['away', events[1]!.id], ['mail-while-away', events[2]!.id]]);
  assert.deepEqual(replay(r, [events[0]!], { flags: { away: true } }).map((f) => f.rule), ['mail-while-away']);
});

test('context time gates use the given time zone, wrap midnight, and honour days', () => {
  const r = rules([{ id: 'night', context: { time: { between: ['22:00', '06:00'], days: ['mon', 'tue'] } }, then: notify }]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const fires = (iso: string, timeZone = 'UTC') => engine.process(ev(Date.parse(iso)), { now: Date.parse(iso), flags: {}, timeZone }).firings.length;
  assert.equal(fires('2026-03-02T23:30:00Z'), 1); // Monday night
  assert.equal(fires('2026-03-03T05:59:00Z'), 1); // Tuesday early
  assert.equal(fires('2026-03-03T06:00:00Z'), 0); // end is exclusive
  assert.equal(fires('2026-03-02T12:00:00Z'), 0);
  assert.equal(fires('2026-03-04T23:30:00Z'), 0); // Wednesday
  assert.equal(fires('2026-03-02T12:00:00Z', 'Asia/Tokyo'), 0); // 21:00 in Tokyo
  assert.equal(fires('2026-03-02T13:30:00Z', 'Asia/Tokyo'), 1); // 22:30 Monday in Tokyo
});

test('temporal state survives a restart through snapshot/restore', () => {
  const r = rules([
    { id: 'c', pattern: { count: 2, within: '10m' }, then: notify },
    { id: 'q', when: { type: 'ping.ok' }, pattern: { absent: true, within: '5m' }, then: notify },
  ]);
  const a = new RuleEngine();
  a.setRules(r);
  a.process(ev(T0, { type: 'ping.ok' }), env(T0));
  const snap = JSON.parse(JSON.stringify(a.snapshot()));
  const b = new RuleEngine();
  b.setRules(r);
  b.restore(snap);
  assert.equal(b.nextDeadline(), T0 + 5 * MIN, 'the pending absence came back');
  const out = b.process(ev(T0 + MIN, { type: 'x.y' }), env(T0 + MIN));
  assert.deepEqual(out.firings.map((f) => f.ruleId), ['c'], 'the count window held the first event');
  assert.deepEqual(b.advanceTo(T0 + 5 * MIN, env(T0 + 5 * MIN)).firings.map((f) => f.ruleId), ['q']);
});

test('changing a rule drops its temporal state; unchanged rules keep theirs', () => {
  const base = { id: 'c', pattern: { count: 2, within: '10m' }, then: notify };
  const engine = new RuleEngine();
  engine.setRules(rules([base]));
  engine.process(ev(T0), env(T0));
  engine.setRules(rules([{ ...base, name: 'renamed' }]));
  assert.equal(engine.process(ev(T0 + 1), env(T0 + 1)).firings.length, 1, 'a new name does not touch the window');
  engine.process(ev(T0 + 2), env(T0 + 2));
  engine.setRules(rules([{ ...base, pattern: { count: 2, within: '20m' } }]));
  assert.equal(engine.process(ev(T0 + 3), env(T0 + 3)).firings.length, 0, 'a new window starts empty');
});

test('per-rule keys are bounded: the oldest key is evicted and counted', () => {
  const engine = new RuleEngine({ maxKeysPerRule: 2 });
  engine.setRules(rules([{ id: 'c', pattern: { count: 2, within: '1h', by: 'fields.k' }, then: notify }]));
  for (const [i, k] of ['a', 'b', 'c'].entries()) engine.process(ev(T0 + i, { fields: { k } }), env(T0 + i));
  const per = (engine.stats().perRule as Record<string, { evictions: number; keys: number }>).c!;
  assert.equal(per.evictions, 1);
  assert.equal(per.keys, 2);
  assert.equal(engine.process(ev(T0 + 10, { fields: { k: 'a' } }), env(T0 + 10)).firings.length, 0, '"a" was evicted');
  assert.equal(engine.process(ev(T0 + 11, { fields: { k: 'c' } }), env(T0 + 11)).firings.length, 1);
});

test('expired window, sequence and throttle keys are pruned as time passes, including keys restored from a snapshot', () => {
  const r = rules([
    { id: 'c', when: { type: 'a' }, pattern: { count: 3, within: '10m', by: 'fields.k' }, then: notify },
    { id: 's', when: { type: 'b' }, pattern: { sequence: [{ when: { type: 'a' } }], within: '10m', by: 'fields.k' }, then: notify },
    { id: 't', when: { type: 'x' }, throttle: { per: '10m', by: 'fields.k' }, then: notify },
    { id: 'quiet', when: { type: 'none' }, then: notify },
  ]);
  const keys = (e: RuleEngine) => Object.fromEntries(Object.entries(e.stats().perRule as Record<string, { keys: number }>).map(([id, v]) => [id, v.keys]));
  const engine = new RuleEngine();
  engine.setRules(r);
  for (const [i, k] of ['a', 'b'].entries()) {
    engine.process(ev(T0 + i, { type: 'a', fields: { k } }), env(T0 + i));
    engine.process(ev(T0 + i, { type: 'x', fields: { k } }), env(T0 + i));
  }
  assert.deepEqual(keys(engine), { c: 2, s: 2, t: 2, quiet: 0 });
  const restored = new RuleEngine();
  restored.setRules(r);
  restored.restore(engine.snapshot());
  for (const e of [engine, restored]) {
    // Still within the windows: nothing is pruned.
    e.process(ev(T0 + 9 * MIN, { type: 'other' }), env(T0 + 9 * MIN));
    assert.deepEqual(keys(e), { c: 2, s: 2, t: 2, quiet: 0 });
    // Well past them (the sweep runs about once a minute of engine time).
    e.process(ev(T0 + 12 * MIN, { type: 'other' }), env(T0 + 12 * MIN));
    assert.deepEqual(keys(e), { c: 0, s: 0, t: 0, quiet: 0 });
  }
});

test('the engine keeps the last N traces per rule, oldest first', () => {
  const engine = new RuleEngine({ maxTracesPerRule: 3 });
  engine.setRules(rules([{ id: 'a', when: { type: 'a' }, then: notify }, { id: 'b', when: { type: 'b' }, then: notify }]));
  for (let i = 0; i < 7; i++) engine.process(ev(T0 + i * MIN, { id: `a${i}`, type: 'a' }), env(T0 + i * MIN));
  engine.process(ev(T0 + 30 * 1000, { id: 'b0', type: 'b' }), env(T0 + 30 * 1000));
  assert.deepEqual(engine.traces('a').map((t) => t.eventIds[0]), ['a4', 'a5', 'a6']);
  assert.deepEqual(engine.traces('b').map((t) => t.eventIds[0]), ['b0']);
  assert.deepEqual(engine.traces().map((t) => t.eventIds[0]), ['b0', 'a4', 'a5', 'a6'], 'all rules, by time');
  assert.deepEqual(engine.traces('missing'), []);
  const none = new RuleEngine({ maxTracesPerRule: 0 });
  none.setRules(rules([{ id: 'a', then: notify }]));
  assert.equal(none.process(ev(T0), env(T0)).firings.length, 1);
  assert.deepEqual(none.traces('a'), []);
});

test('a kept trace is written from the whole event, and renders the same whenever it is read', () => {
  const engine = new RuleEngine({ maxTracesPerRule: 5 });
  engine.setRules(rules([{ id: 'big', if: { field: 'body', contains: 'THE END' }, then: [{ notify: { title: '{{ title }} ({{ body | size }})' } }] }]));
  const body = 'x'.repeat(5_000) + ' THE END';
  const [f] = engine.process(ev(T0, { id: 'e-big', title: 'Long', body }), env(T0)).firings;
  const [kept] = engine.traces('big');
  assert.equal(kept!.conditions![0]!.result, true, 'the condition was traced on the full body, not on a cut copy');
  assert.deepEqual(f!.actions, kept!.actions, 'the firing and the kept trace agree');
  // Templates see the event as refs carry it (bodies cut at 1,000 characters), as they always have.
  assert.equal((f!.actions[0] as { notify: { title: string } }).notify.title, 'Long (1000)');
});
