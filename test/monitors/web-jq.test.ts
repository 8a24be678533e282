// jq filters on JSON endpoints (#19 "JSONPath or jq"): jq itself (WebAssembly, jq-web) in the filter worker, with the
// check's timeout and a memory cap as its budget; a bad program is a clear message, never a change or a crash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import web from '../../monitors/web/index.js';
import { parseFilter } from '../../monitors/web/filter-parse.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { createTestContext } from './web-test-context.js';

let server: TestServer;
let stock = [
  { name: 'Laptop', price: 999, inStock: false },
  { name: 'Mouse', price: 25, inStock: true },
];
before(async () => {
  server = await startTestServer();
  server.route('/api/products', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ updated: new Date().toISOString(), products: stock }));
  });
  server.route('/page', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<p>not JSON</p>');
  });
});
after(() => server.close());

const started = async (config: Record<string, unknown>, opts: Parameters<typeof createTestContext>[2] = {}) => {
  const t = createTestContext(web, config, opts);
  await t.instance.start();
  return t;
};

test('a jq program picks from a JSON endpoint; the noise it leaves out (a timestamp) is no change, what it keeps is', async () => {
  const program = '.products[] | select(.inStock) | "\\(.name): \\(.price)"';
  const t = await started({ url: server.url('/api/products'), filters: [`jq:${program}`] });
  await t.tick();
  await t.tick(); // the timestamp changed: not watched
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 0);
  stock = [...stock.slice(0, 1).map((p) => ({ ...p, inStock: true })), stock[1]!];
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 1);
  assert.deepEqual((t.events[0]!.fields as { diff: unknown }).diff, { added: ['Laptop: 999'], removed: [] });
  // Then the text steps work on jq's lines.
  const t2 = await started({ url: server.url('/api/products'), filters: ['jq:[.products[].price] | add', 'regex:(?<total>\\d+)'] }, { dryRun: true });
  await t2.tick();
  assert.deepEqual(t2.errors, []);
  assert.equal((t2.events[0]!.fields as { total?: string }).total, '1024');
});

test('bad jq: refused at the field when unbalanced; otherwise jq’s own message at the check; jq on HTML says so', async () => {
  assert.match(String(parseFilter('jq:.products[0')), /jq program ".products\[0" has an unclosed bracket/);
  assert.match(String(parseFilter('jq:"\\(.a"')), /unclosed/);
  assert.deepEqual(parseFilter('jq:"a(b" | .["x)"]'), { kind: 'jq', program: '"a(b" | .["x)"]' });
  const check = async (url: string, program: string) => {
    const t = await started({ url: server.url(url), filters: [`jq:${program}`], timeout: '10s' });
    await t.tick();
    assert.equal(t.events.length, 0);
    assert.equal(t.errors.length, 1);
    return t.errors[0]!;
  };
  assert.match(await check('/api/products', '.products | mapp(.name)'), /the jq program ".products \| mapp\(.name\)" is not valid: mapp\/1 is not defined/);
  assert.match(await check('/api/products', '.products[] | .name | .[]'), /the jq program .* failed: Cannot iterate over string/);
  assert.match(await check('/page', '.products'), /reads JSON, but this page is HTML/);
  assert.match(await check('/api/products', 'empty'), /produced nothing/);
});

test('a jq program that would run forever or fill memory is stopped by the budget, and the next check works', async () => {
  const loop = await started({ url: server.url('/api/products'), filters: ['jq:def f: f; f'], timeout: '3s' });
  const t0 = Date.now();
  await loop.tick();
  assert.equal(loop.errors.length, 1);
  assert.match(loop.errors[0]!, /took longer than 3 s/);
  assert.ok(Date.now() - t0 < 30_000, 'stopped near the timeout');
  const big = await started({ url: server.url('/api/products'), filters: ['jq:[range(1e9)] | length'], timeout: '60s' });
  await big.tick();
  assert.equal(big.errors.length, 1);
  assert.match(big.errors[0]!, /more than 256 MB|took longer than/, big.errors[0]);
  const fine = await started({ url: server.url('/api/products'), filters: ['jq:.products | length'] });
  await fine.tick();
  assert.deepEqual(fine.errors, []);
});
