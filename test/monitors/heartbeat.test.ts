// Heartbeats: a job calls /hooks/heartbeat/<id> (curl, as a cron job would) on a server mounting the same route the
// agent mounts; the monitor runs under the real host and store. Missing a call is one heartbeat.missed, calling again
// one heartbeat.recovered, and a restart neither repeats nor forgets a miss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import heartbeat, { heartbeatRoute } from '../../monitors/heartbeat/index.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { setMaintenanceSources, type ScheduledMaintenance } from '../../core/maintenance.js';

const SECRET = 'backup-job-secret-0123456789';
let server: http.Server;
let origin = '';
before(async () => {
  const route = heartbeatRoute();
  server = http.createServer((req, res) => {
    void route(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((r) => server.close(r)));

/** curl the way a cron job would; resolves with the HTTP status. */
function curl(pathAndQuery: string, headers: string[] = []): Promise<number> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...headers.flatMap((h) => ['-H', h]), origin + pathAndQuery], (err, out) => (err ? reject(err) : resolve(Number(out)))),
  );
}

test('calls keep it up; a missed period is heartbeat.missed once; the next call is heartbeat.recovered', async () => {
  const run = await runMonitor(heartbeat, { id: 'backup', every: '1s', grace: '0s' }, { secrets: { secret: SECRET } });
  await run.waitForHealth((h) => h.status === 'ok', 5_000, 'waiting for the first call');
  assert.equal(await curl(`/hooks/heartbeat/backup?secret=${SECRET}`), 200);
  assert.equal(await curl('/hooks/heartbeat/backup', [`Authorization: Bearer ${SECRET}`]), 200);
  assert.equal(await curl('/hooks/heartbeat/backup', ['X-Panoptes-Secret: guess']), 401);
  assert.equal(await curl(`/hooks/heartbeat/nope?secret=${SECRET}`), 401, 'an unknown heartbeat answers like a wrong secret');
  const [missed] = await run.waitForEvents(1, 5_000);
  assert.equal(missed!.type, 'heartbeat.missed');
  assert.match(missed!.title!, /no heartbeat for \ds \(expected every 1s\)/);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(run.events.length, 1, 'missed once, not every period');

  await run.restart();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(run.events.length, 1, 'a restart does not announce the miss again');
  assert.equal(await curl(`/hooks/heartbeat/backup?secret=${SECRET}`), 200);
  const events = await run.waitForEvents(2, 5_000);
  assert.equal(events[1]!.type, 'heartbeat.recovered');
  await run.stop();
});

test('…/fail reports a failed run at once; a heartbeat without a secret does not start', async () => {
  const run = await runMonitor(heartbeat, { id: 'nightly', every: '1h' }, { secrets: { secret: SECRET } });
  await run.waitForHealth((h) => h.status === 'ok', 5_000, 'running');
  assert.equal(await curl(`/hooks/heartbeat/nightly/fail?secret=${SECRET}`), 200);
  const [failed] = await run.waitForEvents(1, 5_000);
  assert.equal(failed!.type, 'heartbeat.missed');
  assert.equal(failed!.fields!.failed, true);
  assert.equal(await curl(`/hooks/heartbeat/nightly?secret=${SECRET}`), 200);
  assert.equal((await run.waitForEvents(2, 5_000))[1]!.type, 'heartbeat.recovered');
  await run.stop();
  const bare = await runMonitor(heartbeat, { id: 'open' });
  await bare.waitForHealth((h) => h.status === 'failing', 5_000, 'refused without a secret');
  assert.match(bare.health().lastError!, /set a secret/);
  await bare.stop();
});

test('a miss inside its maintenance window is held (health says so), and announced once when the window closes without a call, also across a restart', async () => {
  const until = new Date(Date.now() + 3_000).toISOString();
  const config = { id: 'nas-backup', every: '1s', grace: '0s', maintenance: [{ from: new Date(Date.now() - 60_000).toISOString(), until }] };
  const run = await runMonitor(heartbeat, config, { secrets: { secret: SECRET } });
  await run.waitForHealth((h) => /held: in a maintenance window/.test(h.message ?? ''), 5_000, 'the miss held');
  assert.equal(run.events.length, 0, 'no heartbeat.missed inside the window');
  await run.restart();
  await run.waitForHealth((h) => /held: in a maintenance window/.test(h.message ?? ''), 5_000, 'still held after a restart');
  const [missed] = await run.waitForEvents(1, 10_000);
  assert.ok(Date.now() >= Date.parse(until), 'not before the window closed');
  assert.equal(missed!.type, 'heartbeat.missed');
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(run.events.length, 1, 'announced once');
  assert.equal(await curl(`/hooks/heartbeat/nas-backup?secret=${SECRET}`), 200);
  assert.equal((await run.waitForEvents(2, 5_000))[1]!.type, 'heartbeat.recovered');
  await run.stop();
});

test('a call inside the window ends a held miss quietly; a scheduled window for its tag holds it like its own', async () => {
  const scheduled: ScheduledMaintenance[] = [{ id: 'nas', name: 'NAS updates', tags: ['nas'], from: new Date(Date.now() - 60_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() }];
  const sources = { scheduled: () => scheduled, manual: () => false };
  setMaintenanceSources(sources);
  try {
    const run = await runMonitor(heartbeat, { id: 'nas-sync', every: '1s', grace: '0s', tags: ['nas'] }, { secrets: { secret: SECRET } });
    await run.waitForHealth((h) => /held: in maintenance window "NAS updates"/.test(h.message ?? ''), 5_000, 'the miss held by the tag\'s window');
    assert.equal(await curl(`/hooks/heartbeat/nas-sync?secret=${SECRET}`), 200);
    await run.waitForHealth((h) => h.status === 'ok', 5_000, 'up again');
    scheduled.length = 0;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(run.events.map((e) => e.type), [], 'nothing was announced, so nothing recovers');
    assert.equal(await curl(`/hooks/heartbeat/nas-sync/fail?secret=${SECRET}`), 200);
    const [failed] = await run.waitForEvents(1, 5_000);
    assert.ok(failed!.tags!.includes('nas') && failed!.tags!.includes('heartbeat'), 'its tags are on its events');
    await run.stop();
  } finally {
    setMaintenanceSources(null, sources);
  }
});
