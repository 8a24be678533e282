// A rule says where its notifications go, in the rule format (`notify.channels`), and how they treat do-not-disturb
// and quiet hours (`notify.throughHolds`): checked by the engine against the channels that exist, followed by the
// center, and said in "why".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startTestServer } from '../helpers/http-server.js';

type Why = { fates: { fate: string; text: string }[]; summary: string };

async function setup(t: { after(fn: () => unknown): void }) {
  const server = await startTestServer();
  t.after(() => server.close());
  const received: unknown[] = [];
  server.route('/hook', (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end('{}');
    });
  });
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  const channel = (await engine.request('channels.add', { type: 'webhook', name: 'Phone hook', config: { url: server.url('/hook') } })) as { id: string };
  return { engine, received, channelId: channel.id };
}

test('a rule\'s own channels are checked by the engine against the channels that exist', async (t) => {
  const { engine, channelId } = await setup(t);
  const rule = (channels: string[]) => ({ id: 'r', when: { type: 'x.y' }, then: [{ notify: { title: 't', channels } }] });
  const bad = (await engine.request('rules.validate', { rule: rule(['desktop', 'ntfy:nope']) })) as { ok: boolean; errors: { path: string; message: string }[] };
  assert.equal(bad.ok, false);
  assert.equal(bad.errors[0]!.path, '$.then[0].notify.channels[1]');
  assert.match(bad.errors[0]!.message, /no channel "ntfy:nope"/);
  await assert.rejects(engine.request('rules.save', { rule: rule(['ntfy:nope']) }), /no channel "ntfy:nope"/);
  const good = (await engine.request('rules.validate', { rule: rule(['desktop', channelId]) })) as { ok: boolean };
  assert.equal(good.ok, true);
  const wrongHold = (await engine.request('rules.validate', { rule: { id: 'r', when: { type: 'x.y' }, then: [{ notify: { title: 't', throughHolds: 'yes' } }] } })) as { ok: boolean };
  assert.equal(wrongHold.ok, false);
});

test('a rule routed to its own channel and through holds: sent there (not to the priority\'s channels) during Do not disturb, and "why" says so', async (t) => {
  const { engine, received, channelId } = await setup(t);
  await engine.request('rules.save', { rule: { id: 'doorbell', name: 'Doorbell', when: { type: 'door.bell' }, then: [{ notify: { title: 'Someone at the door', channels: [channelId], throughHolds: true } }] } });
  await engine.request('rules.save', { rule: { id: 'news', name: 'News', when: { type: 'news.item' }, then: [{ notify: { title: 'News', priority: 'urgent', throughHolds: false } }] } });
  await engine.request('flags.set', { name: 'dnd' });
  const bell = (await engine.emit('door', { type: 'door.bell', title: 'ding' }))!;
  const news = (await engine.emit('news', { type: 'news.item', title: 'extra' }))!;
  await waitFor(() => received.length === 1, 'the send to the rule\'s channel');
  assert.equal((received[0] as { title: string }).title, 'Someone at the door');
  const w = await waitFor(async () => {
    const x = (await engine.request('notifications.why', { eventId: bell.id })) as Why;
    return x.fates.some((f) => f.fate === 'shown') ? x : null;
  }, 'the doorbell shown');
  const shown = w.fates.find((f) => f.fate === 'shown')!;
  assert.match(shown.text, /goes through while the "dnd" flag was set: the rule says so/);
  assert.match(shown.text, /sent to Phone hook \(the rule's own channels\)/);
  const row = engine.store.notifications.mergeTarget(bell.id)!;
  assert.deepEqual(JSON.parse(row.channels), [channelId], 'not to the desktop or the pages');
  const n = await waitFor(async () => {
    const x = (await engine.request('notifications.why', { eventId: news.id })) as Why;
    return x.fates.length ? x : null;
  }, 'the news decided');
  assert.equal(n.fates[0]!.fate, 'held', 'an urgent notification the rule keeps under holds is held');
  assert.match(n.fates[0]!.text, /the rule holds even urgent ones/);
});
