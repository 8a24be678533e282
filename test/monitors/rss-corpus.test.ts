/**
 * The feed corpus (../shared/corpus/feeds), served over real HTTP from 127.0.0.1 and read through the monitor's own
 * fetch + parse path. Measures what issue 4 asks: wellformed feeds yield correct titles and links (≥ 97 %),
 * encodings decode right, rss-parser's real-world captures match, a non-feed is rejected clearly, and nothing in the
 * whole corpus crashes or hangs.
 *
 * The feedparser test files state their expectation in a header comment as a Python expression, e.g.
 *   Expect: not bozo and entries[0]['title'] == 'Example <b>Atom</b>'
 * and the HTTP headers the server must send as `Header: Name: value` lines. Titles are compared as the plain text
 * a user sees (feedparser keeps HTML in titles; we show text).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { fetchFeed, type FetchedFeed } from '../../monitors/rss/index.js';
import { oneLine } from '../../monitors/rss/text.js';
import { htmlToText } from '../../monitors/rss/html-text.js';

const root = process.env.PANOPTES_ROOT ?? process.cwd();
const corpus = process.env.PANOPTES_FEED_CORPUS ?? path.resolve(root, '..', 'shared', 'corpus', 'feeds');
const haveCorpus = existsSync(path.join(corpus, 'feedparser', 'tests', 'wellformed'));
const skip = haveCorpus ? false : `feed corpus not found at ${corpus}`;

let server: TestServer;

before(async () => {
  if (!haveCorpus) return;
  server = await startTestServer({ root: corpus, fileHeaders: (_file, body) => headersFromComment(body) });
});
after(async () => {
  await server?.close();
});

// ---------------------------------------------------------------- reading the test files' own expectations

/** The first ~2 KB as ASCII-ish text whatever the encoding (UTF-16/32 files have NULs between letters). */
function head(body: Buffer): string {
  return Buffer.from(body.subarray(0, 4000).filter((b) => b !== 0)).toString('latin1');
}

function headersFromComment(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of head(body).matchAll(/^Header:\s*([A-Za-z-]+):[ \t]*(.*)$/gm)) out[m[1]!.toLowerCase()] = m[2]!.trim();
  return out;
}

function expectLine(body: Buffer): string {
  return /^Expect:\s*(.*)$/m.exec(head(body))?.[1]?.trim() ?? '';
}

/** Python string literals, possibly concatenated with +: 'a' + "b" + u'c'. */
function pyString(src: string): string | null {
  let out = '';
  let i = 0;
  while (i < src.length) {
    while (/[\s+]/.test(src[i] ?? '')) i++;
    if (i >= src.length) break;
    if ('ubr'.includes(src[i]!)) i++;
    let q = src[i];
    if (q !== '"' && q !== "'") return null;
    const triple = src.startsWith(q!.repeat(3), i);
    if (triple) q = q!.repeat(3);
    i += q!.length;
    while (i < src.length && !src.startsWith(q!, i)) {
      if (src[i] === '\\') {
        const c = src[i + 1]!;
        i += 2;
        if (c === 'n') out += '\n';
        else if (c === 't') out += '\t';
        else if (c === 'r') out += '\r';
        else if (c === 'u') (out += String.fromCharCode(parseInt(src.slice(i, i + 4), 16))), (i += 4);
        else if (c === 'U') (out += String.fromCodePoint(parseInt(src.slice(i, i + 8), 16))), (i += 8);
        else if (c === 'x') (out += String.fromCharCode(parseInt(src.slice(i, i + 2), 16))), (i += 2);
        else out += c;
      } else out += src[i++];
    }
    i += q!.length;
  }
  return out;
}

interface TitleLinkExpectation {
  index: number;
  field: 'title' | 'link';
  value: string;
}

/** `entries[i]['title'|'link'|'title_detail']['value'] == … == 'literal'` clauses. */
function titleLinkExpectations(expect: string): TitleLinkExpectation[] {
  const m = /^(?:not bozo and )?((?:entries\[\d+\]\['(?:title|link|title_detail)'\](?:\['value'\])?\s*==\s*)+)(.+)$/.exec(expect);
  if (!m) return [];
  const value = pyString(m[2]!);
  if (value === null) return [];
  return [...m[1]!.matchAll(/entries\[(\d+)\]\['(title|link|title_detail)'\]/g)].map((r) => ({
    index: Number(r[1]),
    field: r[2] === 'link' ? 'link' : 'title',
    value,
  }));
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : [p];
    })
    .sort();
}

function urlOf(file: string): string {
  return server.url(path.relative(corpus, file).split(path.sep).map(encodeURIComponent).join('/'));
}

/** No synchronous hang can be caught here, but a stuck promise can: each fetch+parse gets 10 s. */
async function load(file: string): Promise<FetchedFeed> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fetchFeed(urlOf(file)),
      new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`HANG: ${file}`)), 10_000))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const plain = (s: string) => oneLine(htmlToText(s));

/** Equal, where each U+FFFD on the expected side stands for any one character. */
function sameText(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (!want.includes('\ufffd')) return have === want;
  const pattern = want.split('\ufffd').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.');
  return new RegExp(`^${pattern}$`, 'su').test(have);
}

// ---------------------------------------------------------------- the measurements

test('wellformed: files that are feeds yield their items with correct titles and links (≥ 97 %)', { skip }, async () => {
  const files = walk(path.join(corpus, 'feedparser', 'tests', 'wellformed'));
  let feeds = 0;
  let good = 0;
  let asserted = 0;
  const failures: string[] = [];
  for (const file of files) {
    const body = readFileSync(file);
    const text = body.toString('latin1');
    // A feed file is one with items: the count of item/entry start tags is what the parser must find.
    const expectedCount = (text.match(/<(?:[a-z]+:)?(?:item|entry)[\s>/]/g) ?? []).length;
    if (!expectedCount) continue;
    feeds++;
    const rel = path.relative(corpus, file);
    let got: FetchedFeed;
    try {
      got = await load(file);
    } catch (err) {
      failures.push(`${rel}: ${(err as Error).message}`);
      continue;
    }
    assert.equal(got.notModified, false);
    if (got.notModified) continue;
    const entries = got.feed.entries;
    const problems: string[] = [];
    if (entries.length !== expectedCount) problems.push(`${entries.length} items, expected ${expectedCount}`);
    const exps = titleLinkExpectations(expectLine(body));
    if (exps.length) asserted++;
    for (const e of exps) {
      const have = entries[e.index]?.[e.field] ?? null;
      // feedparser's value is HTML for html titles and text for text titles; either reading counts as right.
      const ok = e.field === 'link' ? have === e.value : have === plain(e.value) || have === oneLine(e.value);
      if (!ok) problems.push(`${e.field} ${JSON.stringify(have)} != ${JSON.stringify(e.value)}`);
    }
    if (problems.length) failures.push(`${rel}: ${problems.join('; ')}`);
    else good++;
  }
  const rate = (100 * good) / feeds;
  console.log(`wellformed feeds: ${good}/${feeds} correct = ${rate.toFixed(2)} % (${asserted} with explicit title/link expectations)`);
  if (failures.length) console.log('  not right:\n  ' + failures.join('\n  '));
  assert.ok(feeds > 1000, `expected over a thousand feed files, found ${feeds}`);
  assert.ok(rate >= 97, `only ${rate.toFixed(2)} % of wellformed feeds parsed right`);
});

/** WHATWG names for what feedparser calls an encoding; us-ascii content reads the same through any of these. */
function encodingMatches(expected: string, got: string): boolean {
  const e = expected.toLowerCase();
  const accept: Record<string, string[]> = {
    'us-ascii': ['windows-1252', 'utf-8'],
    'iso-8859-1': ['windows-1252'],
    gb18030: ['gbk', 'gb18030'],
  };
  return (accept[e] ?? [e]).includes(got);
}

test('encoding: charset from HTTP header, XML declaration or BOM decodes to the right text', { skip }, async () => {
  const files = walk(path.join(corpus, 'feedparser', 'tests', 'encoding'));
  let checked = 0;
  const failures: string[] = [];
  for (const file of files) {
    const body = readFileSync(file);
    const expect = expectLine(body);
    const rel = path.relative(corpus, file);
    let got: FetchedFeed;
    try {
      got = await load(file);
    } catch (err) {
      // Files feedparser itself flags as broken ("bozo") may be refused, with a reason.
      if (!/^not bozo/.test(expect)) {
        assert.ok((err as Error).message.length > 5, `${rel}: unreadable error`);
        continue;
      }
      failures.push(`${rel}: ${(err as Error).message}`);
      continue;
    }
    if (got.notModified || !/^not bozo/.test(expect)) continue;
    const enc = /encoding == '([^']+)'/.exec(expect);
    if (enc) {
      checked++;
      if (!encodingMatches(enc[1]!, got.encoding)) failures.push(`${rel}: decoded as ${got.encoding}, expected ${enc[1]}`);
    }
    const desc = /entries\[0\]\['description'\] == (.+)$/.exec(expect);
    if (desc) {
      checked++;
      const want = pyString(desc[1]!)!;
      const e = got.feed.entries[0];
      if (!e || (e.contentHtml !== want && e.summary !== plain(want))) failures.push(`${rel}: description ${JSON.stringify(e?.contentHtml)} != ${JSON.stringify(want)}`);
    }
    const ord = /ord\(entries\[0\]\['description'\]\) == (\d+)/.exec(expect);
    if (ord) {
      checked++;
      const e = got.feed.entries[0];
      if (e?.summary.codePointAt(0) !== Number(ord[1]) || e.summary.length !== 1) failures.push(`${rel}: description ${JSON.stringify(e?.summary)} is not U+${Number(ord[1]).toString(16)}`);
    }
    const title = /feed\['title'\] == (.+)$/.exec(expect);
    if (title) {
      checked++;
      if (got.feed.title !== pyString(title[1]!)) failures.push(`${rel}: feed title ${JSON.stringify(got.feed.title)}`);
    }
  }
  console.log(`encoding: ${checked - failures.length}/${checked} checks right`);
  if (failures.length) console.log('  wrong:\n  ' + failures.join('\n  '));
  assert.ok(checked >= 60, `only ${checked} encoding checks ran`);
  assert.deepEqual(failures, []);
});

test("rss-parser-realworld: every input parses and titles/links match rss-parser's expected output", { skip }, async () => {
  const dir = path.join(corpus, 'rss-parser-realworld');
  let items = 0;
  let matched = 0;
  const failures: string[] = [];
  for (const file of walk(path.join(dir, 'input'))) {
    const name = path.basename(file).replace(/\.[^.]+$/, '');
    if (name === 'unrecognized') continue;
    const got = await load(file);
    assert.equal(got.notModified, false);
    if (got.notModified) continue;
    const expectedFile = path.join(dir, 'expected', `${name}.json`);
    if (!existsSync(expectedFile)) {
      assert.ok(got.feed.entries.length > 0, `${name}: no items`);
      continue;
    }
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as { feed: { items: Array<{ title?: string; link?: string }> } };
    const want = expected.feed.items;
    if (want.length !== got.feed.entries.length) failures.push(`${name}: ${got.feed.entries.length} items, expected ${want.length}`);
    want.forEach((w, i) => {
      items++;
      const e = got.feed.entries[i];
      // rss-parser read the ISO-8859-1 capture as UTF-8 (its expected titles hold U+FFFD where we decode the letter
      // right), and kept relative links relative (we resolve them against the feed's address).
      const titleOk = typeof w.title !== 'string' || sameText(e?.title, plain(w.title)) || sameText(e?.title, oneLine(w.title));
      const linkOk = w.link === undefined || e?.link === new URL(w.link, got.url).href;
      if (titleOk && linkOk) matched++;
      else failures.push(`${name}[${i}]: ${JSON.stringify([e?.title, e?.link])} != ${JSON.stringify([w.title, w.link])}`);
    });
  }
  const rate = (100 * matched) / items;
  console.log(`rss-parser-realworld: ${matched}/${items} items with matching title and link = ${rate.toFixed(2)} %`);
  if (failures.length) console.log('  differences:\n  ' + failures.slice(0, 40).join('\n  '));
  assert.ok(rate >= 97, `only ${rate.toFixed(2)} % of real-world items match`);
});

test('unrecognized.rss (an HTML "Document Moved" page) is rejected with a clear reason', { skip }, async () => {
  await assert.rejects(load(path.join(corpus, 'rss-parser-realworld', 'input', 'unrecognized.rss')), (err: Error) => {
    assert.match(err.message, /^not a feed/);
    assert.match(err.message, /Document Moved/);
    return true;
  });
});

test('the whole corpus: every file parses or fails with a readable reason; nothing crashes or hangs', { skip }, async () => {
  const files = walk(corpus).filter((f) => !/\.(md|txt|json)$/i.test(f) && !/LICENSE/i.test(f));
  let parsed = 0;
  const refused: string[] = [];
  for (const file of files) {
    try {
      const got = await load(file);
      if (!got.notModified) {
        for (const e of got.feed.entries) {
          assert.equal(typeof e.title, 'string');
          assert.ok(e.link === null || /^https?:\/\//.test(e.link), `${file}: link ${e.link}`);
          assert.ok(e.published === null || !Number.isNaN(Date.parse(e.published)));
        }
      }
      parsed++;
    } catch (err) {
      const msg = (err as Error)?.message ?? '';
      assert.ok(!msg.startsWith('HANG'), msg);
      assert.ok(msg.length > 5 && !/undefined|\[object /.test(msg), `${file}: unreadable error ${JSON.stringify(msg)}`);
      assert.ok(err instanceof Error, `${file}: threw a non-Error`);
      refused.push(`${path.relative(corpus, file)}: ${msg}`);
    }
  }
  console.log(`whole corpus: ${files.length} files, ${parsed} parsed, ${refused.length} refused with a reason`);
  if (refused.length) console.log('  refused:\n  ' + refused.join('\n  '));
  assert.ok(files.length > 2000);
});
