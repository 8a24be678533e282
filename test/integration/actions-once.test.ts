// Effects once: the real agent process, SIGKILLed while it sends webhook and email actions to local receivers.
// Every action arrives at least once; any repeat carries the same idempotency key (Idempotency-Key header,
// Message-ID), so a receiver that remembers keys sees each action exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { startTestServer } from '../helpers/http-server.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { freePort } from '../helpers/ports.js';

const SECRET = 'a-webhook-secret-of-some-length';
const N = 150;

test('SIGKILL mid-stream with webhook and email actions: each delivered at least once, repeats carry the same key, a deduping receiver sees each once', { timeout: 240_000 }, async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const receiver = await startTestServer();
  t.after(() => receiver.close());
  // A slowish receiver, so the kill finds webhook requests under way (the ones a restart has to send again).
  const seen: { n: number; key: string }[] = [];
  const deduped = new Map<string, number>();
  let allPosted = false;
  let killed = false;
  let postingDone!: () => void;
  const posting = new Promise<void>((r) => (postingDone = r));
  receiver.route('/deploy', async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const key = String(req.headers['idempotency-key'] ?? '');
    const n = Number(JSON.parse(body).n);
    seen.push({ n, key });
    if (!deduped.has(key)) deduped.set(key, n);
    // The kill comes from here, the moment a quarter has arrived once every hook was posted: polling for it instead
    // could, on a loaded machine, wake only after every webhook was through, and the crash would no longer be
    // mid-stream. Until all hooks are posted the receiver holds its answers, so at most a lane's worth arrive.
    if (allPosted && !killed && seen.length >= N / 4) {
      killed = true;
      agent.child.kill('SIGKILL');
    }
    await posting;
    await new Promise((r) => setTimeout(r, 150));
    res.writeHead(204).end();
  });

  const dataDir = tempDir(t, 'panoptes-once-');
  writeFileSync(
    path.join(dataDir, 'config.json'),
    JSON.stringify({
      monitors: [
        { id: 'webhook:in', type: 'webhook', name: 'in', config: { hookId: 'in' } },
        { id: 'mail:out', type: 'mail', name: 'Out', enabled: false, config: { host: '127.0.0.1', security: 'plain', username: 'me@example.test', smtpHost: '127.0.0.1', smtpPort: sink.port, smtpSecurity: 'plain' } },
      ],
      rules: [
        {
          id: 'fan-out',
          name: 'fan out',
          when: { type: 'webhook.received' },
          then: [{ webhook: { url: receiver.url('/deploy'), body: '{"n": {{ fields.n }}}' } }, { email: { to: 'ops@example.test', subject: 'deploy {{ fields.n }}', body: 'n={{ fields.n }}' } }],
        },
      ],
    }),
  );
  writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify({ 'webhook:in': { secret: SECRET } }), { mode: 0o600 });
  const port = await freePort();
  let agent: RunningAgent = await startAgent(dataDir, ['--port', String(port)]);
  t.after(() => agent.stop());

  for (let n = 0; n < N; n++) {
    const r = await fetch(`${agent.origin}/hooks/in`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ n }) });
    assert.equal(r.status, 200);
  }
  allPosted = true;
  postingDone();
  await waitFor(() => killed, 'a quarter of the webhooks to arrive (then the agent is killed)', 60_000, 5);
  await new Promise((r) => (agent.child.exitCode !== null || agent.child.signalCode !== null ? r(null) : agent.child.once('exit', r)));
  const beforeRestart = seen.length;
  assert.ok(beforeRestart < N, `the kill came mid-stream (${beforeRestart} of ${N} webhooks had arrived)`);

  agent = await startAgent(dataDir, ['--port', String(port)]);
  await waitFor(() => deduped.size === N, `every webhook action at least once (have ${deduped.size})`, 120_000, 50);
  const mails = await sink.waitForMessages(N, 120_000);
  await new Promise((r) => setTimeout(r, 500)); // anything still to repeat would come now

  // Webhooks: one key per action, the same on every repeat; deduping by key leaves each n exactly once.
  const keysOf = new Map<number, Set<string>>();
  for (const s of seen) keysOf.set(s.n, (keysOf.get(s.n) ?? new Set()).add(s.key));
  assert.equal(keysOf.size, N);
  for (const [n, keys] of keysOf) assert.equal(keys.size, 1, `webhook ${n} came with ${keys.size} different keys`);
  assert.deepEqual([...deduped.values()].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
  assert.ok(seen.length > N, `the restart sent again what was under way at the kill (${seen.length} requests for ${N} actions)`);

  // Mail: the Message-ID is the key; a resent mail is recognisably the same message.
  const idsOf = new Map<string, Set<string>>();
  for (const m of sink.messages()) {
    const subject = /^Subject: (.*)$/m.exec(m)?.[1]?.trim() ?? '';
    const id = /^Message-ID: (.*)$/im.exec(m)?.[1]?.trim() ?? '';
    idsOf.set(subject, (idsOf.get(subject) ?? new Set()).add(id));
  }
  assert.equal(idsOf.size, N, `every mail at least once (${mails.length} received)`);
  for (const [subject, ids] of idsOf) assert.equal(ids.size, 1, `"${subject}" came with ${ids.size} Message-IDs`);
  const allIds = new Set([...idsOf.values()].flatMap((s) => [...s]));
  assert.equal(allIds.size, N, 'a deduping mail receiver keeps exactly one per action');
});
