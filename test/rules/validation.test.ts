import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRule, validateRules } from '../../rules/index.js';

const base = { id: 'r', then: [{ notify: { title: 'x' } }] };
const problems = (rule: Record<string, unknown>) => validateRule({ ...base, ...rule }).errors.map((e) => `${e.path}: ${e.message}`);

test('the example rule from the issue is valid as written', () => {
  const r = validateRule({
    id: 'release-watch', name: 'New release of a watched project', enabled: true,
    when: { source: 'rss:*', type: 'feed.item' },
    if: { all: [{ field: 'title', matches: 'v\\d+\\.\\d+', flags: 'i' }, { not: { field: 'title', contains: 'beta' } }] },
    context: { flags: { dnd: false }, time: { between: ['08:00', '22:00'], days: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
    pattern: { count: 3, within: '10m', by: 'fields.feed' },
    throttle: { per: '15m', by: 'source' },
    then: [{ notify: { title: '{{ title }}', body: '{{ fields.summary | truncate: 120 }}', url: '{{ url }}', priority: 'high' } }, { flag: { set: 'busy', for: '30m' } }],
  });
  assert.deepEqual(r.errors, []);
  assert.equal(r.rule?.id, 'release-watch');
});

test('each kind of mistake is reported at its JSON path', () => {
  assert.deepEqual(problems({ if: { all: [{ field: 'title', resembles: 'x' }] } }), [
    '$.if.all[0].resembles: unknown operator "resembles"; use one of equals, notEquals, contains, startsWith, endsWith, matches, in, gt, gte, lt, lte, exists',
  ]);
  assert.match(problems({ if: { all: [{ field: 'title', matches: 'v(\\d+' }] } })[0]!, /^\$\.if\.all\[0\]\.matches: unterminated group: a "\(" has no matching "\)"/);
  assert.match(problems({ if: { any: [{ field: 'title', equals: 'a' }, { field: 'body', matches: '(?<=a)b' }] } })[0]!, /^\$\.if\.any\[1\]\.matches: lookbehind \(\?<=…\) is not supported/);
  assert.match(problems({ if: { field: 'title', matches: 'x', flags: 'g' } })[0]!, /^\$\.if\.flags: flags may only use/);
  assert.match(problems({ pattern: { count: 3, within: '10 minutes' } })[0]!, /^\$\.pattern\.within: not a duration/);
  assert.match(problems({ throttle: { per: 'often' } })[0]!, /^\$\.throttle\.per: not a duration/);
  assert.match(problems({ then: [{ notify: { title: '{{ title | shout }}' } }] })[0]!, /^\$\.then\[0\]\.notify\.title: template: undefined filter: shout/);
  assert.match(problems({ then: [{ notify: { title: '{% include "/etc/passwd" %}' } }] })[0]!, /^\$\.then\[0\]\.notify\.title: .*include/);
  assert.match(problems({ if: { field: 'title', contains: 'a', equals: 'b' } })[0]!, /^\$\.if: one operator per condition/);
  assert.match(problems({ if: { field: 'subject', equals: 'b' } })[0]!, /^\$\.if\.field: unknown field "subject"/);
  assert.match(problems({ if: { field: 'fields.n', gt: '5' } })[0]!, /^\$\.if\.gt: "gt" takes a finite number/);
  assert.match(problems({ pattern: { within: '5m' } })[0]!, /^\$\.pattern: pattern needs one of/);
  assert.match(problems({ pattern: { sequence: [{ when: { type: 'a.b' }, iff: {} }], within: '5m' } })[0]!, /^\$\.pattern\.sequence\[0\]/);
  assert.match(problems({ then: [{ flag: { set: 'a', clear: 'b' } }] })[0]!, /^\$\.then\[0\]\.flag: a flag action has exactly one/);
  assert.match(problems({ then: [{ launch: { missiles: true } }] })[0]!, /^\$\.then\[0\]: an action needs one of/);
  assert.match(problems({ then: [] })[0]!, /^\$\.then: a rule needs at least one action/);
  assert.match(problems({ context: { time: { between: ['8:00', '22:00'] } } })[0]!, /^\$\.context\.time\.between\[0\]: time of day is "HH:MM"/);
  assert.match(problems({ colour: 'red' })[0]!, /colour/);
});

test('a list keeps its good rules, drops bad ones and later duplicates, and says where each problem is', () => {
  const { rules, errors } = validateRules([
    { ...base, id: 'good' },
    { ...base, id: 'bad', pattern: { count: 0, within: '1m' } },
    'not a rule',
    { ...base, id: 'good' },
    { ...base, id: 'also-good' },
  ]);
  assert.deepEqual(rules.map((r) => r.id), ['good', 'also-good']);
  assert.deepEqual(errors.map((e) => [e.ruleId, e.path]), [
    ['bad', '$[1].pattern.count'],
    [undefined, '$[2]'],
    ['good', '$[3].id'],
  ]);
});

test('garbage of any shape is rejected without throwing', () => {
  for (const junk of [null, 42, 'x', [], { id: 5 }, { id: 'a', then: 'notify' }, { id: 'a', if: { all: 'x' }, then: [{ stop: true }] }, { id: 'a', if: { not: null }, then: [{ stop: true }] }]) {
    assert.ok(validateRule(junk).errors.length > 0, JSON.stringify(junk));
  }
  let deep: Record<string, unknown> = { field: 'title', equals: 'x' };
  for (let i = 0; i < 100; i++) deep = { not: deep };
  assert.match(validateRule({ ...base, if: deep }).errors[0]!.message, /nest deeper/);
});
