import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { openStore } from '../../core/store/index.js';

const SECRET = 'nightly-backup-secret-0123';

/** curl as a cron job would call it; resolves with the HTTP status. */
const curl = (url: string) => new Promise<number>((resolve, reject) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url], (err, out) => (err ? reject(err) : resolve(Number(out)))));

test('the agent serves /hooks/heartbeat/<id> beside the webhooks: a missed beat is stored, a call brings it back', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      monitors: [
        { id: 'heartbeat:backup', type: 'heartbeat', name: 'Backup', config: { id: 'backup', every: '2s', grace: '0s' } },
        { id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } },
      ],
    }),
  );
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'heartbeat:backup': { secret: SECRET }, 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const beat = `${agent.origin}/hooks/heartbeat/backup?secret=${SECRET}`;
  await waitFor(async () => (await curl(beat)) === 200, 'heartbeat ready');
  assert.equal(await curl(`${agent.origin}/hooks/heartbeat/backup?secret=wrong-wrong-wrong-wrong`), 401);
  assert.equal(await curl(`${agent.origin}/hooks/heartbeat/other?secret=${SECRET}`), 401, 'an unknown heartbeat answers like a wrong secret');

  const store = openStore(dir);
  t.after(() => store.close());
  const missed = await waitFor(() => store.events.list({ type: 'heartbeat.missed' }).events[0] ?? null, 'a missed heartbeat', 15_000);
  assert.equal(missed.source, 'heartbeat:backup');
  assert.equal(await curl(beat), 200);
  await waitFor(() => store.events.list({ type: 'heartbeat.recovered' }).events[0] ?? null, 'recovered', 15_000);
});
