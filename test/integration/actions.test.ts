import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { startTestServer } from '../helpers/http-server.js';

async function engineWith(t: { after(fn: () => unknown): void }, rules: unknown[]) {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', { rules });
  return engine;
}

const outboxOf = (engine: Engine, kind: string) => engine.store.outbox.list().filter((i) => kind in i.action);

test('email action: sent through the mail account’s SMTP server (a real one), templated from the event', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const engine = await engineWith(t, [
    { id: 'mail-me', name: 'mail me', when: { type: 'build.failed' }, then: [{ email: { to: 'me@example.test', subject: 'Build {{ fields.build }} failed', body: '{{ title }}' } }] },
  ]);
  await engine.config.update((d) =>
    void d.monitors.push({ id: 'mail:home', type: 'mail', name: 'Home', enabled: false, config: { host: '127.0.0.1', security: 'plain', username: 'me@example.test', smtpHost: '127.0.0.1', smtpPort: sink.port, smtpSecurity: 'plain' } }),
  );
  await engine.emit('ci:main', { type: 'build.failed', title: 'Tests broke on main', fields: { build: 77 } });
  const [raw] = await sink.waitForMessages(1, 15_000);
  assert.match(raw!, /^Subject: Build 77 failed/m);
  assert.match(raw!, /Tests broke on main/);
  assert.match(raw!, /^To: me@example\.test/m);
  await waitFor(() => outboxOf(engine, 'email')[0]?.status === 'done', 'outbox marks it done');
});

test('webhook action posts the rendered body; a 4xx is a permanent failure with the reason kept', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const bodies: string[] = [];
  server.route('/hook', async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    bodies.push(body);
    res.writeHead(204).end();
  });
  server.route('/gone', (_req, res) => void res.writeHead(410).end());
  const engine = await engineWith(t, [
    { id: 'hook', name: 'hook', when: { type: 'door.open' }, then: [{ webhook: { url: server.url('/hook'), body: '{"who":"{{ fields.who }}"}' } }, { webhook: { url: server.url('/gone') } }] },
  ]);
  await engine.emit('door:front', { type: 'door.open', fields: { who: 'alice' } });
  await waitFor(() => bodies.length === 1, 'webhook received');
  assert.deepEqual(JSON.parse(bodies[0]!), { who: 'alice' });
  const gone = await waitFor(() => outboxOf(engine, 'webhook').find((i) => i.status === 'failed'), 'permanent failure');
  assert.match(String(gone.lastError), /410/);
});

test('command action runs an argv without a shell, only once the user has turned commands on', async (t) => {
  const dir = tempDir(t);
  const marker = path.join(dir, 'ran; rm -rf nothing');
  const engine = await engineWith(t, [{ id: 'cmd', name: 'cmd', when: { type: 'touch.me' }, then: [{ command: { argv: ['/usr/bin/touch', '{{ fields.file }}'] } }] }]);
  await engine.emit('t:1', { type: 'touch.me', fields: { file: marker } });
  const refused = await waitFor(() => outboxOf(engine, 'command').find((i) => i.status === 'failed'), 'refused while off');
  assert.match(String(refused.lastError), /commands are turned off/);
  assert.equal(existsSync(marker), false);

  await engine.request('settings.update', { commandsEnabled: true });
  await engine.emit('t:1', { type: 'touch.me', fields: { file: marker } });
  await waitFor(() => existsSync(marker), 'command ran');
  assert.equal(readFileSync(marker, 'utf8'), '', 'the argument was a file name, not shell code');
});
