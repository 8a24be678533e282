import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { renderTemplate, renderWithLiquid } from '../../rules/templates.js';
import { isoTime } from '../../rules/iso-time.js';

/**
 * Plain `{{ path }}` templates skip liquidjs' machinery; whatever the template and the data, the text (or the
 * failure) must be exactly what liquidjs itself produces.
 */
test('the fast path for plain variables renders exactly what liquidjs renders', () => {
  const templates = [
    '{{ title }}', '{{title}}', 'Mail from {{ fields.from }}: {{ title }}!', '{{ fields.n }}', '{{ fields.neg }}', '{{ fields.big }}',
    '{{ fields.nan }}', '{{ fields.missing }}', '{{ fields.missing.deeper }}', '{{ tags }}', '{{ fields.arr }}', '{{ event.title }}',
    '{{ rule.id }} / {{ rule.name }}', '{{ count }}', '{{ title.size }}', '{{ fields.size }}', '{{ fields.first }}', '{{ fields.arr.first }}',
    '{{ fields.obj }}', '{{ fields.obj.a }}', '{{ fields.nested.deep.x }}', '{{ fields.bool }}', '{{ fields.nul }}', '{{ true }}', '{{ nil }}',
    '{{ empty }}', '{{ constructor }}', '{{ fields.constructor }}', '{{ fields.__proto__ }}', '{{ title.length }}', '{{ url }}',
    'a {{ title }} b {{- body }}', '{ {{ title }} }', '{{ title }}}}', '{{ fields.n | plus: 1 }}', '{% if title %}x{% endif %}{{ title }}',
    '{{ fields.to_liquid }}', '{{ body }}', '{{ events }}', '{{ key }}{{ now }}', 'plain text', '{{ fields.with-dash }}', '{{ flags.dnd }}',
  ];
  const ref = { id: 'e1', ts: '2026-03-02T10:00:00.000Z', source: 'rss:hn', type: 'feed.item', title: 'Release v2 <b>&amp;</b>', body: 'x'.repeat(50), url: null, tags: ['a', 'b'],
    fields: { from: 'ann@example.test', n: 5, neg: -0, big: 1.5e21, nan: NaN, arr: [1, 'two'], size: 3, first: 'f', obj: { a: 1 }, nested: { deep: { x: 'y' } }, bool: true, nul: null, to_liquid: 'z', 'with-dash': 'd' } };
  const scope = { ...ref, event: ref, events: [ref], count: 1, flags: { dnd: false }, rule: { id: 'r', name: 'Rule' }, key: '', now: '2026-03-02T10:00:00.000Z' };
  for (const t of templates) {
    let want: { text: string; error?: string };
    try {
      want = { text: renderWithLiquid(t, scope) };
    } catch (err) {
      want = { text: '', error: (err as Error).message };
    }
    assert.deepEqual(renderTemplate(t, scope), want, t);
  }
});

test('firing times are written exactly as Date#toISOString writes them', () => {
  const day = 86_400_000;
  const times = [0, 1, 999, 1000, day - 1, day, day + 1, -1, -day, -day - 1, Date.parse('2026-03-02T23:59:59.999Z'), Date.parse('2026-03-03T00:00:00.000Z'),
    Date.parse('9999-12-31T23:59:59.999Z'), Date.parse('9999-12-31T23:59:59.999Z') + 1, Date.parse('-000001-01-01T00:00:00Z'), 1.5, day + 0.25];
  for (let t = Date.parse('2026-03-02T10:00:00Z'); t < Date.parse('2026-03-04T10:00:00Z'); t += 3_599_999) times.push(t);
  // Many firings within one second, across a midnight, and time going back.
  for (let t = Date.parse('2026-03-02T23:59:58.000Z'); t < Date.parse('2026-03-03T00:00:02.000Z'); t += 7) times.push(t);
  for (let t = Date.parse('2026-03-03T00:00:02.000Z'); t > Date.parse('2026-03-02T23:59:58.000Z'); t -= 13) times.push(t);
  for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
});

test("the date filter names months and days in the system's language", () => {
  // The engine no longer asks Intl for the locale at start (#22: that alone mapped ~7 MB of ICU data); a template
  // must still get the user's language, as liquidjs gives it by default. German, in a process of its own.
  const templates = new URL('../../rules/templates.js', import.meta.url).href;
  const script = `const t = await import(${JSON.stringify(templates)}); process.stdout.write(JSON.stringify(t.renderTemplate('{{ ts | date: "%B, %A" }}', { ts: '2024-03-05T10:00:00Z' })));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8', TZ: 'UTC' } }).toString();
  assert.deepEqual(JSON.parse(out), { text: 'März, Dienstag' });
});
