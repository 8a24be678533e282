// Forwarding over TLS with a private CA and client certificates (Mosquitto `require_certificate`), and the
// `panoptes agent --forward` flag's checks. Certificates are made by the openssl CLI for this run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { run as agentCommand } from '../../cli/commands/agent.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { writeConfig } from './helpers.js';
import { makeMqttPki } from '../helpers/mqtt-pki.js';

const skip = !mosquittoAvailable() ? 'skipped: no /usr/sbin/mosquitto' : !existsSync('/usr/bin/openssl') ? 'skipped: no openssl' : false;

test('forwarding over TLS with a private CA and a client certificate', { skip }, async (t) => {
  const pkiDir = tempDir(t, 'panoptes-pki-');
  const pki = makeMqttPki(pkiDir);
  const broker = await startMosquitto({
    extraConfig: [`cafile ${pki.ca}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`, 'require_certificate true'],
  });
  t.after(() => broker.close());
  const url = `mqtts://127.0.0.1:${broker.port}`;
  const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
  const root = tempDir(t);
  writeConfig(path.join(root, 'desktop'), { forwarding: { subscribe: [{ url, tls }] } });
  writeConfig(path.join(root, 'agent'), { forwarding: { forward: { url, agentId: 'secure', tls } } });
  // An agent without a client certificate is refused by the broker: nothing of it arrives.
  writeConfig(path.join(root, 'stranger'), { forwarding: { forward: { url, agentId: 'stranger', tls: { ca: pki.ca } } } });
  const desktop = await Engine.open({ dataDir: path.join(root, 'desktop'), log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const agent = await Engine.open({ dataDir: path.join(root, 'agent'), log: silentLogger, startMonitors: false, agentId: 'secure' });
  t.after(() => agent.close());
  const stranger = await Engine.open({ dataDir: path.join(root, 'stranger'), log: silentLogger, startMonitors: false, agentId: 'stranger' });
  t.after(() => stranger.close());

  await waitFor(() => desktop.store.events.count({ type: 'agent.online' }) === 1, 'agent.online over TLS', 20_000);
  await agent.emit('test:gen', { type: 'test.tick', title: 'over tls' });
  await stranger.emit('test:gen', { type: 'test.tick', title: 'from a stranger' });
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 1, 'the event over TLS', 20_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const ticks = desktop.store.events.list({ type: 'test.tick' }).events;
  assert.deepEqual(ticks.map((e) => [e.title, e.origin?.agentId]), [['over tls', 'secure']]);
});

test('panoptes agent --forward refuses an address that is not a broker, with the reason', async (t) => {
  const err = new PassThrough();
  let text = '';
  err.on('data', (d) => (text += d));
  const code = await agentCommand(['--forward', 'http://example.test'], { stdout: new PassThrough(), stderr: err, dataDir: tempDir(t) });
  assert.equal(code, 2);
  assert.match(text, /--forward: broker address must start with mqtt:\/\//);
  assert.doesNotMatch(text, /Panoptes agent: open/);
});
