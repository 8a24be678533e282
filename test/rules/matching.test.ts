import { test } from 'node:test';
import assert from 'node:assert/strict';
import RE2 from 're2';
import { RuleEngine, type Rule } from '../../rules/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { ev, rules, T0 } from './helpers.js';

const env = { now: T0, flags: {} };
const fires = (r: Rule[], e: PanoptesEvent) => {
  const engine = new RuleEngine();
  engine.setRules(r);
  return engine.process(e, env).firings.map((f) => f.ruleId);
};
const one = (rule: Record<string, unknown>) => rules([{ id: 'r', then: [{ notify: { title: 'x' } }], ...rule }]);

test('operators: each one on the kind of value it is for', () => {
  const e = ev(T0, {
    title: 'Release v2.10 of Panoptes',
    url: null,
    tags: ['work', 'urgent'],
    fields: { stars: 120, score: '7.5', lang: 'TypeScript', nested: { deep: { x: 'y' } } },
  });
  const cases: [Record<string, unknown>, boolean][] = [
    [{ field: 'title', equals: 'Release v2.10 of Panoptes' }, true],
    [{ field: 'title', equals: 'release v2.10 of panoptes' }, false],
    [{ field: 'title', equals: 'release v2.10 of panoptes', ignoreCase: true }, true],
    [{ field: 'fields.lang', notEquals: 'Go' }, true],
    [{ field: 'fields.lang', notEquals: 'TypeScript' }, false],
    [{ field: 'fields.lang', notEquals: 'typescript', ignoreCase: true }, false],
    [{ field: 'fields.missing', notEquals: 'x' }, true], // no value is not equal to anything
    [{ field: 'tags', notEquals: 'work' }, false], // a list is "not equal" only when no element equals
    [{ field: 'tags', notEquals: 'home' }, true],
    [{ field: 'title', contains: 'v2.10' }, true],
    [{ field: 'title', contains: 'PANOPTES' }, false],
    [{ field: 'title', contains: 'PANOPTES', ignoreCase: true }, true],
    [{ field: 'title', startsWith: 'Release' }, true],
    [{ field: 'title', endsWith: 'Panoptes' }, true],
    [{ field: 'title', matches: 'v\\d+\\.\\d+' }, true],
    [{ field: 'title', matches: 'V\\d+', flags: 'i' }, true],
    [{ field: 'title', matches: 'V\\d+' }, false],
    [{ field: 'fields.lang', in: ['Rust', 'TypeScript'] }, true],
    [{ field: 'fields.lang', in: ['rust', 'typescript'] }, false],
    [{ field: 'fields.lang', in: ['rust', 'typescript'], ignoreCase: true }, true],
    [{ field: 'fields.stars', gt: 100 }, true],
    [{ field: 'fields.stars', gt: 120 }, false],
    [{ field: 'fields.stars', gte: 120 }, true],
    [{ field: 'fields.stars', lt: 120 }, false],
    [{ field: 'fields.stars', lte: 120 }, true],
    [{ field: 'fields.score', gt: 7 }, true], // numeric strings compare as numbers
    [{ field: 'fields.nested.deep.x', equals: 'y' }, true],
    [{ field: 'fields.missing', exists: false }, true],
    [{ field: 'url', exists: true }, false],
    [{ field: 'fields.stars', exists: true }, true],
    [{ field: 'tags', contains: 'urgent' }, true], // a list passes when one element does
    [{ field: 'tags', equals: 'work' }, true],
    [{ field: 'tags', in: ['home'] }, false],
    [{ any: [{ field: 'fields.lang', equals: 'Go' }, { field: 'fields.stars', gt: 100 }] }, true],
    [{ not: { field: 'title', contains: 'beta' } }, true],
    [{ all: [{ field: 'title', contains: 'Release' }, { not: { field: 'tags', equals: 'urgent' } }] }, false],
  ];
  for (const [cond, want] of cases) {
    assert.equal(fires(one({ if: cond }), e).length === 1, want, JSON.stringify(cond));
    // explain and traces evaluate the same conditions another way (a tree they can walk): it must agree.
    const engine = new RuleEngine();
    engine.setRules(one({ if: cond }));
    assert.equal(engine.explain(e, env)[0]!.matched, want, `explain: ${JSON.stringify(cond)}`);
  }
});

test('when: exact values and globs on source and type; omitted means any', () => {
  const e = ev(T0, { source: 'rss:hacker-news', type: 'feed.item' });
  assert.deepEqual(fires(one({ when: { source: 'rss:*' } }), e), ['r']);
  assert.deepEqual(fires(one({ when: { source: 'rss:*', type: 'feed.*' } }), e), ['r']);
  assert.deepEqual(fires(one({ when: { source: 'rss:hacker-news', type: 'feed.item' } }), e), ['r']);
  assert.deepEqual(fires(one({ when: { source: '*:hacker-*' } }), e), ['r']);
  assert.deepEqual(fires(one({ when: { type: 'mail.*' } }), e), []);
  assert.deepEqual(fires(one({ when: { source: 'rss:hacker' } }), e), []);
  assert.deepEqual(fires(one({}), e), ['r']);
});

test('rules are evaluated in list order whatever index bucket they sit in', () => {
  const r = rules([
    { id: 'a-residual', if: { field: 'fields.n', exists: true }, then: [{ tag: { add: ['a'] } }] },
    { id: 'b-eq', when: { source: 'rss:hn' }, then: [{ tag: { add: ['b'] } }] },
    { id: 'c-gram', if: { field: 'title', contains: 'kubernetes' }, then: [{ tag: { add: ['c'] } }] },
    { id: 'd-num', if: { field: 'fields.n', gt: 3 }, then: [{ tag: { add: ['d'] } }] },
    { id: 'e-prefix', when: { source: 'rss:*' }, then: [{ tag: { add: ['e'] } }] },
  ]);
  assert.deepEqual(fires(r, ev(T0, { title: 'about Kubernetes and kubernetes', fields: { n: 4 } })), ['a-residual', 'b-eq', 'c-gram', 'd-num', 'e-prefix']);
});

test('a lone \\bword\\b rule fires exactly when its regex matches (the scan proves it without running the regex)', () => {
  // Words of seven letters or more with the same first letter, length and last five letters share a word key:
  // "abcdefgh" and "abxdefgh" must still be told apart letter by letter.
  const patterns: [string, string | undefined, boolean?][] = [
    ['\\brust\\b', 'i'],
    ['\\bRust\\b', undefined],
    ['\\bRust\\b', 'u'],
    ['\\brust\\b', undefined, true],
    ['\\babcdefgh\\b', 'i'],
    ['\\babxdefgh\\b', 'i'],
    ['\\bv2_0\\b', 'i'],
    ['\\bkelvin\\b', 'i'],
    ['\\bss\\b', 'i'],
    ['\\bss\\b', 'iu'],
  ];
  const r = rules(patterns.map(([matches, flags, ignoreCase], i) => ({ id: `w${i}`, if: { field: 'title', matches, ...(flags ? { flags } : {}), ...(ignoreCase ? { ignoreCase } : {}) }, then: [{ tag: { add: ['t'] } }] })));
  const titles = [
    'Rust', 'rust', 'RUST 1.80', 'I like Rust.', 'rusty', 'trust', 'rust_lang', 'rust2', '2rust', 'éRustè', 'Rust\u00e9',
    'abcdefgh', 'ABXDEFGH!', 'abcdefghi', 'xabcdefgh', 'v2_0 is out', 'V2_0', 'v2_00', '\u212aelvin', 'kelvin', 'Kelvin,',
    '\u017fs', 'SS', 'ss-ss', 'sß', '', '   ', 'rust rust rust',
  ];
  const engine = new RuleEngine();
  engine.setRules(r);
  let fired = 0;
  for (const title of titles) {
    const expected = patterns.flatMap(([src, flags, ignoreCase], i) => (new RE2(src, (flags ?? '') + (ignoreCase ? 'i' : '')).test(title) ? [`w${i}`] : []));
    assert.deepEqual(engine.process(ev(T0, { title }), env).firings.map((f) => f.ruleId), expected, JSON.stringify(title));
    fired += expected.length;
  }
  assert.ok(fired > 20, `enough titles match to mean something (${fired})`);
});

test('hundreds of candidates for one event, from different buckets, all fire in list order', () => {
  // Even rules are served whole by their `when` group (a two-letter literal has no gram to file it under), odd ones
  // come from one crowded equality bucket, and every tenth also needs a word: more candidates than the index's
  // first buffer holds, merged and sorted back into list order.
  const raw = Array.from({ length: 700 }, (_, i) => ({
    id: `r${String(i).padStart(3, '0')}`,
    ...(i % 2 === 0
      ? { when: { source: 'rss:hn' }, if: { field: 'title', contains: 'ab' } }
      : { if: i % 10 === 1 ? { all: [{ field: 'fields.n', equals: 1 }, { field: 'title', matches: '\\bnews\\b', flags: 'i' }] } : { field: 'fields.n', equals: 1 } }),
    then: [{ tag: { add: ['t'] } }],
  }));
  const engine = new RuleEngine();
  engine.setRules(rules(raw));
  const fired = engine.process(ev(T0, { source: 'rss:hn', title: 'about News', fields: { n: 1 } }), env).firings.map((f) => f.ruleId);
  assert.deepEqual(fired, raw.map((r) => r.id));
  const someFire = engine.process(ev(T0, { source: 'rss:hn', title: 'nothing here', fields: { n: 1 } }), env).firings.map((f) => f.ruleId);
  assert.deepEqual(someFire, raw.filter((_, i) => i % 2 === 1 && i % 10 !== 1).map((r) => r.id));
});

/**
 * The index must never miss: on random rules and events, the rules that fire are exactly those whose
 * conditions hold when every rule is checked one by one (which is what `explain` does, without the index).
 */
function agreement(opts: { seed: number; rules: number; events: number; extraWords: number; minMatches: number; longLiterals?: boolean }) {
  let seed = opts.seed;
  const rnd = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
  const words = ['alpha', 'Beta', 'gamma', 'DELTA', 'epsilon', 'zeta', 'eta', 'theta', 'İstanbul', 'Kelvin', 'naïve', 'ab', 'x'];
  // A larger vocabulary fills the index's bit filters and crowds its buckets (nested levels).
  for (let i = 0; i < opts.extraWords; i++) words.push(Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => pick([...'etaoinshrdlucmfw_09'])).join(''));
  const long = words.filter((x) => x.length >= 5);
  const sources = ['rss:hn', 'rss:lobsters', 'mail:work', 'irc:libera', 'web:status'];
  const types = ['feed.item', 'mail.received', 'chat.message', 'web.changed'];
  const leaf = (): Record<string, unknown> => {
    const field = pick(['title', 'body', 'source', 'type', 'tags', 'fields.n', 'fields.s', 'fields.a.b']);
    const kind = pick(['equals', 'notEquals', 'contains', 'startsWith', 'endsWith', 'matches', 'in', 'gt', 'gte', 'lt', 'lte', 'exists']);
    const ci = rnd() < 0.3;
    const w = pick(words);
    switch (kind) {
      case 'equals':
      case 'notEquals':
        return { field, [kind]: field === 'fields.n' ? Math.floor(rnd() * 5) : pick([w, pick(sources), pick(types)]), ...(ci ? { ignoreCase: true } : {}) };
      case 'in':
        return { field, in: [w, pick(words), pick(sources), Math.floor(rnd() * 5)], ...(ci ? { ignoreCase: true } : {}) };
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        if (opts.longLiterals) return { field, [kind]: pick(long), ...(ci ? { ignoreCase: true } : {}) };
        return { field, [kind]: rnd() < 0.5 ? w : w.slice(1, 4), ...(ci ? { ignoreCase: true } : {}) };
      case 'matches':
        // Whole words (the word index) and literals of five or more characters (5-grams): the scan's common case.
        if (opts.longLiterals) return { field, matches: pick([`\\b${w}\\b`, `${pick(long)}s?`]), ...(rnd() < 0.3 ? { flags: pick(['i', 'u']) } : {}) };
        return { field, matches: pick([`\\b${w}\\b`, `\\b${w.slice(0, 3)}\\b`, `${w}\\b`, `^${w}`, `${w.slice(0, 3)}+x?y*`, `(${w}|other)`, `\\.${w}`, `[a-z]${w}s?`]), ...(rnd() < 0.3 ? { flags: pick(['i', 'iu', 'u']) } : {}) };
      case 'exists':
        return { field, exists: rnd() < 0.5 };
      default:
        return { field, [kind]: Math.floor(rnd() * 5) };
    }
  };
  const cond = (depth: number): Record<string, unknown> => {
    const r = rnd();
    if (depth > 2 || r < 0.5) return leaf();
    if (r < 0.7) return { all: [cond(depth + 1), cond(depth + 1)] };
    if (r < 0.9) return { any: [cond(depth + 1), cond(depth + 1)] };
    return { not: cond(depth + 1) };
  };
  const raw = Array.from({ length: opts.rules }, (_, i) => ({
    id: `r${i}`,
    ...(rnd() < 0.5 ? { when: { ...(rnd() < 0.6 ? { source: pick([...sources, 'rss:*', 'mail:*', '*:hn']) } : {}), ...(rnd() < 0.5 ? { type: pick([...types, 'feed.*']) } : {}) } } : {}),
    ...(rnd() < 0.9 ? { if: cond(0) } : {}),
    then: [{ tag: { add: ['t'] } }],
  }));
  const r = rules(raw);
  const engine = new RuleEngine();
  engine.setRules(r);
  const text = () => Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => pick(words) + pick(['', 's', 'x', ' '])).join(pick([' ', '', '.']));
  let compared = 0;
  for (let i = 0; i < opts.events; i++) {
    const e = ev(T0, {
      source: pick(sources),
      type: pick(types),
      title: text(),
      body: text(),
      tags: [pick(words), pick(words)],
      fields: { n: rnd() < 0.8 ? Math.floor(rnd() * 5) : String(Math.floor(rnd() * 5)), s: pick(words), ...(rnd() < 0.5 ? { a: { b: pick(words) } } : {}) },
    });
    const expected = engine.explain(e, env).filter((v) => v.matched).map((v) => v.ruleId);
    const got = engine.process(e, env).firings.map((f) => f.ruleId);
    const differing = raw.filter((x) => expected.includes(x.id) !== got.includes(x.id));
    assert.deepEqual(got, expected, `event ${JSON.stringify(e)}\nrules that differ: ${JSON.stringify(differing)}`);
    compared += expected.length;
  }
  assert.ok(compared > opts.minMatches, `the random rules should match often enough to mean something (${compared})`);
}

test('the index agrees with checking every rule, on random rules and events', () => {
  agreement({ seed: 42, rules: 400, events: 400, extraWords: 0, minMatches: 200 });
});

test('the index agrees with checking every rule with a large vocabulary and crowded buckets', () => {
  agreement({ seed: 7, rules: 2000, events: 150, extraWords: 400, minMatches: 150 });
});

test('the index agrees with checking every rule when every literal is a whole word or five characters or more', () => {
  agreement({ seed: 11, rules: 1000, events: 300, extraWords: 200, minMatches: 150, longLiterals: true });
});

test('explain names the failing condition, the failing context gate, or the pattern state', () => {
  const r = rules([
    { id: 'release', when: { source: 'rss:*' }, if: { all: [{ field: 'title', matches: 'v\\d+' }, { not: { field: 'title', contains: 'beta' } }] }, then: [{ notify: { title: 'x' } }] },
    { id: 'calm', context: { flags: { dnd: false } }, then: [{ notify: { title: 'x' } }] },
    { id: 'three', pattern: { count: 3, within: '1h' }, then: [{ notify: { title: 'x' } }] },
  ]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const [release, calm, three] = engine.explain(ev(T0, { source: 'rss:x', title: 'v3 beta' }), { now: T0, flags: { dnd: true } });
  assert.equal(release!.matched, false);
  assert.match(release!.reason, /^\$\.if\.all\[1\]\.not: title contains "beta" holds/);
  assert.equal(calm!.matched, false);
  assert.match(calm!.reason, /\$\.context\.flags\.dnd/);
  assert.equal(three!.matched, true);
  assert.match(three!.reason, /needs 3 events within 1h: the window holds 0/);
  assert.match(engine.explain(ev(T0, { source: 'mail:x' }), env)[0]!.reason, /^\$\.when\.source: "mail:x" does not match "rss:\*"/);
});

test('templates render the event, cannot read files, and do not reach prototypes', () => {
  const r = rules([
    {
      id: 't',
      then: [
        { notify: { title: '{{ title | upcase }} {{ fields.n | plus: 1 }}', body: '{{ title.constructor }}|{{ fields.__proto__ }}|{{ rule.id }}', url: '{{ url }}', priority: 'high', sound: true } },
        { webhook: { url: 'https://example.test/hook?src={{ source | url_encode }}', headers: { 'X-Rule': '{{ rule.name }}' }, body: '{{ fields | json }}' } },
        { command: { argv: ['notify-send', '{{ title }}'] } },
      ],
    },
  ]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const [f] = engine.process(ev(T0, { title: 'hi; rm -rf /', url: 'https://x.test/1', source: 'rss:a b', fields: { n: 1 } }), env).firings;
  assert.deepEqual(f!.actions, [
    { notify: { title: 'HI; RM -RF / 2', body: '||t', url: 'https://x.test/1', priority: 'high', sound: true } },
    { webhook: { url: 'https://example.test/hook?src=rss%3Aa+b', method: 'POST', headers: { 'X-Rule': 't' }, body: '{"n":1}' } },
    { command: { argv: ['notify-send', 'hi; rm -rf /'] } },
  ]);
});

test('a firing trace lists every when/if node with its result, the test in words and the value seen', () => {
  const r = rules([
    {
      id: 'release',
      when: { source: 'rss:*' },
      if: { all: [{ field: 'title', matches: 'v\\d+', flags: 'i' }, { any: [{ field: 'fields.stars', gt: 100 }, { field: 'tags', equals: 'x' }] }, { not: { field: 'title', contains: 'beta' } }] },
      then: [{ notify: { title: '{{ title }} ({{ fields.stars }})' } }],
    },
  ]);
  const engine = new RuleEngine();
  engine.setRules(r);
  const [f] = engine.process(ev(T0, { id: 'e1', source: 'rss:hn', title: 'V3 out', fields: { stars: 120 }, tags: ['a'] }), env).firings;
  assert.deepEqual(f!.actions, [{ notify: { title: 'V3 out (120)', body: '', url: null, priority: 'normal', sound: false } }]);
  assert.deepEqual(f!.trace, {
    ruleId: 'release',
    at: new Date(T0).toISOString(),
    kind: 'event',
    eventIds: ['e1'],
    key: '',
    conditions: [
      { path: '$.when.source', result: true, test: 'source is "rss:*"', actual: 'rss:hn' },
      { path: '$.if', result: true },
      { path: '$.if.all[0]', result: true, test: 'title matches /v\\d+/i', actual: 'V3 out' },
      { path: '$.if.all[1]', result: true },
      { path: '$.if.all[1].any[0]', result: true, test: 'fields.stars gt 100', actual: 120 },
      { path: '$.if.all[1].any[1]', result: false, test: 'tags equals "x"', actual: ['a'] },
      { path: '$.if.all[2]', result: true },
      { path: '$.if.all[2].not', result: false, test: 'title contains "beta"', actual: 'V3 out' },
    ],
    actions: f!.actions,
  });
  assert.deepEqual(engine.traces('release'), [f!.trace]);
});
