// User patterns run in linear time: a pattern that backtracks catastrophically on V8's engine cannot wedge the
// agent (not even when the event that triggers it is already stored and replayed at start), an event too large to
// match within the per-event budget becomes a visible rule error instead of a stall, and what the linear engine
// cannot run is refused at validation with a message that says what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { newId } from '../../core/ids.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

function event(title: string, body = ''): PanoptesEvent {
  const now = new Date().toISOString();
  return { id: newId(), ts: now, receivedAt: now, source: 'log:app', type: 'log.line', title, body, url: null, fields: {}, tags: [] };
}

const rule = (id: string, field: string, matches: string) => ({
  id,
  when: { source: 'log:*' },
  if: { field, matches },
  then: [{ notify: { title: 'matched {{ title }}' } }],
});

test('a rule regex that backtracks catastrophically on V8 cannot wedge the agent, even replayed from the store at start', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [rule('words-only', 'title', '^(\\w|\\d)*$')] });
  // Stored before the agent starts: the agent replays it on start (as after a SIGKILL mid-match).
  const store = openStore(dir);
  store.events.append([event('1'.repeat(41) + '!'), event('justwords')]);
  store.close();

  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const hello = await client.call('hello', {}, 5_000);
  assert.equal(hello.version, 1, 'the agent answers while (or after) matching the stored events');
  const traces = await waitFor(async () => (await client.call('traces.list', { ruleId: 'words-only' }, 5_000)).traces.filter((x: any) => !x.trace?.error), 'the matching event fired');
  assert.equal(traces.length, 1, 'the 41 digits and "!" do not match; "justwords" does');
});

test('the five patterns that passed validation and froze V8 each run on their worst text without stalling the agent', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  // Each pattern with a title that makes a backtracking engine take exponential (or n⁴) time.
  const worst: [string, string][] = [
    ['(.|\\s)*x', ' '.repeat(40) + '!'],
    ['^(\\w|\\d)*$', '1'.repeat(41) + '!'],
    ['(a|a)*$', 'a'.repeat(40) + '!'],
    ['^(a|aa)*$', 'a'.repeat(80) + '!'],
    ['a.*a.*a.*a.*b', 'a'.repeat(2_000)],
  ];
  const rules = worst.map(([p], k) => rule(`worst-${k}`, 'title', p));
  rules.push(rule('after', 'title', '^next$'));
  writeConfig(dir, { rules });
  // Stored before the agent starts, so it replays them on start, as after a SIGKILL mid-match.
  const events = worst.map(([, text]) => event(text));
  const store = openStore(dir);
  store.events.append([...events, event('next')]);
  store.close();

  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  await waitFor(async () => (await client.call('traces.list', { ruleId: 'after' }, 5_000)).traces.length === 1, 'the event after them matched', 30_000);
  const all = (await client.call('traces.list', { limit: 500 })).traces as { ruleId: string; eventIds: string[]; trace?: { error?: string } }[];
  assert.deepEqual(all.filter((x) => x.trace?.error).map((x) => `${x.ruleId}: ${x.trace!.error}`), [], 'no pattern ran out of the matching budget');
  // What each pattern makes of its own worst text: only (a|a)*$ matches (empty, at the end), as it does on V8 given time.
  const own = worst.map((_, k) => all.some((x) => x.ruleId === `worst-${k}` && x.eventIds.includes(events[k]!.id)));
  assert.deepEqual(own, [false, false, true, false, false]);
  assert.equal((await client.call('hello', {}, 5_000)).version, 1);
});

test('an event too large to match within the per-event budget is a rule error in traces and rules.list, and the agent keeps going', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // Twenty patterns with no literal for the index to skip on: each runs over the whole 8 MB body.
  const rules = Array.from({ length: 20 }, (_, k) => rule(`big-${k}`, 'body', `^(\\w|\\d){${k + 1}}(\\w|\\d)*$`));
  rules.push(rule('after', 'title', '^next$'));
  writeConfig(dir, { rules });
  const store = openStore(dir);
  store.events.append([event('huge', 'ab'.repeat(4 * 1024 * 1024) + '!'), event('next')]);
  store.close();

  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  // The event after the huge one is processed: nothing is retried forever.
  await waitFor(async () => (await client.call('traces.list', { ruleId: 'after' }, 5_000)).traces.length === 1, 'the next event matched', 60_000);
  const all = (await client.call('traces.list', { limit: 500 })).traces as any[];
  const errors = all.filter((x) => x.trace?.error);
  assert.ok(errors.length >= 1, 'at least one rule reports the overrun in its traces');
  assert.match(errors[0].trace.error, /matching budget/);
  const listed = await client.call('rules.list');
  assert.ok(listed.errors.some((e: any) => /^big-/.test(e.ruleId) && /matching budget/.test(e.message)), 'rules.list shows the rule error');
});

test('patterns the linear engine cannot run are refused at validation with what is wrong', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const problem = async (matches: string) => {
    const r = await client.call('rules.validate', { rule: rule('x', 'title', matches) });
    return r.ok ? null : r.errors.map((e: any) => e.message).join('; ');
  };
  for (const ok of ['^(\\w|\\d)*$', '(.|\\s)*x', '(a|a)*$', '^(a|aa)*$', 'a.*a.*a.*a.*b', '(?<level>ERROR|WARN)', '\\bkubernetes\\b']) {
    assert.equal(await problem(ok), null, `${ok} runs in linear time and is accepted`);
  }
  assert.match((await problem('(a'))!, /unterminated group/);
  assert.match((await problem('[ab'))!, /unterminated character class/);
  assert.match((await problem('(a)\\1'))!, /backreference \\1 is not supported/);
  assert.match((await problem('(?<=a)b'))!, /lookbehind/);
  assert.match((await problem('a(?!b)'))!, /lookahead/);
  for (const msg of await Promise.all(['(a', '(a)\\1', '(?<=a)b'].map(problem))) assert.doesNotMatch(msg!, /exponential|catastroph/);

  // The log monitor's pattern goes through the same engine and says the same.
  await assert.rejects(client.call('monitors.add', { type: 'log', name: 'app', config: { path: path.join(dir, 'app.log'), pattern: '(?<=x)y' } }), /lookbehind/);
  const added = await client.call('monitors.add', { type: 'log', name: 'app', config: { path: path.join(dir, 'app.log'), pattern: '^(\\w|\\d)*$' } });
  assert.equal(added.type, 'log');
});
