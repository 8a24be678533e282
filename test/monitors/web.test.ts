import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import web from '../../monitors/web/index.js';
import { diffLines } from '../../monitors/web/diff.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext, startAndTick } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end('');
let server: TestServer;
let base = '';

before(async () => {
  server = await startTestServer();
  for (const p of ['/', '/shop', '/x']) server.route(p, (req, res) => handler(req, res));
  base = server.origin;
});
after(() => server.close());

const page = (items: string[], extra = '') =>
  `<!doctype html><html><head><title>Shop</title><script>var x = ${Math.random()}</script></head><body>
   <nav>Home | About</nav><div id="prices"><ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul></div><footer>${extra}</footer></body></html>`;

function serve(html: string, type = 'text/html; charset=utf-8'): void {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    res.end(html);
  };
}

test('first check is the baseline; a change of the selected text emits the added and removed lines', async () => {
  serve(page(['Apples 1.00', 'Pears 2.00']));
  const t = await startAndTick(web, { url: `${base}/shop`, selector: '#prices' });
  assert.equal(t.events.length, 0, 'first run records and emits nothing');
  assert.deepEqual(t.errors, []);

  await t.tick();
  assert.equal(t.events.length, 0, 'unchanged page (even with a new script) emits nothing');

  serve(page(['Apples 1.20', 'Pears 2.00']));
  await t.tick();
  assert.equal(t.events.length, 1);
  const e = t.events[0]!;
  assert.equal(e.type, 'web.changed');
  assert.deepEqual(e.fields!.diff, { added: ['Apples 1.20'], removed: ['Apples 1.00'] });
  assert.equal(e.fields!.before, 'Apples 1.00\nPears 2.00');
  assert.equal(e.fields!.after, 'Apples 1.20\nPears 2.00');
  assert.match(e.title!, /Apples 1\.20/);
  await t.stop();
});

test('changes outside the selector or matched by an ignore pattern do not count', async () => {
  serve(page(['Item A'], 'Visitors: 100 — updated 3 minutes ago'));
  const t = await startAndTick(web, { url: base, ignore: ['Visitors: \\d+', 'updated \\d+ minutes? ago'] });
  serve(page(['Item A'], 'Visitors: 101 — updated 4 minutes ago'));
  await t.tick();
  assert.equal(t.events.length, 0);
  serve(page(['Item A', 'Item B'], 'Visitors: 102 — updated 1 minute ago'));
  await t.tick();
  assert.equal(t.events.length, 1);
  assert.deepEqual(t.events[0]!.fields!.diff, { added: ['Item B'], removed: [] });
  await t.stop();

  serve(page(['X'], 'footer 1'));
  const s = await startAndTick(web, { url: base, selector: '#prices' });
  serve(page(['X'], 'footer 2'));
  await s.tick();
  assert.equal(s.events.length, 0, 'footer is outside #prices');
  await s.stop();
});

test('dry run (monitor test) emits what the page holds now; an unreachable page is a one-line reason', async () => {
  serve(page(['One', 'Two']));
  const events = await dryRunMonitor(web, { url: base, selector: 'ul' });
  assert.equal(events.length, 1);
  assert.equal(events[0]!.source, 'web:dry-run');
  assert.deepEqual(events[0]!.fields.diff, { added: ['One', 'Two'], removed: [] });

  handler = (_q, r) => { r.writeHead(503); r.end(); };
  await assert.rejects(dryRunMonitor(web, { url: base }), /HTTP 503/);
  await assert.rejects(dryRunMonitor(web, { url: 'not a url' }), (e: Error) => e.name === 'ConfigInvalidError' && /url/.test(e.message));
});

test('page encoded in windows-1252 (charset from the header) is read as text', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' });
    res.end(Buffer.concat([Buffer.from('<p>Caf'), Buffer.from([0xe9]), Buffer.from(' cr'), Buffer.from([0xe8]), Buffer.from('me</p>')]));
  };
  const [e] = await dryRunMonitor(web, { url: base });
  assert.deepEqual((e!.fields.diff as { added: string[] }).added, ['Café crème']);
});

test('failures are reported as errors, never as changes, and the monitor recovers with its baseline intact', async () => {
  serve(page(['Stable']));
  // Long enough for a loaded machine to send 6 MB of headers-then-body; the "never answers" case waits it out.
  const t = createTestContext(web, { url: `${base}/x`, selector: '#prices', timeout: '3s' });
  await t.instance.start();
  await t.tick();

  const failures: Array<[string, Handler, RegExp]> = [
    ['404', (_q, r) => { r.writeHead(404); r.end('not here'); }, /HTTP 404/],
    ['500', (_q, r) => { r.writeHead(500); r.end('oops'); }, /HTTP 500 \(server error\)/],
    ['timeout', () => { /* never answers */ }, /timed out|did not answer/],
    ['connection reset', (q) => q.socket.destroy(), /was reset|closed the connection/],
    ['garbage body', (_q, r) => { r.writeHead(200, { 'content-type': 'application/octet-stream' }); r.end(Buffer.from([0, 1, 2, 3, 255])); }, /not a web page/],
    ['binary labelled as html', (_q, r) => { r.writeHead(200, { 'content-type': 'text/html' }); r.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13])); }, /binary data/],
    ['huge body', (_q, r) => { r.writeHead(200, { 'content-type': 'text/html' }); r.end(Buffer.alloc(6 * 1024 * 1024, 'a')); }, /larger than the 5 MiB a page may have/],
    ['slow drip', (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html' });
      const iv = setInterval(() => (r.writableEnded || r.destroyed ? clearInterval(iv) : r.write('<p>a</p>')), 50);
      r.on('close', () => clearInterval(iv));
    }, /timed out|did not answer/],
    ['selector gone', (_q, r) => { r.writeHead(200, { 'content-type': 'text/html' }); r.end('<p>maintenance</p>'); }, /matched nothing/],
  ];
  for (const [name, h, expected] of failures) {
    handler = h;
    const before = t.errors.length;
    await t.tick();
    assert.equal(t.errors.length, before + 1, `${name}: reported as an error`);
    assert.match(t.errors.at(-1)!, expected, `${name}: ${t.errors.at(-1)}`);
    assert.equal(t.events.length, 0, `${name}: not a change`);
  }
  serve(page(['Stable']));
  await t.tick();
  assert.equal(t.events.length, 0, 'recovery to the same page is not a change');
  assert.equal(t.healthLog.at(-1), 'ok');
  serve(page(['Stable', 'New']));
  await t.tick();
  assert.equal(t.events.length, 1);
  await t.stop();
});

test('bad config is rejected with the path of the field', () => {
  const bad = web.configSchema.safeParse({ url: 'ftp://x', ignore: ['(?=a)b', '['] });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.'));
  assert.ok(paths.includes('url'));
  assert.ok(paths.includes('ignore.0'), 'a pattern the linear-time engine cannot run is rejected');
  assert.ok(paths.includes('ignore.1'), 'invalid pattern rejected');
});

test('line diff keeps page order and handles large pages', () => {
  assert.deepEqual(diffLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e']), { added: ['x', 'e'], removed: ['b'] });
  const big = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
  const changed = big.map((l, i) => (i % 1000 === 500 ? l + ' edited' : l));
  const d = diffLines(big, changed);
  assert.equal(d.added.length, 5);
  assert.equal(d.removed.length, 5);
});
