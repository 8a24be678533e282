/**
 * The machine's floor for the webhook job of `bench/peers.bench.ts`: a bare Node HTTP server that does only what the
 * job needs with Panoptes' durability and nothing else — parse the JSON body, append it to SQLite (WAL,
 * synchronous=FULL: on disk before the 200), test the title against the job's regex, and forward a match to the
 * receiver over a keep-alive connection. Appends are grouped per turn of the event loop in one transaction, as the
 * Panoptes store does, so both pay one fsync per group. No secret check, no rules, no outbox, no retries.
 *
 * Run as its own process: `node peer-floor.js PORT DATA_DIR RECEIVER_URL PATTERN FLAGS [ceiling]`. With `ceiling` it
 * stores nothing and forwards every event: the most this bench's sender and receiver can measure on the machine.
 */
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';

const [portArg, dir, receiverUrl, pattern, flags, mode] = process.argv.slice(2);
const ceiling = mode === 'ceiling';
const db = new Database(ceiling ? ':memory:' : path.join(dir!, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO events (received_at, body) VALUES (?, ?)');
const re = ceiling ? /(?:)/ : new RegExp(pattern!, flags);
const target = new URL(receiverUrl!);
const agent = new http.Agent({ keepAlive: true });

interface Pending {
  body: string;
  title: string;
  res: http.ServerResponse;
}
let batch: Pending[] = [];
const appendAll = db.transaction((items: Pending[]) => {
  const now = Date.now();
  for (const p of items) insert.run(now, p.body);
});

function flush(): void {
  const items = batch;
  batch = [];
  if (!ceiling) appendAll(items);
  for (const p of items) {
    p.res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (re.test(p.title)) forward(p.body);
  }
}

function forward(body: string): void {
  const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => res.resume());
  req.on('error', () => {}); // the floor does not retry: a lost delivery is the receiver's count to notice
  req.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let title = '';
    try {
      title = String((JSON.parse(body) as { title?: unknown }).title ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    batch.push({ body, title, res });
    if (batch.length === 1) setImmediate(flush);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg), '127.0.0.1');
const stop = () => {
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
