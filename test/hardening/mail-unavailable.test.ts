// Issue #16 item 9 against the real agent process: Dovecot answering `[UNAVAILABLE] Temporary authentication failure`
// (its password backend is down) is a passing trouble, retried within seconds like a dropped connection — not a
// wrong password, which waits 5–60 minutes before asking again. The mail monitor runs inside `panoptes agent`, its
// password in secrets.json, and the health the UI shows is read over the agent's protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { startDovecot } from '../helpers/dovecot.js';
import type { MonitorInfo } from '../../core/protocol.js';

test('the agent treats Dovecot’s [UNAVAILABLE] as transient: retried within seconds, signed in once passwords can be checked again', async (t) => {
  const dovecot = await startDovecot({ erin: 'erinpw' });
  t.after(() => dovecot.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-mail-unavailable-'));
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ monitors: [{ id: 'mail:erin', type: 'mail', name: 'Erin’s mail', config: { host: '127.0.0.1', port: dovecot.port, security: 'plain', username: 'erin' } }], rules: [] }),
  );
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'mail:erin': { password: 'erinpw' } }), { mode: 0o600 });
  dovecot.breakAuth();
  let broken = true;
  const agent = await startAgent(dir);
  t.after(async () => {
    if (broken) dovecot.restoreAuth();
    await agent.stop();
  });
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const health = async () => (await client.call<MonitorInfo[]>('monitors.list')).find((m) => m.id === 'mail:erin')?.health;
  const waitFor = async (pred: (h: NonNullable<Awaited<ReturnType<typeof health>>>) => boolean, what: string, ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const h = await health();
      if (h && pred(h)) return h;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h)}\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const failing = await waitFor((h) => h.status === 'failing', 'the sign-in to fail', 30_000);
  assert.doesNotMatch(failing.message ?? '', /authentication failed for/i, 'not called a wrong password');
  assert.match(failing.message ?? '', /temporar/i, 'says the server could not check the password for now');
  const retryIn = Date.parse(failing.nextRetry!) - Date.now();
  assert.ok(retryIn < 60_000, `retried within seconds like a dropped connection, not after ${retryIn} ms`);

  dovecot.restoreAuth();
  broken = false;
  await waitFor((h) => h.status === 'ok', 'the monitor to sign in once the server could check passwords again', 90_000);
});
