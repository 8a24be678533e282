// The web monitor's filter chain and number conditions, on pages served by a local HTTP server: a static shop page,
// a JSON endpoint, and a noisy page (timestamps, ads, a rotating order) whose noise the filters remove.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import web, { webConfigSchema } from '../../monitors/web/index.js';
import { applyFilters, parseFilter, parseFilters, FilterError } from '../../monitors/web/filters.js';
import { parseNumber, conditionsMet } from '../../monitors/web/numbers.js';
import { startAndTick } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end('');
let server: TestServer;
let base = '';

before(async () => {
  server = await startTestServer();
  server.route('/', (req, res) => handler(req, res));
  base = server.origin;
});
after(() => server.close());

function serve(body: string, type = 'text/html; charset=utf-8'): void {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };
}

const html = (body: string) => ({ body, contentType: 'text/html' });
const shop = `<html><body><h1>Shop</h1>
  <table id="stock"><tr><th>Item</th><th>Price</th></tr><tr><td>Apples</td><td class="p">€ 1,20</td></tr><tr><td>Pears</td><td class="p">€ 2,50</td></tr></table>
  <div class="ad">Buy now!</div><p>Updated 12:04:55</p><img src="x.png" alt="Logo"></body></html>`;

test('each filter kind on its own: css, xpath (elements, text, attributes, values), remove, regex with named groups, ignore, sort', () => {
  assert.deepEqual(applyFilters(html(shop), parseFilters(['css:#stock'])).lines, ['Item | Price', 'Apples | € 1,20', 'Pears | € 2,50'], 'a table row reads as one line');
  assert.deepEqual(applyFilters(html(shop), parseFilters(['#stock td.p'])).lines, ['€ 1,20', '€ 2,50'], 'a bare line is a CSS selector');
  assert.deepEqual(applyFilters(html(shop), parseFilters(["xpath://table[@id='stock']//tr[2]/td[1]"])).lines, ['Apples']);
  assert.deepEqual(applyFilters(html(shop), parseFilters(['//td[@class="p"]/text()'])).lines, ['€ 1,20', '€ 2,50'], 'a line starting with / is XPath');
  assert.deepEqual(applyFilters(html(shop), parseFilters(['xpath://img/@alt'])).lines, ['Logo']);
  assert.deepEqual(applyFilters(html(shop), parseFilters(['xpath:count(//tr)'])).lines, ['3']);
  assert.deepEqual(applyFilters(html('<P>Upper</P>'), parseFilters(['xpath://p'])).lines, ['Upper'], 'HTML names match whatever their case');
  const noAds = applyFilters(html(shop), parseFilters(['remove:.ad, p'])).lines;
  assert.ok(!noAds.includes('Buy now!') && !noAds.some((l) => l.startsWith('Updated')), noAds.join('|'));
  assert.ok(noAds.includes('Logo'), 'image alt text is read where the image stands');
  const r = applyFilters(html(shop), parseFilters(['css:#stock', 'regex:(?<item>[A-Z][a-z]+) \\| € (?<price>[\\d,]+)']));
  assert.deepEqual(r.lines, ['Apples | € 1,20', 'Pears | € 2,50']);
  assert.deepEqual(r.fields, { item: 'Apples', price: '1,20' }, 'first match of each named group');
  assert.deepEqual(applyFilters(html(shop), parseFilters(['css:#stock', 'ignore:^Item'])).lines, ['Apples | € 1,20', 'Pears | € 2,50']);
  assert.deepEqual(applyFilters(html('<ul><li>b</li><li>c</li><li>a</li></ul>'), parseFilters(['sort'])).lines, ['a', 'b', 'c']);
  assert.deepEqual(applyFilters(html(shop), parseFilters(['xpath://table', 'css:td.p'])).lines, ['€ 1,20', '€ 2,50'], 'XPath elements stay a document for the next step');
});

test('JSON endpoints: JSONPath picks values, filter expressions run without eval, objects read one key per line', () => {
  const json = { body: JSON.stringify({ items: [{ name: 'a', price: 10, stock: 0 }, { name: 'b', price: 42.5, stock: 3 }], updated: 'now' }), contentType: 'application/json' };
  assert.deepEqual(applyFilters(json, parseFilters(['json:$.items[*].price'])).lines, ['10', '42.5']);
  assert.deepEqual(applyFilters(json, parseFilters(['$.items[?(@.stock > 0)].name'])).lines, ['b']);
  assert.deepEqual(applyFilters(json, parseFilters(['json:$.items[0]'])).lines, ['{', '"name": "a",', '"price": 10,', '"stock": 0', '}'].map((l, i) => (i === 0 || i === 4 ? l : '  ' + l)));
  assert.throws(() => applyFilters(json, parseFilters(['json:$.nothing'])), /matched nothing/);
  assert.throws(() => applyFilters(json, parseFilters(['$[?(@.constructor.constructor("return process")())]'])), FilterError, 'no code runs');
});

test('bad filters are refused with a message naming the problem, at the field and when applied', () => {
  const bad = (line: string) => {
    const r = parseFilter(line);
    assert.equal(typeof r, 'string', `${line} should be refused`);
    return r as string;
  };
  assert.match(bad('css:div[[['), /CSS selector "div\[\[\[" is not valid/);
  assert.match(bad('xpath://div[@id='), /XPath "\/\/div\[@id=" is not valid/);
  assert.match(bad('json:items[0'), /must start with \$/);
  assert.match(bad('json:$.items[0'), /unclosed bracket/);
  assert.match(bad('regex:(a'), /unterminated group/);
  assert.match(bad('ignore:(?=x)'), /lookahead/);
  assert.match(bad('regex:'), /needs something after the colon/);
  const issues = webConfigSchema.safeParse({ url: 'http://x.test/', filters: ['#ok', 'xpath://['] });
  assert.ok(!issues.success);
  assert.deepEqual(issues.error.issues.map((i) => i.path.join('.')), ['filters.1']);

  assert.throws(() => applyFilters(html(shop), parseFilters(['json:$.items'])), /reads JSON, but this page is HTML/);
  assert.throws(() => applyFilters({ body: '{"a":1}', contentType: 'application/json' }, parseFilters(['css:#a'])), /reads HTML, but this answer is JSON/);
  assert.throws(() => applyFilters(html(shop), parseFilters(['sort', 'css:#stock'])), /must come before the text steps/);
  assert.throws(() => applyFilters(html(shop), parseFilters(['css:#missing'])), /matched nothing on the page/);
  assert.throws(() => applyFilters(html(shop), parseFilters(['xpath://section'])), /matched nothing on the page/);
  assert.throws(() => applyFilters({ body: '{"a":', contentType: 'application/json' }, []), /not valid JSON/);
});

test('numbers are read as people write them, and conditions say which held', () => {
  for (const [text, n] of [['€ 1,20', 1.2], ['$1,299.00', 1299], ['1.299,00 €', 1299], ['Price: 40', 40], ['1 299 kr', 1299], ["CHF 1'299.50", 1299.5], ['-3 °C', -3], ['0,5 l', 0.5], ['no number', null], ['1.000.000', 1000000]] as const) {
    assert.equal(parseNumber(text), n, text);
  }
  assert.deepEqual(conditionsMet(39, 45, { below: 40 }), ['below 40']);
  assert.deepEqual(conditionsMet(41, 45, { below: 40 }), []);
  assert.deepEqual(conditionsMet(110, 100, { changedByPercent: 5 }), ['changed by +10 %']);
  assert.deepEqual(conditionsMet(103, 100, { changedByPercent: 5 }), []);
  assert.deepEqual(conditionsMet(null, 100, { below: 40 }), []);
});

test('a noisy page: timestamps, ads and rotating order are filtered out, a real change still comes through with its fields', async () => {
  let n = 0;
  const noisy = (items: string[]) =>
    `<html><body><div class="ad">Ad #${n}</div><p class="clock">Generated ${new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString()}</p>` +
    `<ul id="list">${[...items].sort(() => (n % 2 ? 1 : -1)).map((i) => `<li>${i}</li>`).join('')}</ul><p>Visitors: ${1000 + n}</p></body></html>`;
  handler = (_req, res) => {
    n++;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(noisy(current));
  };
  let current = ['Release 1.0', 'Release 1.1'];
  const t = await startAndTick(web, { url: base, filters: ['remove:.ad, .clock', 'ignore:^Visitors', 'sort'] });
  for (let i = 0; i < 3; i++) await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 0, 'noise alone is no change');
  current = ['Release 1.0', 'Release 1.1', 'Release 2.0'];
  await t.tick();
  assert.equal(t.events.length, 1);
  assert.deepEqual(t.events[0]!.fields!.diff, { added: ['Release 2.0'], removed: [] });
  await t.stop();
});

test('spacing-only and number-only changes are ignored when asked; price conditions decide what is reported', async () => {
  serve('<p>Hello   world</p><p>Build 1234</p>');
  const t = await startAndTick(web, { url: base, ignoreNumbers: true });
  serve('<p>Hello world</p>\n\n<p>Build 1235</p>');
  await t.tick();
  assert.equal(t.events.length, 0);
  serve('<p>Hello there</p><p>Build 1236</p>');
  await t.tick();
  assert.equal(t.events.length, 1);
  await t.stop();

  serve(JSON.stringify({ product: { price: 45 } }), 'application/json');
  const p = await startAndTick(web, { url: base, filters: ['json:$.product.price'], notifyBelow: 40 });
  serve(JSON.stringify({ product: { price: 42 } }), 'application/json');
  await p.tick();
  assert.equal(p.events.length, 0, '42 is not below 40');
  serve(JSON.stringify({ product: { price: 39.9 } }), 'application/json');
  await p.tick();
  assert.equal(p.events.length, 1);
  const f = p.events[0]!.fields!;
  assert.equal(f.number, 39.9);
  assert.equal(f.previousNumber, 42, 'the silent change became the baseline');
  assert.deepEqual(f.conditions, ['below 40']);
  await p.stop();

  serve('<span class="price">$100.00</span>');
  const q = await startAndTick(web, { url: base, filters: ['css:.price', 'regex:(?<amount>[\\d.]+)'], notifyChangePercent: 5 });
  serve('<span class="price">$103.00</span>');
  await q.tick();
  assert.equal(q.events.length, 0);
  serve('<span class="price">$90.00</span>');
  await q.tick();
  assert.equal(q.events.length, 1);
  assert.equal(q.events[0]!.fields!.amount, '90.00', 'named group as a field');
  assert.deepEqual(q.events[0]!.fields!.extracted, { amount: '90.00' });
  assert.ok(Math.abs((q.events[0]!.fields!.changePercent as number) + 12.62) < 0.01);
  await q.stop();
});

test('JSONPath on an HTML page and a CSS selector on a JSON answer fail the check with a clear message, not a change', async () => {
  serve('<p>a page</p>');
  const t = await startAndTick(web, { url: base, filters: ['json:$.price'] });
  assert.equal(t.events.length, 0);
  assert.match(t.errors[0] ?? '', /reads JSON, but this page is HTML/);
  await t.stop();
});
