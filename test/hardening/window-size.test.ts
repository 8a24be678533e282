// Rule windows (count, sequence, digest, absence, after) hold events until the pattern completes. Holding whole events
// made memory and the persisted state grow with the size of the events: 60 events with 900 KB fields became a 55 MB
// state row. What a window keeps is bounded per event whatever the event's size, and the firing still renders what
// its templates read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleEngine } from '../../rules/index.js';
import { ev, rules, T0, MIN } from '../rules/helpers.js';

const env = (now: number) => ({ now, flags: {}, timeZone: 'UTC' });
const big = () => 'x'.repeat(900_000);
/** An event as a noisy source sends it: a huge title, body and field next to the small field the rule reads. */
const huge = (at: number, host: string, over: Record<string, unknown> = {}) =>
  ev(at, { title: 'T'.repeat(200_000), body: big(), url: 'https://example.com/' + 'u'.repeat(100_000), fields: { host, blob: big(), list: Array.from({ length: 5_000 }, (_, i) => `item ${i}`) }, tags: Array.from({ length: 1_000 }, (_, i) => `tag${i}`), ...over });
/** What one window entry may cost at most, in JSON: a few short strings and the fields the rule reads. */
const PER_EVENT = 8_000;
const stateSize = (engine: RuleEngine) => JSON.stringify(engine.snapshot()).length;

test('a count window of huge events keeps a bounded entry per event, and the firing renders the fields it reads', () => {
  const engine = new RuleEngine();
  engine.setRules(
    rules([
      {
        id: 'burst',
        pattern: { count: 20, within: '1d', by: 'fields.host' },
        then: [{ notify: { title: '{{ count }} from {{ fields.host }}', body: '{% for e in events %}{{ e.fields.host }};{% endfor %}' } }],
      },
    ]),
  );
  for (let i = 0; i < 19; i++) assert.equal(engine.process(huge(T0 + i, 'nas'), env(T0 + i)).firings.length, 0);
  const size = stateSize(engine);
  assert.ok(size < 19 * PER_EVENT, `19 events of ~2 MB keep ${size} bytes of state (want < ${19 * PER_EVENT})`);
  const fired = engine.process(huge(T0 + 19, 'nas'), env(T0 + 19)).firings;
  assert.equal(fired.length, 1);
  const n = fired[0]!.actions[0] as { notify: { title: string; body: string } };
  assert.equal(n.notify.title, '20 from nas');
  assert.equal(n.notify.body, 'nas;'.repeat(20), 'every window event still has the field the template reads');
});

test('sequence, digest, absence and after windows of huge events stay bounded too', () => {
  const engine = new RuleEngine();
  engine.setRules(
    rules([
      { id: 'seq', pattern: { sequence: [{ when: { type: 'a' } }, { when: { type: 'b' } }], within: '1d' }, when: { type: 'c' }, then: [{ notify: { title: '{{ events[0].fields.host }}' } }] },
      { id: 'digest', when: { type: 'd' }, digest: { every: '1h' }, then: [{ notify: { title: '{{ count }}' } }] },
      { id: 'quiet', when: { type: 'hb' }, pattern: { absent: true, within: '10m', by: 'fields.host' }, then: [{ notify: { title: '{{ fields.host }} quiet' } }] },
      { id: 'after', pattern: { after: { when: { type: 'down' } }, absent: true, within: '10m', by: 'fields.host' }, when: { type: 'up' }, then: [{ notify: { title: '{{ fields.host }} stayed down' } }] },
    ]),
  );
  let t = T0;
  for (const type of ['a', 'b']) engine.process(huge(++t, 'h1', { type }), env(t));
  for (let i = 0; i < 50; i++) engine.process(huge(++t, 'h1', { type: 'd' }), env(t));
  for (let i = 0; i < 5; i++) engine.process(huge(++t, `h${i}`, { type: 'hb' }), env(t));
  for (let i = 0; i < 5; i++) engine.process(huge(++t, `h${i}`, { type: 'down' }), env(t));
  const held = 2 + 50 + 5 + 5;
  const size = stateSize(engine);
  assert.ok(size < held * PER_EVENT, `${held} held events of ~2 MB keep ${size} bytes of state (want < ${held * PER_EVENT})`);
  const seq = engine.process(huge(++t, 'h1', { type: 'c' }), env(t)).firings;
  assert.equal((seq[0]!.actions[0] as { notify: { title: string } }).notify.title, 'h1');
  const later = engine.advanceTo(t + 2 * 60 * MIN, env(t + 2 * 60 * MIN)).firings;
  const titles = later.map((f) => (f.actions[0] as { notify: { title: string } }).notify.title).sort();
  assert.deepEqual(titles, ['50', 'h0 quiet', 'h0 stayed down', 'h1 quiet', 'h1 stayed down', 'h2 quiet', 'h2 stayed down', 'h3 quiet', 'h3 stayed down', 'h4 quiet', 'h4 stayed down']);
});

test('a rule whose template reads whole events still keeps a bounded entry per event', () => {
  const engine = new RuleEngine();
  engine.setRules(rules([{ id: 'all', pattern: { count: 10, within: '1d' }, then: [{ notify: { title: '{{ events | json }}' } }] }]));
  for (let i = 0; i < 9; i++) engine.process(huge(T0 + i, 'nas'), env(T0 + i));
  const size = stateSize(engine);
  // Every field is kept, each cut short: more per event than a rule reading one field, still far from 2 MB.
  assert.ok(size < 9 * 4 * PER_EVENT, `9 events of ~2 MB keep ${size} bytes of state (want < ${9 * 4 * PER_EVENT})`);
  const fired = engine.process(huge(T0 + 9, 'nas'), env(T0 + 9)).firings;
  const title = (fired[0]!.actions[0] as { notify: { title: string } }).notify.title;
  assert.match(title, /"host":"nas"/);
});
