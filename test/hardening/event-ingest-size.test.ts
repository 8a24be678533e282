// What a monitor emits is stored. normalizeNewEvent cut the title and body (silently, with a bare "…") but kept
// fields, the url and the tags at any size and any depth: a source could store megabytes per event, and a webhook's
// JSON nested 200,000 deep (400 KB, under its 1 MiB limit) could not even be written — serialising it overflowed the
// stack and failed the whole batch of events it was written with. Every part of an event now has a cap; what is cut
// ends in a marker saying so and how large it was, and the engine logs which parts of the event were cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeNewEvent, EVENT_LIMITS } from '../../core/event.js';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

const MARKER = /\[cut: [\d,]+ characters in all\]$/;

test('each part of a new event is capped, each cut says so and how large it was', () => {
  const cut: string[] = [];
  const n = normalizeNewEvent({
    type: 'test.big',
    title: 'T'.repeat(10_000),
    body: 'B'.repeat(1_000_000),
    url: 'https://example.com/' + 'u'.repeat(100_000),
    tags: Array.from({ length: 5_000 }, (_, i) => `tag${i}`).concat(['x'.repeat(1_000)]),
    fields: { small: 42, host: 'nas', huge: 'h'.repeat(5_000_000), list: Array.from({ length: 200_000 }, (_, i) => ({ i })), more: 'm'.repeat(EVENT_LIMITS.field - 100), again: 'a'.repeat(EVENT_LIMITS.field - 100) },
  }, (parts) => cut.push(...parts));
  assert.ok(n.title.length < EVENT_LIMITS.title + 60 && MARKER.test(n.title), 'title cut with a marker');
  assert.match(n.title, /10,000 characters in all/);
  assert.ok(n.body.length < EVENT_LIMITS.body + 60 && MARKER.test(n.body), 'body cut with a marker');
  assert.ok(n.url!.length < EVENT_LIMITS.url + 60 && MARKER.test(n.url!), 'url cut with a marker');
  assert.equal(n.tags.length, EVENT_LIMITS.tags);
  assert.match(n.tags.at(-1)!, /\[cut: 5,001 tags in all\]/);
  const fields = n.fields as Record<string, unknown>;
  assert.equal(fields.small, 42, 'small fields are whole');
  assert.equal(fields.host, 'nas');
  assert.match(String(fields.huge), /^h+… \[cut: 5,000,000 characters in all\]$/);
  assert.match(String(fields.list), /^\[cut: a list of 200,000 items, [\d,]+ characters as JSON\] \[\{"i":0\}/, 'a large list keeps its head as JSON text');
  const total = JSON.stringify(fields).length;
  assert.ok(total <= EVENT_LIMITS.fields + 1_000, `all fields together are ${total} characters (cap ${EVENT_LIMITS.fields})`);
  assert.deepEqual([...cut].sort(), ['body', 'fields.again', 'fields.huge', 'fields.list', 'fields.more', 'tags', 'title', 'url'].sort());
  // An event within the limits is untouched and names nothing cut.
  const none: string[] = [];
  const ok = normalizeNewEvent({ type: 'test.small', title: 't', body: 'b', fields: { a: [1, 2, { b: 'c' }] }, tags: ['x'] }, (parts) => none.push(...parts));
  assert.deepEqual(ok.fields, { a: [1, 2, { b: 'c' }] });
  assert.deepEqual(none, []);
});

test('a value nested too deep is replaced by a marker, not left to overflow the stack when stored', () => {
  let deep: unknown = 'bottom';
  for (let i = 0; i < 200_000; i++) deep = [deep];
  const n = normalizeNewEvent({ type: 'test.deep', fields: { deep, fine: { a: { b: 1 } } } });
  assert.match(String((n.fields as Record<string, unknown>).deep), /^\[cut: nested deeper than [\d,]+ levels\]$/);
  assert.deepEqual((n.fields as Record<string, unknown>).fine, { a: { b: 1 } });
  assert.doesNotThrow(() => JSON.stringify(n.fields));
});

test('a webhook of JSON nested 200,000 deep is stored, its deep part cut, and the agent goes on', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }], rules: [] });
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: 'a-long-enough-hook-secret' } }), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const post = (body: string) => fetch(`${agent.origin}/hooks/ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': 'a-long-enough-hook-secret' }, body });
  const deep = `{"title":"deep one","deep":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  const [a, b] = await Promise.all([post(deep), post('{"title":"plain one"}')]);
  assert.equal(a.status, 200, await a.text());
  assert.equal(b.status, 200);
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const stored = await waitFor(async () => {
    const page = await client.call<{ events: { title: string; fields: Record<string, unknown> }[] }>('events.list', { limit: 10 }, 30_000);
    return page.events.length === 2 ? page.events : null;
  }, 'both webhook events stored', 30_000);
  const one = stored.find((e) => e.title === 'deep one')!;
  assert.match(String(one.fields.deep), /nested deeper than/);
  assert.ok(stored.some((e) => e.title === 'plain one'));
});
