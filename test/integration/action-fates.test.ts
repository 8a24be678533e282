// A finished action's fate (done, retry, dead letter) is written with the events' next commit while events keep
// coming, instead of in a transaction of its own per turn: under a stream of webhooks that was one commit more per
// 29 events, each writing the outbox's pages again (#22). When the stream stops, the last fates are on disk within
// moments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { spawn } from 'node:child_process';

const EVENTS = 400;
const IN_FLIGHT = 8;
/** Answers every POST with 204 and says so on stdout, one line each. */
const RECEIVER = `
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(204).end(); process.stdout.write('+\\n'); });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write('http://127.0.0.1:' + server.address().port + '/in\\n'));
`;

test('under a stream of events, finished webhook actions are recorded with the events’ commits; the last ones soon after the stream ends', async (t) => {
  // The receiver is a process of its own, as a real one is: its answers come at any moment, not only between the
  // engine's turns (in this process they always found the events' next commit already queued).
  const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => receiver.kill());
  let received = 0;
  const url = await new Promise<string>((resolve, reject) => {
    receiver.once('error', reject);
    let rest = '';
    receiver.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (line === '+') received++;
        else if (line.startsWith('http')) resolve(line);
      }
    });
  });

  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', {
    rules: [{ id: 'forward', name: 'forward', when: { type: 'build.done' }, then: [{ webhook: { url, body: '{"n": {{ fields.n }}}' } }] }],
  });

  // Transactions of their own besides the events' (the dispatcher's turns; the rules when behind): counted.
  const store = engine.store;
  const txDerived = store.txDerived;
  let own = 0;
  store.txDerived = (fn) => {
    own++;
    return txDerived(fn);
  };
  t.after(() => (store.txDerived = txDerived));

  // Emits in flight at all times, as a busy webhook sender keeps them (few enough that the lane never fills, so every
  // action starts straight from its commit).
  let next = 0;
  const sender = async () => {
    while (next < EVENTS) {
      await engine.emit('ci', { type: 'build.done', fields: { n: next++ } });
      // The next request of a sender comes a moment later, as over the network; not in the same turn of the loop.
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const ownDuringStream = own;
  await waitFor(() => received >= EVENTS, 'every action delivered', 20_000);

  const unfinished = () => store.db.prepare(`SELECT COUNT(*) FROM outbox WHERE status <> 'done'`).pluck().get() as number;
  const ended = Date.now();
  await waitFor(() => unfinished() === 0, 'every fate recorded after the stream', 5_000, 5);
  const after = Date.now() - ended;

  assert.equal(store.db.prepare(`SELECT COUNT(*) FROM outbox`).pluck().get(), EVENTS, 'one outbox row per event');
  // Before: 47 of their own for 400 events (the fates of the actions that finished between two commits).
  assert.ok(ownDuringStream <= EVENTS / 20, `${ownDuringStream} transactions of their own for ${EVENTS} events while they came`);
  assert.ok(after < 1_000, `the last fates were recorded ${after} ms after the last delivery`);
});
