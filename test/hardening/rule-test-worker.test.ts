// "Test against history" replays stored events through the rule being edited. Run on the engine's thread, a test
// over ~19,000 events held every other request and every webhook's acknowledgement for half a second, and a larger
// history for as long as it took. It runs off that thread, within a time and event budget, and can be cancelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';

const EVENTS = 60_000;

/** A history of `n` events received over the last day, written before the agent starts and marked as processed. */
function seedHistory(dir: string, n: number): void {
  const store = openStore(dir);
  try {
    const start = Date.now() - 24 * 3600_000;
    for (let i = 0; i < n; i += 5_000) {
      const batch: PanoptesEvent[] = [];
      for (let j = i; j < Math.min(n, i + 5_000); j++) {
        const at = new Date(start + j * 1_000).toISOString();
        batch.push({ id: `seed${String(j).padStart(8, '0')}`, ts: at, receivedAt: at, source: 'rss:news', type: 'feed.item', title: `item ${j} about things`, body: 'b'.repeat(500), url: null, fields: { n: j, feed: `f${j % 50}` }, tags: [] });
      }
      store.tx(() => store.events.append(batch));
    }
    // The agent starts with nothing to catch up on: the rules have seen these.
    store.cursors.set('rules', store.events.maxSeq(), null);
  } finally {
    store.close();
  }
}

const rule = { id: 'probe', if: { field: 'title', matches: 'item \\d+7 about' }, pattern: { count: 3, within: '1h', by: 'fields.feed' }, then: [{ notify: { title: '{{ count }} in {{ fields.feed }}' } }] };

test('requests are answered while a rule test over a large history runs, and a test can be cancelled', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  seedHistory(dir, EVENTS);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());

  let testDone = false;
  const running = client.call('rules.test', { rule, testId: 'long' }, 180_000).finally(() => (testDone = true));
  // Sent after the test on the same connection, so the server has taken the test in before it reads these.
  const answeredDuring: string[] = [];
  for (let i = 0; i < 5; i++) {
    await client.call('hello', {}, 60_000);
    if (!testDone) answeredDuring.push('hello');
  }
  assert.deepEqual(answeredDuring, ['hello', 'hello', 'hello', 'hello', 'hello'], 'every request was answered while the test was still running');
  const result = await running;
  assert.equal(result.eventsScanned, EVENTS);
  assert.ok(result.firings.length > 0, 'the test found firings');
  assert.equal(result.stopped, undefined, 'the whole history was tested');

  // Cancel: the test answers at once with what it had, marked cancelled.
  const cancelled = client.call('rules.test', { rule, testId: 'stop-me' }, 180_000);
  const c = await client.call('rules.cancelTest', { testId: 'stop-me' }, 60_000);
  assert.equal(c.cancelled, true);
  const partial = await cancelled;
  assert.equal(partial.stopped?.reason, 'cancelled');
  assert.equal((await client.call('rules.cancelTest', { testId: 'stop-me' }, 60_000)).cancelled, false, 'nothing left to cancel');
});

test('a rule test stops at its event and time budgets and says so', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  seedHistory(dir, 5_000);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const byEvents = await client.call('rules.test', { rule, limits: { events: 1_000 } }, 120_000);
  assert.equal(byEvents.eventsScanned, 1_000);
  assert.equal(byEvents.stopped?.reason, 'events');
  assert.match(byEvents.stopped?.message, /1,000 events/);
  const byTime = await client.call('rules.test', { rule, limits: { ms: 1 } }, 120_000);
  assert.equal(byTime.stopped?.reason, 'time');
  assert.ok(byTime.eventsScanned < 5_000);
});
