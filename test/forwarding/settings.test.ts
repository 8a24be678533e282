// Forwarding set up "in settings": through the service protocol (an RpcClient over a channel, as the UI talks),
// against a real Mosquitto, with the engines running the whole time. What a user relies on: saving settings
// makes events flow without a restart, the status says connected / queued / who is online, bad input is refused
// with its place and changes nothing, and a password never shows up in config.json or in what the protocol says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { channelPair } from '../../core/rpc/channel.js';
import { RemoteError, RpcClient } from '../../core/rpc/client.js';
import type { ForwardingStatusInfo } from '../../core/protocol.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { logOf } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const PASSWORD = 'pr1vate-Pa55';

/** A Mosquitto that lets in only `fwd` with PASSWORD. */
async function protectedBroker(t: { after(fn: () => unknown): void }): Promise<Mosquitto> {
  const dir = tempDir(t, 'panoptes-mqpw-');
  const file = path.join(dir, 'passwd');
  execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', file, 'fwd', PASSWORD]);
  if (process.getuid?.() === 0) for (const p of [dir, file]) chownSync(p, 65534, 65534);
  const broker = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${file}`] });
  t.after(() => broker.close());
  return broker;
}

interface Side {
  engine: Engine;
  rpc: RpcClient;
  dir: string;
  /** The latest `forwarding` push. */
  pushed(): ForwardingStatusInfo | null;
}

async function open(t: { after(fn: () => unknown): void }, dir: string, agentId: string, extra: Partial<Parameters<typeof Engine.open>[0]> = {}): Promise<Side> {
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false, agentId, ...extra });
  const [a, b] = channelPair();
  engine.connect(a);
  const rpc = new RpcClient(b);
  let last: ForwardingStatusInfo | null = null;
  rpc.on('forwarding', (s) => (last = s));
  t.after(async () => {
    rpc.close();
    await engine.close();
  });
  return { engine, rpc, dir, pushed: () => last };
}

const ticks = (e: { type: string }) => e.type === 'test.tick';

test('forwarding set up over the protocol: events flow without a restart, and the password stays out of config and answers', { skip }, async (t) => {
  const broker = await protectedBroker(t);
  const root = tempDir(t);
  const desktop = await open(t, path.join(root, 'desktop'), 'desktop');
  const agent = await open(t, path.join(root, 'agent'), 'laptop');

  // Nothing configured: nothing runs, and the answer says so.
  const before = await agent.rpc.call('forwarding.get', {});
  assert.equal(before.settings.forward, null);
  assert.equal(before.status.forward, null);
  assert.equal(before.settings.embeddedBroker.enabled, false);
  await agent.engine.emit('test:gen', { type: 'test.tick', title: 'before forwarding was set up' });

  // The desktop takes a password typed into the URL; the agent gives it apart from the URL.
  const d = await desktop.rpc.call('forwarding.update', { subscribe: [{ url: `mqtt://fwd:${PASSWORD}@127.0.0.1:${broker.port}` }] });
  assert.deepEqual(d.settings.subscribe, [{ url: `mqtt://fwd@127.0.0.1:${broker.port}` }]);
  assert.deepEqual(d.secretsSet.subscribe, [true]);
  const a = await agent.rpc.call('forwarding.update', { forward: { url: `mqtt://fwd@127.0.0.1:${broker.port}`, password: PASSWORD, agentId: 'laptop' } });
  assert.equal(a.secretsSet.forward, true);
  assert.equal(a.commandLineForward, null);

  // The status arrives as a push: the agent is connected, the desktop sees it online.
  await waitFor(() => agent.pushed()?.forward?.connected, 'the agent to report itself connected', 15_000);
  await waitFor(() => desktop.pushed()?.receivers[0]?.connected, 'the desktop to report its broker connected', 15_000);
  const peer = await waitFor(() => desktop.pushed()?.peers.find((p) => p.agentId === 'laptop'), 'the laptop among the desktop peers', 15_000);
  assert.equal(peer.state, 'online');
  assert.ok(peer.hostname);
  assert.ok(Date.now() - Date.parse(peer.lastSeen) < 60_000, `last seen just now, got ${peer.lastSeen}`);

  for (let i = 0; i < 20; i++) await agent.engine.emit('test:gen', { type: 'test.tick', title: `tick ${i}`, fields: { i } });
  await waitFor(() => desktop.engine.store.events.count({ type: 'test.tick' }) === 20, '20 events at the desktop', 15_000);
  assert.deepEqual(
    logOf(desktop.engine.store, ticks).map((e) => e.title),
    Array.from({ length: 20 }, (_, i) => `tick ${i}`),
    'in order, and only what happened after forwarding was set up',
  );
  const settled = await waitFor(async () => {
    const s = (await agent.rpc.call('forwarding.get', {})).status;
    return s.forward?.queued === 0 ? s : null;
  }, 'the queue to drain', 15_000);
  assert.equal(settled.forward?.lastError, null);

  for (const side of [agent, desktop]) {
    const config = readFileSync(path.join(side.dir, 'config.json'), 'utf8');
    assert.doesNotMatch(config, new RegExp(PASSWORD), `no password in ${side.dir}/config.json`);
    assert.match(config, /"forwarding"/);
    assert.doesNotMatch(JSON.stringify(await side.rpc.call('forwarding.get', {})), new RegExp(PASSWORD), 'no password in forwarding.get');
    assert.doesNotMatch(JSON.stringify(side.pushed()), new RegExp(PASSWORD), 'no password in the push');
    assert.deepEqual(Object.values(side.engine.secrets.get('forwarding')), [PASSWORD]);
  }
  // The engine itself was not restarted: the event stored before the change is still there and it still answers.
  assert.equal(agent.engine.store.events.count({ type: 'test.tick' }), 21);
  assert.equal((await agent.rpc.call('hello', {})).agentId, 'laptop');
});

test('bad forwarding settings are refused with where and why, and what runs keeps running', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const root = tempDir(t);
  const agent = await open(t, path.join(root, 'agent'), 'laptop');
  await agent.rpc.call('forwarding.update', { forward: { url: broker.url, agentId: 'laptop' } });
  await waitFor(() => agent.pushed()?.forward?.connected, 'connected', 15_000);
  const configBefore = readFileSync(path.join(agent.dir, 'config.json'), 'utf8');

  const refused = async (update: Parameters<RpcClient['call']>[1], path: string, message: RegExp) => {
    const err = await agent.rpc.call('forwarding.update', update as never).then(
      () => assert.fail(`accepted ${JSON.stringify(update)}`),
      (e: unknown) => e as RemoteError,
    );
    assert.ok(err instanceof RemoteError);
    assert.equal(err.error.code, 'invalid');
    const issue = err.error.issues?.find((i) => i.path === path);
    assert.ok(issue, `an issue at ${path}, got ${JSON.stringify(err.error.issues)}`);
    assert.match(issue.message, message);
  };
  await refused({ forward: { url: 'http://example.org', agentId: 'laptop' } }, '$.forward.url', /mqtt:\/\//);
  await refused({ forward: { url: broker.url, agentId: 'my laptop!' } }, '$.forward.agentId', /letters, digits/);
  await refused({ forward: { url: broker.url, filter: { if: { field: 'title', matches: '(a)\\1' } } } }, '$.forward.filter.if.matches', /./);
  await refused({ forward: { url: broker.url, filter: { when: { type: 42 } } } }, '$.forward.filter.when.type', /./);
  await refused({ forward: { url: broker.url, password: 'x' } }, '$.forward.url', /user name/);
  await refused({ subscribe: [{ url: 'mqtt://' }] }, '$.subscribe[0].url', /./);
  await refused({ embeddedBroker: { enabled: true, port: 70_000 } }, '$.embeddedBroker.port', /./);
  // TLS files are checked when saved, not first at the next connection attempt.
  const caFile = path.join(root, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
  const tlsUrl = 'mqtts://127.0.0.1:8883';
  await refused({ forward: { url: tlsUrl, tls: { ca: path.join(root, 'missing.pem') } } }, '$.forward.tls.ca', /cannot read the CA file .*missing\.pem: ENOENT/);
  await refused({ forward: { url: tlsUrl, tls: { ca: 'ca.pem' } } }, '$.forward.tls.ca', /full path/);
  await refused({ forward: { url: tlsUrl, tls: { ca: root } } }, '$.forward.tls.ca', /not a file/);
  await refused({ subscribe: [{ url: tlsUrl, tls: { cert: caFile } }] }, '$.subscribe[0].tls.key', /certificate and its key go together/);
  await refused({ actionBroker: { url: broker.url, tls: { ca: caFile } } }, '$.actionBroker.tls', /mqtts:\/\//);

  assert.equal(readFileSync(path.join(agent.dir, 'config.json'), 'utf8'), configBefore, 'nothing written');
  assert.deepEqual(agent.engine.secrets.get('forwarding'), {});
  assert.equal((await agent.rpc.call('forwarding.get', {})).status.forward?.connected, true, 'forwarding still runs');

  // A good filter is taken, and filters at the source from then on.
  const ok = await agent.rpc.call('forwarding.update', { forward: { url: broker.url, agentId: 'laptop', filter: { when: { type: 'test.*' } } } });
  assert.deepEqual(ok.settings.forward?.filter, { when: { type: 'test.*' } });

  // Fields left empty in the form are dropped; what is left is saved as typed (trimmed).
  const withTls = await agent.rpc.call('forwarding.update', { actionBroker: { url: tlsUrl, tls: { ca: ` ${caFile} `, cert: '', key: '  ', rejectUnauthorized: true } } });
  assert.deepEqual(withTls.settings.actionBroker, { url: tlsUrl, tls: { ca: caFile } });
  const cleared = await agent.rpc.call('forwarding.update', { actionBroker: { url: tlsUrl, tls: { ca: '' } } });
  assert.deepEqual(cleared.settings.actionBroker, { url: tlsUrl });
});

test('the status tells connected and queued while the broker is away, and a machine that stops forwarding goes offline', { skip }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.close());
  const root = tempDir(t);
  const desktop = await open(t, path.join(root, 'desktop'), 'desktop');
  const agent = await open(t, path.join(root, 'agent'), 'laptop');
  await desktop.rpc.call('forwarding.update', { subscribe: [{ url: broker.url }] });
  await agent.rpc.call('forwarding.update', { forward: { url: broker.url, agentId: 'laptop' } });
  await waitFor(() => desktop.pushed()?.peers.some((p) => p.agentId === 'laptop' && p.state === 'online'), 'laptop online', 15_000);

  await broker.stop();
  await waitFor(() => agent.pushed()?.forward?.connected === false, 'the agent to report the broker lost', 15_000);
  for (let i = 0; i < 5; i++) await agent.engine.emit('test:gen', { type: 'test.tick', title: `while away ${i}` });
  const away = await waitFor(() => ((agent.pushed()?.forward?.queued ?? 0) >= 5 ? agent.pushed() : null), 'five queued', 15_000);
  assert.equal(away.forward?.connected, false);
  assert.ok(away.forward?.lastError, 'the reason it is not connected');

  await broker.start();
  await waitFor(() => agent.pushed()?.forward?.connected && agent.pushed()?.forward?.queued === 0, 'the queue to drain after the broker is back', 30_000);
  await waitFor(() => desktop.engine.store.events.count({ type: 'test.tick' }) === 5, 'the queued events at the desktop', 15_000);

  // Turning forwarding off on the agent (over the protocol) says goodbye: the desktop shows it offline.
  const off = await agent.rpc.call('forwarding.update', { forward: null });
  assert.equal(off.settings.forward, null);
  assert.equal(off.status.forward, null);
  // (Mosquitto sent the agent's last will when it shut down above; this one is the goodbye.)
  const gone = await waitFor(() => desktop.pushed()?.peers.find((p) => p.agentId === 'laptop' && p.state === 'offline' && p.reason === 'stopped'), 'laptop offline at the desktop', 15_000);
  assert.ok(Date.parse(gone.lastSeen) <= Date.now());
  await waitFor(() => desktop.engine.store.events.list({ type: 'agent.offline', limit: 1 }).events[0]?.fields.reason === 'stopped', 'an agent.offline event for rules', 15_000);
});

test('the embedded broker switched on over the protocol, with a password the agent logs in with', { skip }, async (t) => {
  const root = tempDir(t);
  const port = await freePort();
  const desktop = await open(t, path.join(root, 'desktop'), 'desktop');
  const agent = await open(t, path.join(root, 'agent'), 'pi');
  const d = await desktop.rpc.call('forwarding.update', { embeddedBroker: { enabled: true, port, host: '127.0.0.1', password: PASSWORD } });
  assert.deepEqual(d.settings.embeddedBroker, { enabled: true, port, host: '127.0.0.1' });
  assert.equal(d.secretsSet.embeddedBroker, true);
  assert.equal(d.embeddedBrokerUsername, 'panoptes');
  assert.deepEqual(d.status.embeddedBroker, { host: '127.0.0.1', port, running: true, error: null });

  // Strangers are refused; the desktop's own receiver got in.
  await assert.rejects(connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5_000 }));
  await waitFor(() => desktop.pushed()?.receivers[0]?.connected, 'the desktop listening on its own broker', 15_000);

  await agent.rpc.call('forwarding.update', { forward: { url: `mqtt://panoptes:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`, agentId: 'pi' } });
  await waitFor(() => agent.pushed()?.forward?.connected, 'the agent logged in to the embedded broker', 15_000);
  await agent.engine.emit('test:gen', { type: 'test.tick', title: 'through the embedded broker' });
  await waitFor(() => desktop.engine.store.events.count({ type: 'test.tick' }) === 1, 'the event at the desktop', 15_000);
  for (const side of [agent, desktop]) {
    assert.doesNotMatch(readFileSync(path.join(side.dir, 'config.json'), 'utf8'), new RegExp(PASSWORD));
    assert.doesNotMatch(JSON.stringify(await side.rpc.call('forwarding.get', {})), new RegExp(PASSWORD));
  }

  // Switched off: the port is closed again, the engine still runs.
  const off = await desktop.rpc.call('forwarding.update', { embeddedBroker: { enabled: false } });
  assert.equal(off.status.embeddedBroker, null);
  await assert.rejects(connectAsync(`mqtt://panoptes:${PASSWORD}@127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5_000 }));
});

test('the --forward target of this run is shown without its password, and saving it keeps the password', { skip }, async (t) => {
  const broker = await protectedBroker(t);
  const root = tempDir(t);
  const agent = await open(t, path.join(root, 'agent'), 'laptop', { forward: { url: `mqtt://fwd:${PASSWORD}@127.0.0.1:${broker.port}`, agentId: 'laptop' } });
  await waitFor(async () => (await agent.rpc.call('forwarding.get', {})).status.forward?.connected, 'connected from the command line', 15_000);
  const info = await agent.rpc.call('forwarding.get', {});
  assert.deepEqual(info.commandLineForward, { url: `mqtt://fwd@127.0.0.1:${broker.port}`, agentId: 'laptop' });
  assert.equal(info.settings.forward, null, 'the flag is for this run, not written into settings');
  assert.doesNotMatch(JSON.stringify(info), new RegExp(PASSWORD));

  const saved = await agent.rpc.call('forwarding.update', { forward: { url: info.commandLineForward!.url, agentId: 'laptop' } });
  assert.equal(saved.commandLineForward, null);
  assert.equal(saved.secretsSet.forward, true);
  await waitFor(async () => (await agent.rpc.call('forwarding.get', {})).status.forward?.connected, 'connected from the saved settings', 15_000);
  assert.doesNotMatch(readFileSync(path.join(agent.dir, 'config.json'), 'utf8'), new RegExp(PASSWORD));
});
