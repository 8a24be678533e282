// Lists of events (the feed, History and its search) and the live `event` push sent every event whole: listing 100
// events with 900 KB fields made one 56 MB message, over the slow-consumer limit and far more than a list shows.
// In lists and pushes each event is capped (long texts cut with a marker saying so and how long they were, large
// objects summarised, `cut` set); `events.get` gives the whole event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';

const N = 100;
const BIG = 900_000;
/** What one event may take in a list or a push, as JSON. */
const PER_EVENT = 40_000;
const SECRET = 'a-long-enough-hook-secret';
/** An event as lists send it: `cut` when it was too big to send whole. */
type Listed = PanoptesEvent & { cut?: unknown };

function seed(dir: string): void {
  const store = openStore(dir);
  try {
    const start = Date.now() - 3600_000;
    const batch: PanoptesEvent[] = [];
    for (let i = 0; i < N; i++) {
      const at = new Date(start + i * 1_000).toISOString();
      batch.push({
        id: `huge${String(i).padStart(6, '0')}`,
        ts: at,
        receivedAt: at,
        source: 'webhook:ci',
        type: 'webhook.received',
        title: `needle ${i}`,
        body: `start of body ${i} ` + 'b'.repeat(150_000) + ' end of body',
        url: null,
        fields: { host: 'nas', blob: 'x'.repeat(BIG) + 'END', rows: Array.from({ length: 5_000 }, (_, j) => ({ j, name: `row ${j}` })), small: 42 },
        tags: ['big'],
      });
    }
    store.tx(() => store.events.append(batch));
    store.cursors.set('rules', store.events.maxSeq(), null);
  } finally {
    store.close();
  }
}

test('events in lists, searches and pushes are capped in size; events.get returns the whole event', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }], rules: [] });
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  seed(dir);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  // The size of every message the server sends, as it arrives on the wire.
  const sizes: { kind: string; topic?: string; bytes: number }[] = [];
  client.ws.on('message', (d: Buffer) => {
    const m = JSON.parse(String(d)) as { kind: string; topic?: string };
    sizes.push({ kind: m.kind, topic: m.topic, bytes: d.length });
  });
  const lastAnswerBytes = () => [...sizes].reverse().find((s) => s.kind === 'res')!.bytes;

  const page = await client.call<{ events: Listed[] }>('events.list', { limit: N }, 60_000);
  assert.equal(page.events.length, N);
  const listBytes = lastAnswerBytes();
  assert.ok(listBytes < N * PER_EVENT, `a list of ${N} events with ${BIG / 1000} KB fields is ${listBytes} bytes (want < ${N * PER_EVENT})`);
  t.diagnostic(`events.list of ${N}: ${listBytes} bytes`);
  const first = page.events[0]!;
  assert.ok(first.cut, 'an event too big for a list says it was cut');
  assert.equal(first.title, `needle ${N - 1}`, 'short texts are whole');
  assert.equal(first.fields.host, 'nas');
  assert.equal(first.fields.small, 42);
  assert.match(String(first.fields.blob), /^x+…/);
  assert.match(String(first.fields.blob), /900,003 characters/, 'the cut text says how long it was');
  assert.match(first.body, /^start of body 99 b+/);
  assert.match(first.body, /150,029 characters/);
  assert.match(JSON.stringify(first.fields.rows), /5,000 items/, 'a large array is summarised');

  const found = await client.call<{ events: PanoptesEvent[] }>('events.list', { search: 'needle', limit: N }, 60_000);
  assert.equal(found.events.length, N);
  const searchBytes = lastAnswerBytes();
  assert.ok(searchBytes < N * PER_EVENT, `a search finding ${N} such events answered ${searchBytes} bytes`);

  const whole = await client.call<Listed>('events.get', { id: first.id }, 60_000);
  assert.equal(whole.cut, undefined);
  assert.equal(whole.fields.blob, 'x'.repeat(BIG) + 'END');
  assert.equal((whole.fields.rows as unknown[]).length, 5_000);
  assert.ok(whole.body.endsWith(' end of body'));

  // A new event sent by a webhook reaches the open pages as a push: capped the same way.
  const hook = await fetch(`${agent.origin}/hooks/ci`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET },
    body: JSON.stringify({ title: 'pushed', text: 't'.repeat(400_000), blob: 'y'.repeat(500_000) }),
  });
  assert.equal(hook.status, 200);
  await waitFor(() => sizes.some((s) => s.topic === 'event'), 'the event push', 60_000);
  const push = sizes.find((s) => s.topic === 'event')!;
  t.diagnostic(`search: ${searchBytes} bytes; event push: ${push.bytes} bytes`);
  assert.ok(push.bytes < PER_EVENT, `the push of a 900 KB event is ${push.bytes} bytes (want < ${PER_EVENT})`);
});
