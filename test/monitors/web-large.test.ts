// Large and hostile pages for the web monitor: XPath over real-sized pages, a filter that would run for minutes,
// a 50 MB page and servers that hang. What must hold: a clear message for the check that failed, the last version
// kept (nothing lost), and every other monitor checking on meanwhile (the engine's thread is never held).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import web from '../../monitors/web/index.js';
import { applyFilters, parseFilters } from '../../monitors/web/filters.js';
import { createTestContext } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const handlers = new Map<string, Handler>();

before(async () => {
  server = await startTestServer();
  for (const p of ['/big', '/small', '/hostile']) server.route(p, (req, res) => handlers.get(p)!(req, res));
});
after(() => server.close());

const table = (rows: number) =>
  `<!DOCTYPE html>\n<html lang="en"><head><title>Stock</title></head><body><h1>Stock</h1><table id="stock">` +
  Array.from({ length: rows }, (_, i) => `<tr><td class="name">Item ${i}</td><td>${(i * 1.5).toFixed(2)}</td></tr>`).join('') +
  `</table></body></html>`;

function serve(path: string, body: string | (() => string)): void {
  handlers.set(path, (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(typeof body === 'string' ? body : body());
  });
}

test('XPath finds elements on a page that starts with a doctype, as real pages do', () => {
  const page = { body: table(3), contentType: 'text/html' };
  assert.deepEqual(applyFilters(page, parseFilters(["xpath://table[@id='stock']//td[2]"])).lines, ['0.00', '1.50', '3.00']);
  assert.deepEqual(applyFilters(page, parseFilters(['xpath://TD[@class="name"]/text()'])).lines, ['Item 0', 'Item 1', 'Item 2']);
  assert.deepEqual(applyFilters(page, parseFilters(['xpath:count(//tr)'])).lines, ['3']);
  assert.deepEqual(applyFilters(page, parseFilters(['xpath://html/@lang'])).lines, ['en']);
  // Elements found stay part of the page, so a following step works on them.
  assert.deepEqual(applyFilters(page, parseFilters(['xpath://tr[2]', 'remove:.name'])).lines, ['1.50']);
});

test('XPath over a page of 20,000 table rows picks every row', async () => {
  serve('/big', table(20_000));
  // The version kept holds the whole watched text (the baseline in state is capped).
  const kept: string[] = [];
  const versions = { add: (text: string) => (kept.push(text), { id: kept.length, created: true }) };
  const t = createTestContext(web, { url: server.url('/big'), filters: ['xpath://table[@id="stock"]//tr/td[2]'], timeout: '60s' }, { extra: { versions } });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);
  const lines = kept[0]!.split('\n');
  assert.equal(lines.length, 20_000);
  assert.equal(lines[19_999], (19_999 * 1.5).toFixed(2));
  await t.stop();
});

test('a filter that runs out of time fails its check with a clear message, and other monitors check on meanwhile', async () => {
  // preceding:: from every cell is quadratic: minutes on 40,000 cells, whatever the XPath engine.
  let sent!: () => void;
  const bigSent = new Promise<void>((r) => (sent = r));
  handlers.set('/big', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html' });
    r.end(table(20_000), () => sent());
  });
  serve('/small', '<p>Small page, version 1</p>');
  const big = createTestContext(web, { url: server.url('/big'), filters: ['xpath://td[count(preceding::td) >= 0]'], timeout: '5s' });
  const small = createTestContext(web, { url: server.url('/small') });
  await big.instance.start();
  await small.instance.start();
  await small.tick();

  const order: string[] = [];
  const bigCheck = big.tick().then(() => order.push('big'));
  await bigSent;
  serve('/small', '<p>Small page, version 2</p>');
  await small.tick();
  order.push('small');
  await bigCheck;
  assert.deepEqual(order, ['small', 'big'], 'the small page was checked while the big one was being filtered');
  assert.equal(small.events.length, 1, 'the small page’s change came through');
  assert.equal(big.errors.length, 1);
  assert.match(big.errors[0]!, /filtering the page took longer than 5 s/);
  assert.equal(big.events.length, 0);
  await big.stop();
  await small.stop();
});

test('a 50 MB page is refused at the 5 MiB cap with a clear message; the last version is kept and the next check compares with it', async () => {
  serve('/hostile', '<ul><li>Stable</li></ul>');
  const t = createTestContext(web, { url: server.url('/hostile'), timeout: '20s' });
  const other = createTestContext(web, { url: server.url('/small') });
  serve('/small', '<p>Other page</p>');
  await t.instance.start();
  await other.instance.start();
  await t.tick();
  await other.tick();

  const chunk = Buffer.alloc(1024 * 1024, '<p>aaaaaaaa</p>');
  const hostile: Array<[string, Handler, RegExp]> = [
    ['50 MB, declared', (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html', 'content-length': String(50 * chunk.length) });
      let i = 0;
      const more = () => { while (i < 50 && !r.destroyed) { i++; if (!r.write(chunk)) return void r.once('drain', more); } r.end(); };
      more();
    }, /larger than the 5 MiB a page may have \(it says 50 MiB\)/],
    ['50 MB, streamed', (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html' });
      let i = 0;
      const more = () => { while (i < 50 && !r.destroyed) { i++; if (!r.write(chunk)) return void r.once('drain', more); } r.end(); };
      r.on('close', () => (i = 50));
      more();
    }, /larger than the 5 MiB a page may have/],
    ['headers, then nothing', (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html' });
      r.write('<p>start');
    }, /did not answer in time|timed out/],
  ];
  for (const [name, h, expected] of hostile) {
    handlers.set('/hostile', h);
    const before = t.errors.length;
    const tHost = createTestContext(web, { url: server.url('/hostile'), timeout: '3s' }, { state: t.state });
    await tHost.instance.start();
    await tHost.tick();
    await tHost.stop();
    assert.equal(tHost.errors.length, 1, `${name}: one failed check`);
    assert.match(tHost.errors[0]!, expected, `${name}: ${tHost.errors[0]}`);
    assert.match(tHost.errors[0]!, /the last version is kept/, `${name}: says the last version stands`);
    assert.equal(tHost.events.length, 0, `${name}: not a change`);
    assert.equal(t.errors.length, before);
    await other.tick();
    assert.deepEqual(other.errors, [], `${name}: the other monitor checks on`);
  }
  serve('/hostile', '<ul><li>Stable</li><li>New</li></ul>');
  await t.tick();
  assert.equal(t.events.length, 1, 'the change after the failures is measured against the version before them');
  assert.deepEqual(t.events[0]!.fields!.diff, { added: ['New'], removed: [] });
  await t.stop();
  await other.stop();
});
