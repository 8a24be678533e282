// Forwarding over TLS with a private CA and client certificates (Mosquitto `require_certificate`), and the
// `panoptes agent --forward` flag's checks. Certificates are made by the openssl CLI for this run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { run as agentCommand } from '../../cli/commands/agent.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { writeConfig } from './helpers.js';

const skip = !mosquittoAvailable() ? 'skipped: no /usr/sbin/mosquitto' : !existsSync('/usr/bin/openssl') ? 'skipped: no openssl' : false;

function makePki(dir: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Panoptes test CA');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'panoptes-agent'}`);
    const ext = f(`${who}.ext`);
    execFileSync('/bin/sh', ['-c', `printf '%s\\n' "${who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost' : 'extendedKeyUsage=clientAuth'}" > "${ext}"`]);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', ext);
  }
  if (process.getuid?.() === 0) for (const n of readdirSync(dir)) chownSync(f(n), 65534, 65534);
  if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

test('forwarding over TLS with a private CA and a client certificate', { skip }, async (t) => {
  const pkiDir = tempDir(t, 'panoptes-pki-');
  const pki = makePki(pkiDir);
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
