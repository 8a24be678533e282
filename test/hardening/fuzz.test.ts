// Seeded fuzzing of what comes from outside: protocol messages and raw WebSocket frames against the real agent,
// config files, rules, and feed documents. Deterministic (the seed is printed; PANOPTES_FUZZ_SEED replays another)
// and bounded in count. Each input must be answered or refused with a message; the agent must stay up and keep what
// it was given meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';
import { parseConfigText, ConfigError } from '../../core/config/config-store.js';
import { RuleEngine, validateRules } from '../../rules/index.js';
import { parseFeedBytes } from '../../monitors/rss/parse.js';
import { htmlToText } from '../../monitors/rss/html-text.js';
import type { PanoptesEvent } from '../../core/event.js';

const SEED = Number(process.env.PANOPTES_FUZZ_SEED ?? 20261206);

/** mulberry32: a small, well-mixed PRNG; the same seed gives the same run everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzz {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  string(max = 40): string {
    const alphabet = ['a', 'Z', '0', ' ', '.', '*', '{', '}', '{{', '}}', '{%', '"', '\\', '\n', '\u0000', 'é', '😀', '\ud800', '<script>', '&amp;', '__proto__', '(a+)+$', '$'];
    let s = '';
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
  value(depth = 0): unknown {
    const k = this.int(depth > 4 ? 7 : 11);
    switch (k) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 0.5, 1e21]);
      case 3: return this.string();
      case 4: return this.chance(0.05) ? 'x'.repeat(200_000) : this.string(200);
      case 5: return this.pick(['feed.item', 'rss:*', '*', '', 'title', 'fields.x', '5m', '-1h', 'P1D', 'notify']);
      case 6: return this.int(100);
      case 7: return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      case 8:
      case 9: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) o[this.pick(KEYS)] = this.value(depth + 1);
        return o;
      }
      default: {
        // Deep nesting: past what recursive code may take.
        let v: unknown = this.string(5);
        for (let i = this.int(300); i > 0; i--) v = this.chance(0.5) ? [v] : { not: v };
        return v;
      }
    }
  }
  /** `v` with one part replaced, removed or added, at a random depth. */
  mutate(v: unknown, depth = 0): unknown {
    if (v === null || typeof v !== 'object' || depth > 6 || this.chance(0.2)) return this.value(depth);
    if (Array.isArray(v)) {
      const out = [...v];
      if (!out.length || this.chance(0.2)) out.push(this.value(depth));
      else out[this.int(out.length)] = this.mutate(out[this.int(out.length)], depth + 1);
      return out;
    }
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(out);
    const c = this.int(10);
    if (c === 0 && keys.length) delete out[this.pick(keys)];
    else if (c === 1 || !keys.length) Object.defineProperty(out, this.pick(KEYS), { value: this.value(depth), enumerable: true, configurable: true, writable: true });
    else {
      const key = this.pick(keys);
      out[key] = this.mutate(out[key], depth + 1);
    }
    return out;
  }
  /** Text with bytes changed, cut, repeated or inserted. */
  mutateText(s: string): string {
    let out = s;
    for (let i = 1 + this.int(4); i > 0; i--) {
      const at = this.int(out.length + 1);
      switch (this.int(6)) {
        case 0: out = out.slice(0, at); break;
        case 1: out = out.slice(0, at) + this.string(10) + out.slice(at); break;
        case 2: out = out.slice(0, at) + out.slice(at + 1 + this.int(50)); break;
        case 3: out = out.slice(0, at) + this.pick(['{', '[', '<![CDATA[', '<!DOCTYPE x [<!ENTITY a "aaaa">]>', '&a;', '"__proto__":{"x":1},', '1e999', '<a><a><a>']).repeat(1 + this.int(3_000)) + out.slice(at); break;
        case 4: out = out.slice(0, at) + String.fromCharCode(this.int(0x10000)) + out.slice(at + 1); break;
        default: out = out.slice(0, at) + out.slice(at, at + 200).repeat(1 + this.int(5)) + out.slice(at);
      }
    }
    return out;
  }
}

const KEYS = ['id', 'rule', 'when', 'if', 'then', 'source', 'type', 'field', 'matches', 'equals', 'all', 'any', 'not', 'pattern', 'count', 'within', 'by', 'notify', 'title', 'body', 'config', 'url', 'limit', 'since', 'until', 'eventId', 'template', 'flags', '__proto__', 'constructor', 'prototype', 'toString'];

const RULE = {
  id: 'fuzz-rule',
  name: 'Fuzz',
  when: { source: 'rss:*', type: 'feed.item' },
  if: { all: [{ field: 'title', matches: '(?i)release' }, { not: { field: 'fields.feed', equals: 'spam' } }] },
  pattern: { count: 2, within: '10m', by: 'fields.feed' },
  throttle: { per: '1m' },
  then: [{ notify: { title: '{{ count }} × {{ title | upcase }}', body: '{% for e in events %}{{ e.fields.feed }}{% endfor %}' } }, { flag: { set: 'busy', for: '5m' } }],
};

/** Requests whose params the fuzz starts from; none of them can remove what the test checks is kept. */
const VALID: [string, unknown][] = [
  ['hello', {}],
  ['events.list', { limit: 10, source: 'webhook:*' }],
  ['events.count', { search: 'release' }],
  ['events.get', { id: 'nope' }],
  ['monitors.types', {}],
  ['monitors.list', {}],
  ['monitors.validate', { type: 'rss', config: { url: 'http://127.0.0.1:1/feed' } }],
  ['rules.list', {}],
  ['rules.validate', { rule: RULE }],
  ['rules.save', { rule: RULE }],
  ['rules.test', { rule: RULE, limits: { ms: 2_000 } }],
  ['rules.explain', { eventId: 'nope' }],
  ['rules.preview', { template: '{{ title }}' }],
  ['traces.list', { limit: 5 }],
  ['versions.list', { monitorId: 'rss:x' }],
  ['nope.nothing', {}],
  ['__proto__', {}],
  ['constructor', {}],
];

const SECRET = 'a-long-enough-hook-secret';

test(`protocol fuzz (seed ${SEED}): every request is answered or refused with a message, broken frames close only their connection, nothing is lost`, { timeout: 280_000 }, async (t) => {
  const f = new Fuzz(SEED);
  const dir = tempDir(t);
  writeConfig(dir, { monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }], rules: [{ id: 'keep', when: { source: 'webhook:*' }, then: [{ notify: { title: '{{ title }}' } }] }] });
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const post = (n: number) => fetch(`${agent.origin}/hooks/ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ n }) });
  await waitFor(async () => (await post(-1)).status === 200, 'hook ready', 60_000);

  const client = await connectProtocol(agent);
  t.after(() => client.close());
  let answered = 0;
  let refused = 0;
  let posted = 0;
  for (let i = 0; i < 400; i++) {
    if (i % 8 === 0) assert.equal((await post(posted++)).status, 200, 'the webhook is acknowledged during the fuzz');
    const [method, params] = f.pick(VALID);
    const fuzzed = f.chance(0.85) ? f.mutate(params) : f.value();
    const oddMethod = f.chance(0.1) ? f.value() : method;
    if (f.chance(0.1)) {
      // Not a request at all (no answer expected): junk text, other kinds, ids that are not numbers.
      const junk = f.pick([f.string(100), JSON.stringify(f.value()), JSON.stringify({ kind: 'req', id: f.string(5), method, params: fuzzed }), JSON.stringify({ kind: 'res', id: 1, ok: true }), JSON.stringify({ kind: 'push', topic: 'event', data: fuzzed })]);
      client.ws.send(junk);
      continue;
    }
    try {
      await client.call(oddMethod as string, fuzzed, 60_000);
      answered++;
    } catch (err) {
      const e = err as Error & { code?: string };
      assert.ok(!/no answer within/.test(e.message), `${JSON.stringify(oddMethod)} got no answer`);
      assert.ok(e.code && e.message.length > 0, `a refusal has a code and a message: ${e.message}`);
      refused++;
    }
  }

  // Raw frames: a protocol connection sent random bytes is closed; the agent goes on.
  for (let i = 0; i < 30; i++) {
    const sock = net.connect(agent.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: panoptes.v1\r\nAuthorization: Bearer ${agent.token}\r\n\r\n`);
    await new Promise<void>((resolve) => sock.once('data', () => resolve()));
    const bytes = Buffer.from(Array.from({ length: 2 + f.int(300) }, () => f.int(256)));
    // Keep the mask bit on in the first frame now and then, so some frames get past the first check.
    if (f.chance(0.5)) bytes[1] = bytes[1]! | 0x80;
    sock.write(bytes);
    await Promise.race([new Promise((r) => sock.once('close', r)), new Promise((r) => setTimeout(r, 200))]);
    sock.destroy();
  }

  assert.ok((await client.call('hello', {}, 30_000)).agentId, 'the fuzzed connection still answers');
  const fresh = await connectProtocol(agent);
  t.after(() => fresh.close());
  assert.ok((await fresh.call('hello', {}, 30_000)).agentId, 'a new connection is served');
  assert.equal(agent.child.exitCode, null, 'the agent is up');
  const rules = await fresh.call('rules.list', {}, 30_000);
  assert.ok(rules.rules.some((r: { id: string }) => r.id === 'keep'), 'the rules are kept');
  const stored = await waitFor(async () => {
    const c = await fresh.call('events.count', { source: 'webhook:ci' }, 30_000);
    return c.count >= posted + 1 ? c.count : null;
  }, 'every acknowledged webhook stored', 60_000);
  assert.equal(stored, posted + 1);
  console.log(`protocol fuzz seed ${SEED}: ${answered} answered, ${refused} refused with a message, ${posted} webhooks stored`);
});

test(`config fuzz (seed ${SEED}): a mangled config.json is loaded or refused with its line and column, never anything else`, () => {
  const f = new Fuzz(SEED + 1);
  const doc = { monitors: [{ id: 'rss:hn', type: 'rss', name: 'HN', config: { url: 'https://news.ycombinator.com/rss' } }], rules: [RULE], settings: { retentionDays: 30 }, channels: [] };
  const text = JSON.stringify(doc, null, 2);
  let refused = 0;
  for (let i = 0; i < 1_500; i++) {
    const input = f.chance(0.5) ? f.mutateText(text) : JSON.stringify(f.mutate(doc));
    try {
      parseConfigText(input, 'config.json');
    } catch (err) {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error).stack}\ninput: ${input.slice(0, 300)}`);
      assert.match((err as Error).message, /config\.json.*\d+.*\d+/s, 'it names the line and column');
      refused++;
    }
  }
  assert.ok(refused > 100);
});

test(`rules fuzz (seed ${SEED}): validation never throws, and what it accepts runs over odd events without throwing`, () => {
  const f = new Fuzz(SEED + 2);
  let accepted = 0;
  for (let i = 0; i < 1_500; i++) {
    const input = f.chance(0.9) ? [f.mutate(RULE)] : [f.value()];
    const { rules } = validateRules(input as unknown[]);
    if (!rules.length) continue;
    accepted++;
    const engine = new RuleEngine();
    engine.setRules(rules);
    const base: PanoptesEvent = { id: `e${i}`, ts: '2026-03-02T10:00:00.000Z', receivedAt: '2026-03-02T10:00:00.000Z', source: 'rss:news', type: 'feed.item', title: 'Release 1.0', body: '', url: null, fields: { feed: 'a' }, tags: [] };
    for (let k = 0; k < 5; k++) {
      const e = { ...base, id: `e${i}-${k}`, fields: f.mutate(base.fields) as Record<string, unknown>, title: f.chance(0.5) ? base.title : text(f.value()) };
      const out = engine.process(e, { now: Date.parse(base.ts) + k * 60_000, flags: {} });
      for (const firing of out.firings) void firing.actions;
    }
    engine.advanceTo(Date.parse(base.ts) + 3_600_000, { now: Date.parse(base.ts) + 3_600_000, flags: {} });
    JSON.stringify(engine.snapshot());
  }
  assert.ok(accepted > 50, `${accepted} fuzzed rules were valid`);
});

/** A title from any value (an object with a `toString` key of its own cannot be turned into a string by String()). */
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

const FEEDS = [
  `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title><link>https://example.com/</link><item><title>Release &amp; more</title><link>/a</link><guid>1</guid><description><![CDATA[<p>Hello <b>world</b><script>alert(1)</script></p>]]></description><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item></channel></rss>`,
  `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>x</id><title type="html">&lt;i&gt;hi&lt;/i&gt;</title><link href="https://example.com/x"/><updated>2026-03-02T10:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body</p></div></content></entry></feed>`,
];

test(`feed fuzz (seed ${SEED}): a mangled feed is parsed or refused with an error, and its HTML turns into text`, () => {
  const f = new Fuzz(SEED + 3);
  const corpus = path.resolve(process.env.PANOPTES_CORPUS ?? path.resolve(process.cwd(), '..', 'shared', 'corpus'), 'feeds', 'rss-parser-realworld', 'input');
  const samples = [...FEEDS, ...(existsSync(corpus) ? readdirSync(corpus).sort().slice(0, 10).map((n) => readFileSync(path.join(corpus, n), 'utf8')) : [])];
  let parsed = 0;
  for (let i = 0; i < 600; i++) {
    const text = f.mutateText(f.pick(samples));
    try {
      const feed = parseFeedBytes(Buffer.from(text), { url: 'https://example.com/feed', contentType: f.pick([null, 'application/rss+xml', 'text/xml; charset=iso-8859-1']) });
      for (const e of feed.entries) void e.title;
      parsed++;
    } catch (err) {
      assert.ok(err instanceof Error && err.message.length > 0, `a refusal is an Error with a message: ${String(err)}`);
    }
    const html = f.mutateText('<p>Hello <b>world</b> <a href="javascript:x">link</a><img src=x onerror=alert(1)><table><tr><td>1</td></tr></table></p>');
    assert.equal(typeof htmlToText(html), 'string');
  }
  assert.ok(parsed > 0);
});
