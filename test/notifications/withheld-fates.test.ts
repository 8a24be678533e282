// "Why did / didn't this notify me?" for an event a rule matched but did not notify about: its throttle held the
// firing back, or its context gate (a flag, its hours) was closed. Recorded when it happened, in the rule's name
// and plain words, so the answer is about then, not now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

type Why = { fates: { fate: string; ruleName: string | null; text: string }[]; summary: string };

async function setup(t: { after(fn: () => unknown): void }) {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  return engine;
}

const why = (engine: Engine, eventId: string) => engine.request('notifications.why', { eventId }) as Promise<Why>;

test('a firing held back by the rule\'s throttle is recorded as throttled, in the rule\'s name', async (t) => {
  const engine = await setup(t);
  await engine.request('rules.save', { rule: { id: 'disk', name: 'Disk alerts', when: { type: 'disk.full' }, throttle: { per: '1h' }, then: [{ notify: { title: '{{ title }}' } }] } });
  const first = (await engine.emit('host', { type: 'disk.full', title: '/ is full' }))!;
  await waitFor(async () => (await why(engine, first.id)).fates.some((f) => f.fate === 'shown'), 'the first notified');
  const second = (await engine.emit('host', { type: 'disk.full', title: '/ is still full' }))!;
  const w = await waitFor(async () => {
    const x = await why(engine, second.id);
    return x.fates.length ? x : null;
  }, 'a fate for the throttled event');
  assert.equal(w.fates[0]!.fate, 'throttled');
  assert.equal(w.fates[0]!.ruleName, 'Disk alerts');
  assert.match(w.fates[0]!.text, /"Disk alerts" matched but did not notify: its throttle lets one notification through per 1h/);
  assert.match(w.summary, /throttle/);
});

test('an event matched while the rule\'s context gate was closed is recorded as suppressed, saying which flag', async (t) => {
  const engine = await setup(t);
  await engine.request('rules.save', { rule: { id: 'chat', name: 'Chat mentions', when: { type: 'chat.mention' }, context: { flags: { focus: false } }, then: [{ notify: { title: '{{ title }}' } }] } });
  await engine.request('flags.set', { name: 'focus' });
  const e = (await engine.emit('irc', { type: 'chat.mention', title: 'ping' }))!;
  const w = await waitFor(async () => {
    const x = await why(engine, e.id);
    return x.fates.length ? x : null;
  }, 'a fate for the gated event');
  assert.equal(w.fates[0]!.fate, 'suppressed');
  assert.match(w.fates[0]!.text, /"Chat mentions" matched but did not notify: it notifies only while the "focus" flag is not set, and it was set/);
});
