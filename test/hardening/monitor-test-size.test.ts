// "Test" in a monitor's form (`monitors.test`) answers with the events the monitor would emit now. It sent them
// whole: a feed of 30 items with long texts was one answer of megabytes, more than the form shows and, with larger
// sources, past the slow-consumer limit that disconnects the page. Its events are capped as lists cap them
// (core/event-cap.ts): long texts cut with a marker saying how long they were, `cut` set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { startTestServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';
import type { PanoptesEvent } from '../../core/event.js';

const ITEMS = 30;
const LONG = 150_000;
/** What one event may take in the answer, as JSON (as test/hardening/event-size.test.ts allows a list). */
const PER_EVENT = 40_000;

test('a monitor test of a source with huge items answers capped events', { timeout: 180_000 }, async (t) => {
  const feed = await startTestServer();
  t.after(() => feed.close());
  const items = Array.from(
    { length: ITEMS },
    (_, i) => `<item><title>item ${i}</title><guid isPermaLink="false">g${i}</guid><link>http://127.0.0.1/${i}</link><description>start ${i} ${'w'.repeat(LONG)} THE END</description></item>`,
  ).join('');
  feed.route('/feed.xml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
    res.end(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title><link>http://127.0.0.1/</link><description>d</description>${items}</channel></rss>`);
  });
  const dir = tempDir(t);
  writeConfig(dir, { monitors: [], rules: [] });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const sizes: number[] = [];
  client.ws.on('message', (d: Buffer) => {
    if ((JSON.parse(String(d)) as { kind: string }).kind === 'res') sizes.push(d.length);
  });

  const answer = await client.call<{ events: (PanoptesEvent & { cut?: true })[] }>('monitors.test', { type: 'rss', config: { url: feed.url('/feed.xml') } }, 120_000);
  assert.equal(answer.events.length, ITEMS, 'every item is in the answer');
  const bytes = sizes.at(-1)!;
  t.diagnostic(`monitors.test of ${ITEMS} items of ${LONG.toLocaleString('en')} characters: ${bytes.toLocaleString('en')} bytes`);
  assert.ok(bytes < ITEMS * PER_EVENT, `the answer is ${bytes} bytes (want < ${ITEMS * PER_EVENT})`);
  const first = answer.events.find((e) => e.title === 'item 0')!;
  assert.equal(first.cut, true, 'an event too big to send whole says it was cut');
  // The feed's item as HTML is the long field (the body is the monitor's own 2,000-character summary).
  const html = String(first.fields.contentHtml);
  assert.match(html, /start 0 w+/);
  assert.match(html, /\[cut: [\d,]+ characters in all\]$/, 'the cut text says how long it was');
});
