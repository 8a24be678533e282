/**
 * Events that look like what Panoptes' monitors store: feed items whose titles and HTML bodies come from the
 * real-world feed corpus (so word frequencies in the FTS index are those of real text), mails, chat mentions,
 * web-server log lines, weather readings and Panoptes' own events, spread over the last weeks.
 * Deterministic (seeded), so two runs index the same text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PanoptesEvent } from '../../core/event.js';

export interface CorpusItem {
  feed: string;
  title: string;
  html: string;
  text: string;
  link: string;
  author: string | null;
  categories: string[];
}

const FALLBACK_TEXT =
  'Kernel release notes mention a security patch for the storage driver. The weather service expects rain over the weekend ' +
  'and the football match may be delayed. A new podcast episode reviews the concert and the garden show. The build failed ' +
  'after the deploy, so the backup server raised a disk alert. Invoice reminder for the meeting room and lunch order.';

/** Items of `rss-parser-realworld/expected/*.json` (what rss-parser made of 31 captured feeds). */
export function loadCorpusItems(corpusDir: string): CorpusItem[] {
  const dir = path.join(corpusDir, 'feeds', 'rss-parser-realworld', 'expected');
  const items: CorpusItem[] = [];
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
      let doc: { feed?: { items?: unknown[] }; items?: unknown[] };
      try {
        doc = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      } catch {
        continue;
      }
      for (const raw of (doc.feed ?? doc).items ?? []) {
        const i = raw as Record<string, unknown>;
        const title = typeof i.title === 'string' ? i.title.trim() : '';
        const html = typeof i.content === 'string' ? i.content : typeof i['content:encoded'] === 'string' ? (i['content:encoded'] as string) : '';
        const text = typeof i.contentSnippet === 'string' ? i.contentSnippet : html.replace(/<[^>]*>/g, ' ');
        if (!title && !text) continue;
        items.push({
          feed: f.replace(/\.json$/, ''),
          title: title || text.slice(0, 80),
          html: html.slice(0, 2_000),
          text: text.replace(/\s+/g, ' ').trim().slice(0, 2_000),
          link: typeof i.link === 'string' ? i.link : '',
          author: typeof i.creator === 'string' ? i.creator : typeof i.author === 'string' ? i.author : null,
          categories: Array.isArray(i.categories) ? i.categories.filter((c): c is string => typeof c === 'string').slice(0, 5) : [],
        });
      }
    }
  }
  if (!items.length) {
    // Outside this project's machines the corpus may be missing; the bench still runs, on plainer text.
    const sentences = FALLBACK_TEXT.split('. ');
    sentences.forEach((s, k) => items.push({ feed: 'fallback', title: s.slice(0, 60), html: `<p>${s}.</p>`, text: s + '.', link: `https://example.test/${k}`, author: null, categories: [] }));
  }
  return items;
}

const FIRST_NAMES = ['Alice', 'Bob', 'Chen', 'Dana', 'Emeka', 'Fatima', 'Gustav', 'Hana', 'Ivan', 'Jun', 'Kofi', 'Lena'];
const CHANNELS = ['#panoptes', '#debian', '#rust', '#typescript', '#homelab'];
const PATHS = ['/', '/index.html', '/api/v1/items', '/login', '/static/app.js', '/feed.xml', '/wp-login.php', '/healthz', '/images/logo.png'];
const CONDITIONS = ['clear sky', 'partly cloudy', 'light rain', 'heavy rain', 'fog', 'snow showers', 'thunderstorm'];

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * ULIDs (what core/ids.ts makes) for back-dated events, from a seeded generator: the ulid package asks the OS
 * for fresh randomness for every id with a new timestamp, which made id generation the slowest part of filling
 * a million-event history.
 */
function ulidAt(time: number, rand: () => number): string {
  let out = '';
  for (let i = 9, t = time; i >= 0; i--, t = Math.floor(t / 32)) out = CROCKFORD[t % 32]! + out;
  for (let i = 0; i < 16; i++) out += CROCKFORD[Math.floor(rand() * 32)]!;
  return out;
}

export interface EventFactory {
  /** The next `n` events, oldest first, `stepMs` apart. */
  batch(n: number): PanoptesEvent[];
  /** A number that appears in exactly one stored event's title (an invoice number), for "rare term" searches. */
  rareTerm(): string;
  made: number;
}

export function eventFactory(items: CorpusItem[], opts: { startMs: number; stepMs: number; seed?: number }): EventFactory {
  let seed = opts.seed ?? 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x1_0000_0000;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  let t = opts.startMs;
  let made = 0;
  const invoices: number[] = [];

  const one = (): PanoptesEvent => {
    const i = made++;
    t += opts.stepMs;
    const ts = new Date(t - Math.floor(rand() * 60_000)).toISOString();
    const receivedAt = new Date(t).toISOString();
    const item = pick(items);
    const r = rand();
    const base = { id: ulidAt(t, rand), ts, receivedAt };
    if (r < 0.55) {
      return {
        ...base,
        source: `rss:${item.feed}`,
        type: 'feed.item',
        title: item.title,
        body: item.html || item.text,
        url: item.link ? `${item.link}${item.link.includes('?') ? '&' : '?'}n=${i}` : null,
        fields: { feed: `rss:${item.feed}`, feedTitle: item.feed, author: item.author, published: ts, categories: item.categories, guid: `${item.link}#${i}` },
        tags: rand() < 0.02 ? ['starred'] : [],
      };
    }
    if (r < 0.7) {
      const from = pick(FIRST_NAMES);
      const invoice = rand() < 0.1 ? 100_000 + i : 0;
      if (invoice) invoices.push(invoice);
      return {
        ...base,
        source: pick(['mail:work', 'mail:home']),
        type: 'mail.received',
        title: invoice ? `Invoice ${invoice} for ${item.feed}` : rand() < 0.3 ? `Re: ${item.title}` : item.title,
        body: item.text.slice(0, 300),
        url: null,
        fields: { account: 'me@example.test', folder: 'INBOX', from: { name: from, address: `${from.toLowerCase()}@example.test` }, subject: item.title, size: 2_000 + (i % 50_000) },
        tags: ['mail'],
      };
    }
    if (r < 0.8) {
      const nick = pick(FIRST_NAMES).toLowerCase();
      const words = item.text.split(' ');
      const at = Math.floor(rand() * Math.max(1, words.length - 12));
      const line = `me: ${words.slice(at, at + 12).join(' ')}`;
      const channel = pick(CHANNELS);
      return { ...base, source: 'irc:libera', type: 'chat.mention', title: `${nick} in ${channel}`, body: line, url: null, fields: { nick, channel, text: line, matched: 'me' }, tags: [] };
    }
    if (r < 0.92) {
      const status = pick([200, 200, 200, 200, 301, 304, 404, 500]);
      const p = pick(PATHS);
      const line = `203.0.113.${i % 250} - - [${receivedAt}] "GET ${p} HTTP/1.1" ${status} ${(i * 37) % 9000} "-" "Mozilla/5.0"`;
      return { ...base, source: 'log:nginx', type: 'log.line', title: line.slice(0, 120), body: line, url: null, fields: { file: '/var/log/nginx/access.log', line, status, path: p }, tags: status >= 500 ? ['error'] : [] };
    }
    if (r < 0.97) {
      const temp = Math.round((8 + 10 * Math.sin(t / 43_200_000) + rand() * 3) * 10) / 10;
      const cond = pick(CONDITIONS);
      return { ...base, source: 'weather:home', type: 'weather.reading', title: `${temp} °C, ${cond}`, body: `Home: ${temp} °C, ${cond}, wind ${Math.round(rand() * 40)} km/h`, url: null, fields: { temperature: temp, condition: cond }, tags: [] };
    }
    return { ...base, source: 'panoptes', type: 'panoptes.health', title: 'Panoptes health', body: `lag 0, outbox 0, monitors ok`, url: null, fields: { lag: 0, outbox: 0, rssMb: 80 + (i % 40) }, tags: [] };
  };

  return {
    batch: (n) => Array.from({ length: n }, one),
    rareTerm: () => String(invoices[Math.floor(invoices.length / 2)] ?? 100_000),
    get made() {
      return made;
    },
  };
}

/** Words of the corpus by how many items contain them (document frequency), most common first. */
export function wordsByFrequency(items: CorpusItem[]): { word: string; docs: number }[] {
  const df = new Map<string, number>();
  for (const it of items) {
    const seen = new Set((it.title + ' ' + it.text).toLowerCase().match(/\p{L}{3,}/gu) ?? []);
    for (const w of seen) df.set(w, (df.get(w) ?? 0) + 1);
  }
  return [...df].map(([word, docs]) => ({ word, docs })).sort((a, b) => b.docs - a.docs || (a.word < b.word ? -1 : 1));
}
