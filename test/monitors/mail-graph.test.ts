// The mail monitor reading a Microsoft 365 Inbox through Microsoft Graph, against a local server that answers
// Graph's documented mail endpoints (delta query, paging, deltaLink, 429 Retry-After, 410, no mailbox) and a local
// authorization server for the sign-in; exactly once across restarts and across SIGKILL of the real agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import mail from '../../monitors/mail/index.js';
import { oauthClientOf } from '../../monitors/mail/settings.js';
import { beginSignIn, serializeGrant, type OAuthGrant } from '../../core/oauth/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { openStore } from '../../core/store/index.js';
import { startOAuthServer, type OAuthTestServer } from '../helpers/oauth-server.js';
import { startGraphServer, type GraphTestServer } from '../helpers/graph-server.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

const USER = 'alice@contoso.example';
const MAIL_READ = 'https://graph.microsoft.com/Mail.Read';
let auth: OAuthTestServer;

before(async () => {
  auth = await startOAuthServer({ user: { username: USER, email: USER } });
});
after(() => auth?.close());

const config = (graph: GraphTestServer, extra: Record<string, unknown> = {}) => ({
  source: 'graph',
  auth: 'oauth2',
  oauthProvider: 'generic',
  oauthIssuer: auth.issuer,
  oauthClientId: auth.clientId,
  oauthScopes: MAIL_READ,
  graphUrl: graph.baseUrl,
  pollInterval: '5s',
  ...extra,
});

async function signIn(graph: GraphTestServer): Promise<OAuthGrant> {
  const s = await beginSignIn('device', oauthClientOf(config(graph), {}));
  auth.approveDevice(s.prompt.userCode!);
  return s.done;
}

const graphIds = (events: { type: string; fields: Record<string, unknown> }[]) => events.filter((e) => e.type === 'mail.received').map((e) => e.fields.graphId as string);

test('new Inbox mail by delta query across pages, with the same fields as IMAP; changed old mail is not new mail; exactly once across a restart', { timeout: 90_000 }, async () => {
  const graph = await startGraphServer(auth.tokenInfo, 3);
  try {
    const old = graph.deliver('already there');
    const grant = await signIn(graph);
    const run = await runMonitor(mail, config(graph), { secrets: { oauthGrant: serializeGrant(grant) }, id: 'mail:graph' });
    try {
      await run.waitForHealth((h) => h.status === 'ok', 15_000, 'first delta round');
      const sent = Array.from({ length: 7 }, (_, i) => graph.deliver(`news ${i + 1}`));
      const events = await run.waitForEvents(7, 20_000);
      assert.deepEqual(events.map((e) => e.title), sent.map((m) => m.subject), 'all pages, in arrival order, nothing old');
      const f = events[0]!.fields as Record<string, unknown>;
      assert.deepEqual(Object.keys(f).sort(), ['account', 'cc', 'date', 'flags', 'folder', 'from', 'graphId', 'hasAttachments', 'messageId', 'size', 'snippet', 'subject', 'to', 'uid'].sort());
      assert.equal(f.account, USER);
      assert.deepEqual(f.from, { name: 'Bob Example', address: 'bob@example.org' });
      assert.deepEqual(f.to, [{ name: 'Alice', address: 'alice@example.org' }]);
      assert.equal(f.messageId, sent[0]!.internetMessageId);
      assert.equal(f.snippet, 'Preview of news 1');
      assert.deepEqual(f.flags, []);
      assert.equal(events[0]!.url, sent[0]!.webLink);

      // Reading mail (old and new) and deleting one changes them in the delta: not new mail.
      graph.markRead(old.id);
      graph.markRead(sent[2]!.id);
      graph.remove(sent[3]!.id);
      const late = graph.deliver('after the changes');
      const more = await run.waitForEvents(8, 20_000);
      assert.equal(more[7]!.title, late.subject);
      await new Promise((r) => setTimeout(r, 6000));
      assert.equal(run.events.length, 8);

      await run.restart();
      const afterRestart = graph.deliver('after a restart');
      await run.waitForEvents(9, 20_000);
      assert.equal(run.events[8]!.title, afterRestart.subject);
      const ids = graphIds(run.stored() as never);
      assert.equal(new Set(ids).size, ids.length, 'nothing twice');
      assert.equal(ids.length, 9);
    } finally {
      await run.stop();
    }
  } finally {
    await graph.close();
  }
});

test('throttled (429) the monitor waits as long as Retry-After says; an expired delta token (410) loses and repeats nothing', { timeout: 90_000 }, async () => {
  const graph = await startGraphServer(auth.tokenInfo, 3);
  try {
    const grant = await signIn(graph);
    const run = await runMonitor(mail, config(graph), { secrets: { oauthGrant: serializeGrant(grant) }, id: 'mail:graph-throttled' });
    try {
      await run.waitForHealth((h) => h.status === 'ok', 15_000, 'first delta round');
      graph.throttle(2, 4);
      const first = graph.deliver('while throttled');
      const throttledFrom = graph.requestTimes.length;
      await run.waitForHealth((h) => h.status === 'degraded' && /throttling/.test(h.message ?? ''), 15_000, 'throttled');
      await run.waitForEvents(1, 30_000);
      assert.equal(run.events[0]!.title, first.subject);
      const times = graph.requestTimes.slice(throttledFrom);
      assert.ok(times.length >= 3);
      for (let i = 1; i < 3; i++) assert.ok(times[i]! - times[i - 1]! >= 3900, `waited ${times[i]! - times[i - 1]!} ms after a 429 with Retry-After: 4`);

      graph.expireDeltaTokens();
      const a = graph.deliver('after the token expired 1');
      const b = graph.deliver('after the token expired 2');
      await run.waitForEvents(3, 30_000);
      assert.deepEqual(run.events.slice(1).map((e) => e.title), [a.subject, b.subject]);
      assert.ok(graph.counts.gone >= 1);
      await new Promise((r) => setTimeout(r, 6000));
      assert.equal(run.events.length, 3, 'the new delta repeated nothing');
    } finally {
      await run.stop();
    }
  } finally {
    await graph.close();
  }
});

test('an account without a mailbox: a clear message in health, and Graph is not asked again and again', { timeout: 60_000 }, async () => {
  const graph = await startGraphServer(auth.tokenInfo);
  try {
    graph.noMailbox = true;
    const grant = await signIn(graph);
    await assert.rejects(dryRunMonitor(mail, config(graph), { oauthGrant: serializeGrant(grant) }), /no mailbox Graph can read/);
    const run = await runMonitor(mail, config(graph), { secrets: { oauthGrant: serializeGrant(grant) }, id: 'mail:graph-nobox' });
    try {
      const h = await run.waitForHealth((x) => x.status === 'failing', 15_000, 'failing');
      assert.match(h.message!, /no mailbox Graph can read/);
      const n = graph.requestTimes.length;
      await new Promise((r) => setTimeout(r, 6000));
      assert.equal(graph.requestTimes.length, n, 'no retry storm');
    } finally {
      await run.stop();
    }
    // Settings that cannot work are refused at their field.
    const bad = mail.configSchema.safeParse({ ...config(graph), auth: 'password' });
    assert.ok(!bad.success && bad.error.issues.some((i) => i.path[0] === 'auth'));
  } finally {
    await graph.close();
  }
});

test('the real agent killed with SIGKILL in the middle of a delta round: every message once, none lost', { timeout: 120_000 }, async (t) => {
  const graph = await startGraphServer(auth.tokenInfo, 2, 250);
  t.after(() => graph.close());
  const dir = tempDir(t, 'panoptes-graph-kill-');
  const grant = await signIn(graph);
  writeConfig(dir, { monitors: [{ id: 'mail:work', type: 'mail', name: 'Work mail', enabled: true, config: config(graph) }] });
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'mail:work': { oauthGrant: serializeGrant(grant) } }), { mode: 0o600 });
  const store = openStore(dir);
  t.after(() => store.close());
  const received = () => store.events.list({ type: 'mail.received', limit: 1000, order: 'asc' }).events;

  let agent: RunningAgent = await startAgent(dir);
  t.after(() => agent.stop());
  await waitFor(() => graph.counts.delta >= 1 && store.monitorState.forMonitor('mail:work').get('graph:cursor'), 'the first delta round', 20_000);
  const sent = Array.from({ length: 12 }, (_, i) => graph.deliver(`batch ${i + 1}`));
  await waitFor(() => received().length >= 3, 'a few messages stored', 30_000);
  agent.child.kill('SIGKILL');
  await new Promise<void>((r) => agent.child.once('exit', () => r()));
  assert.ok(received().length < 12, 'killed mid-round');

  agent = await startAgent(dir);
  await waitFor(() => received().length >= 12, 'all 12 after the restart', 40_000);
  await new Promise((r) => setTimeout(r, 6000));
  const ids = received().map((e) => e.fields.graphId as string);
  assert.equal(ids.length, 12, 'nothing twice');
  assert.deepEqual(new Set(ids), new Set(sent.map((m) => m.id)), 'nothing lost');
});
