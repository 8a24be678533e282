// What an agent answers the desktop is bounded and its own: a hundred events with large texts and fields come back cut as
// lists cut them and, past the 1 MiB an answer may have, fewer of them with how many were left out — signed with the
// agent's key either way. A replayed question is not answered twice; one from long ago is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { AgentAsks } from '../../engine/fleet/agent-asks.js';
import { checkSignedJson, decodeAnswer, MAX_ANSWER_BYTES, signAsk, type Ask } from '../../engine/fleet/wire.js';
import type { ForwardingHost } from '../../engine/forwarding/host.js';
import { waitFor } from '../helpers/tmp.js';

test('an answer is capped at 1 MiB (events cut, then fewer, saying how many were left out) and signed; replays and stale questions are not answered', async () => {
  const desktop = generateKeyPairSync('ed25519');
  const agent = generateKeyPairSync('ed25519');
  const huge = (i: number) => ({ id: `01J${String(i).padStart(20, '0')}`, ts: new Date().toISOString(), receivedAt: new Date().toISOString(), source: 'webhook:big', type: 'webhook.received', title: `event ${i} ${'t'.repeat(10_000)}`, body: 'b'.repeat(300_000), url: null, fields: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`f${k}`, 'f'.repeat(30_000)])), tags: [] });
  const host = { request: async () => ({ events: Array.from({ length: 100 }, (_, i) => huge(i)), next: null }) } as unknown as ForwardingHost;
  const sent: string[] = [];
  const warned: string[] = [];
  const asks = new AgentAsks({ host, agentId: 'a1', pairing: 'pair-a1-0000', desktopKey: desktop.publicKey, agentKey: agent.privateKey, publish: (s) => sent.push(s), log: { warn: (m) => warned.push(m), info: () => {} } });
  const ask = (over: Partial<Ask> = {}): Ask => ({ v: 1, kind: 'ask', agentId: 'a1', pairing: 'pair-a1-0000', id: randomBytes(9).toString('base64url'), method: 'events.recent', params: { limit: 100 }, issuedAt: new Date().toISOString(), timeoutMs: 10_000, ...over });

  const q = ask();
  asks.handle(Buffer.from(signAsk(q, desktop.privateKey)));
  await waitFor(() => sent.length === 1, 'the answer', 10_000);
  assert.ok(sent[0]!.length <= MAX_ANSWER_BYTES, `${sent[0]!.length} bytes`);
  assert.equal(checkSignedJson(sent[0]!, agent.publicKey), 'good');
  const a = decodeAnswer(Buffer.from(sent[0]!))!;
  assert.equal(a.id, q.id);
  const r = a.result as { events: { body: string; cut?: boolean }[]; leftOut: number };
  assert.ok(r.events.length > 0 && r.leftOut > 0 && r.events.length + r.leftOut === 100, `${r.events.length} sent, ${r.leftOut} left out`);
  assert.match(r.events[0]!.body, /… \[cut: 300,000 characters in all\]$/);

  // The same question again (a replay off the wire): not run, not answered.
  asks.handle(Buffer.from(signAsk(q, desktop.privateKey)));
  // One asked eleven minutes ago: refused, and said to the desktop.
  asks.handle(Buffer.from(signAsk(ask({ issuedAt: new Date(Date.now() - 11 * 60_000).toISOString() }), desktop.privateKey)));
  // One signed by another key: not answered at all.
  asks.handle(Buffer.from(signAsk(ask(), generateKeyPairSync('ed25519').privateKey)));
  await waitFor(() => sent.length === 2, 'the refusal', 10_000);
  const refused = decodeAnswer(Buffer.from(sent[1]!))!;
  assert.equal(refused.ok, false);
  assert.match(refused.error!.message, /asked more than 10 minutes ago/);
  assert.ok(warned.some((w) => /already answered \(a replay\)/.test(w)));
  assert.ok(warned.some((w) => /signature is not from the desktop this agent is paired with/.test(w)));
  assert.equal(sent.length, 2);
});
