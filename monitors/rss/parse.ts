/**
 * Feed document → normalized entries. RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and RDF go through
 * @rowanmanning/feed-parser (fast-xml-parser underneath: lenient, no native code, kept up); JSON Feed is read here.
 * Why not rss-parser: measured on the feedparser corpus it fails on RSS without a version attribute, on Atom
 * xhtml/inline titles (it returns objects), on namespaced RDF and on entity-laden doctypes; measured in monitors/rss/README.md.
 *
 * Everything that comes out is plain data: titles and summaries as plain text, content HTML as the feed gave it
 * (it is sanitized when rendered, never here), links absolute and http(s) only.
 */
import { parseFeed } from '@rowanmanning/feed-parser';
import { cp1252C1, decodeFeedBytes, type Decoded } from './charset.js';
import { looksLikeHtml, oneLine, collapse } from './text.js';
import { htmlToText } from './html-text.js';

export interface FeedEnclosure {
  url: string;
  type: string | null;
  length: number | null;
}

export interface FeedEntry {
  guid: string | null;
  title: string;
  link: string | null;
  author: string | null;
  /** ISO 8601, or null when the feed gives no (valid) date. */
  published: string | null;
  updated: string | null;
  /** Plain text. */
  summary: string;
  /** As published; sanitize before rendering. */
  contentHtml: string | null;
  categories: string[];
  enclosure: FeedEnclosure | null;
}

export interface ParsedFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json';
  title: string;
  link: string | null;
  entries: FeedEntry[];
  /** How long the publisher asks readers to wait between checks (RSS `<ttl>`, or `sy:updatePeriod`/`updateFrequency`), in minutes. */
  refreshMinutes?: number;
}

/** The feed is not usable; the message says why in words a user can act on. */
export class FeedParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedParseError';
  }
}

export interface ParseInput {
  /** Where the document came from (after redirects): relative links resolve against it. */
  url: string;
  contentType?: string | null;
  /** A Content-Location header, which feedparser and browsers honour as the document's base. */
  contentLocation?: string | null;
}

export function parseFeedBytes(bytes: Uint8Array, input: ParseInput): ParsedFeed & { encoding: Decoded['encoding'] } {
  const decoded = decodeFeedBytes(bytes, input.contentType);
  return { ...parseFeedText(decoded.text, input), encoding: decoded.encoding };
}

export function parseFeedText(text: string, input: ParseInput): ParsedFeed {
  const base = documentBase(input);
  const body = text.replace(/^[\ufeff\s]+/, '');
  if (!body) throw new FeedParseError('the response is empty, not a feed');
  if (body.startsWith('{')) return parseJsonFeed(body, base);
  if (!body.startsWith('<')) throw new FeedParseError(`not a feed: the response starts with ${JSON.stringify(body.slice(0, 40))}`);
  const root = rootElementName(body);
  if (root && /^html$/i.test(root)) throw new FeedParseError(`not a feed: the server sent an HTML page${pageTitle(body)}`);
  let feed: ReturnType<typeof parseFeed>;
  try {
    feed = parseFeed(withBase(decodeCharRefs(preClean(body)), base));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = String((err as Error)?.message ?? '');
    // <rss version="2.0"></rss> or an RDF without a channel: a feed with nothing in it yet, not an error.
    if (code === 'INVALID_FEED' && /does not have a channel/i.test(message) && root && /^(rss|rdf:rdf)$/i.test(root)) {
      return { format: /^rss$/i.test(root) ? 'rss' : 'rdf', title: '', link: null, entries: [], ...refreshHint(body) };
    }
    if (code === 'INVALID_FEED') {
      throw new FeedParseError(`not a feed: expected an <rss>, <feed> or <rdf:RDF> document${root ? `, found <${root}>` : ''}${pageTitle(body)}`);
    }
    throw new FeedParseError(`the feed could not be read as XML: ${oneLine(String((err as Error)?.message ?? err)).slice(0, 200)}`);
  }
  const type = String(feed.meta.type).toLowerCase();
  const format: ParsedFeed['format'] = type === 'atom' ? 'atom' : type === 'rdf' ? 'rdf' : 'rss';
  const entries = feed.items.map((item) => toEntry(item, base));
  const title = feed.title ?? '';
  return { format, title: oneLine(looksLikeHtml(title) ? htmlToText(title) : title), link: safeLink(feed.url, base), entries, ...refreshHint(body) };
}

const SY_PERIOD_MINUTES: Record<string, number> = { hourly: 60, daily: 1_440, weekly: 10_080, monthly: 43_200, yearly: 525_600 };

/**
 * The publisher's "check me at most this often", read from the document's head (before its first item): RSS 2.0
 * `<ttl>` in minutes, or the syndication module's `sy:updatePeriod` divided by `sy:updateFrequency`. Nonsense values
 * are ignored.
 */
function refreshHint(body: string): { refreshMinutes?: number } {
  const head = body.slice(0, Math.max(0, body.search(/<(item|entry)[\s>]/i)) || 16_384);
  const ttl = /<ttl>\s*(\d{1,7})\s*<\/ttl>/i.exec(head);
  if (ttl) {
    const minutes = Number(ttl[1]);
    return minutes > 0 ? { refreshMinutes: minutes } : {};
  }
  const period = /<sy:updatePeriod>\s*([a-z]+)\s*<\/sy:updatePeriod>/i.exec(head);
  if (!period) return {};
  const base = SY_PERIOD_MINUTES[period[1]!.toLowerCase()];
  const frequency = Number(/<sy:updateFrequency>\s*(\d{1,6})\s*<\/sy:updateFrequency>/i.exec(head)?.[1] ?? 1);
  return base && frequency > 0 ? { refreshMinutes: base / frequency } : {};
}

type RowanItem = ReturnType<typeof parseFeed>['items'][number];
type RowanElement = RowanItem['element'];

function toEntry(item: RowanItem, base: string | null): FeedEntry {
  const el = item.element;
  const guid = item.id ? item.id.trim() || null : null;
  let link = safeLink(item.url, base);
  if (!link && guid) {
    // RSS: a guid is a permalink unless it says isPermaLink="false".
    const guidEl = el.findElementWithName('guid');
    const permalink = guidEl ? guidEl.getAttribute('isPermaLink')?.trim().toLowerCase() !== 'false' : false;
    if (permalink && /^https?:\/\//i.test(guid)) link = safeLink(guid, base);
  }
  const description = elementHtml(findChild(el, ['description', 'summary']), item.description ?? null);
  const content = elementHtml(findEncoded(el) ?? findChild(el, ['content']), item.content ?? null);
  const enclosure = item.media.find((m) => m.url) ?? null;
  return {
    guid,
    title: entryTitle(el),
    link,
    author: item.authors.map((a) => a.name || a.email).find(Boolean) ?? null,
    published: iso(item.published) ?? iso(item.updated),
    updated: iso(item.updated),
    summary: description ? htmlToText(description) : content ? htmlToText(content) : '',
    contentHtml: content ?? description,
    categories: [...new Set(item.categories.map((c) => oneLine(c.label || c.term || '')).filter(Boolean))],
    enclosure: enclosure ? { url: safeLink(enclosure.url, base) ?? enclosure.url, type: enclosure.mimeType, length: enclosure.length } : null,
  };
}

/**
 * Titles by their declared type: Atom text is shown as written, Atom html/xhtml and RSS titles that contain markup
 * or entities are reduced to their text. Atom 0.3's base64 mode is decoded first.
 */
function entryTitle(el: RowanElement): string {
  const titleEl = pickTitle(el);
  if (!titleEl) return '';
  const type = (titleEl.getAttribute('type') ?? '').toLowerCase();
  const mode = (titleEl.getAttribute('mode') ?? '').toLowerCase();
  let raw = titleEl.textContent;
  if (mode === 'base64') {
    try {
      raw = Buffer.from(raw.trim(), 'base64').toString('utf8');
    } catch {
      /* keep as is */
    }
  }
  if (type === 'xhtml' || type.includes('xhtml')) {
    const hasChildren = titleEl.children.some((c) => typeof c !== 'string');
    return oneLine(hasChildren ? htmlToText(titleEl.innerHtml) : htmlToText(raw));
  }
  if (type === 'text' || type === 'text/plain') return oneLine(raw);
  if (type === 'html' || type === 'text/html' || mode === 'escaped' || looksLikeHtml(raw)) return oneLine(htmlToText(raw));
  return oneLine(raw);
}

/**
 * Repairs that cost nothing and save real feeds:
 * - the DOCTYPE goes, internal subset and all: feeds never need it, external entity sets (%HTMLlat1;) trip the
 *   parser, and custom entities are how "billion laughs" expansion attacks work;
 * - a document cut off inside its last closing tag (`</rss`) gets its `>` back.
 */
export function preClean(xml: string): string {
  let out = xml;
  const start = rootStart(out);
  if (start) {
    const prolog = out.slice(0, start.index);
    const d = prolog.search(/<!DOCTYPE/i);
    if (d !== -1) {
      const end = skipDoctype(prolog, d);
      if (end !== -1) out = prolog.slice(0, d) + prolog.slice(end) + out.slice(start.index);
    }
  }
  return out.replace(/<\/([A-Za-z_][\w:.-]*)\s*$/, '</$1>');
}

function findChild(el: RowanElement, names: string[]): RowanElement | null {
  for (const n of names) {
    const found = el.findElementsWithName(n).find((c) => c.parent === el);
    if (found) return found;
  }
  return null;
}

function findEncoded(el: RowanElement): RowanElement | null {
  return el.findElementsWithName('encoded').find((c) => c.parent === el && c.namespace === 'content') ?? null;
}

/**
 * HTML of a description/summary/content element exactly as the XML carries it. (The library's own accessor decodes
 * entities a second time, which turns escaped text like "&lt;script&gt;" inside HTML into markup.)
 */
function elementHtml(child: RowanElement | null, fallback: string | null): string | null {
  if (!child) return fallback;
  const type = (child.getAttribute('type') ?? '').toLowerCase();
  const hasChildren = child.children.some((c) => typeof c !== 'string');
  if (type.includes('xhtml') || hasChildren) return fallback;
  let raw = child.textContent;
  if ((child.getAttribute('mode') ?? '').toLowerCase() === 'base64') raw = Buffer.from(raw.trim(), 'base64').toString('utf8');
  raw = raw.trim();
  if (!raw) return fallback;
  if (type === 'text' || type === 'text/plain') return escapeHtml(raw);
  return raw;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The XML parser underneath decodes named entities but leaves numeric character references as text; decode them
 * before parsing (outside CDATA), turning the five markup characters into the named entities it does decode.
 */
export function decodeCharRefs(xml: string): string {
  if (!xml.includes('&#')) return xml;
  return xml
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/(?:&#(?:x[0-9a-fA-F]{1,6}|[0-9]{1,7});)+/g, decodeRefRun)))
    .join('');
}

/**
 * A run of references. If every one is a byte value and together they are valid UTF-8 with at least one multi-byte
 * sequence, the publisher encoded UTF-8 bytes one by one ("â€¦" for "…"): decode them as UTF-8.
 */
function decodeRefRun(run: string): string {
  const cps = [...run.matchAll(/&#(?:x([0-9a-fA-F]+)|([0-9]+));/g)].map((m) => (m[1] ? parseInt(m[1], 16) : Number(m[2])));
  if (cps.length > 1 && cps.every((c) => c <= 0xff) && cps.some((c) => c >= 0x80)) {
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(cps));
      if (text.length < cps.length) return [...text].map((ch) => charFor(ch.codePointAt(0)!)).join('');
    } catch {
      /* not UTF-8 bytes: read them one by one */
    }
  }
  return cps.map(charFor).join('');
}

const MARKUP: Record<number, string> = { 0x26: '&amp;', 0x3c: '&lt;', 0x3e: '&gt;', 0x22: '&quot;', 0x27: '&apos;' };

function charFor(cp: number): string {
  const named = MARKUP[cp];
  if (named) return named;
  // Not allowed in XML 1.0 (NUL, most C0 controls, surrogates, beyond Unicode): show the replacement character.
  // &#146; and friends: windows-1252 meant, as browsers read them.
  if (cp >= 0x80 && cp <= 0x9f) return cp1252C1(cp);
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp < 0x20 && cp !== 0x9 && cp !== 0xa && cp !== 0xd)) return '\ufffd';
  return String.fromCodePoint(cp);
}

/** The item's own title: not one inside media:group or a nested source element. */
function pickTitle(el: RowanElement): RowanElement | null {
  const all = el.findElementsWithName('title');
  return all.find((t) => t.parent === el && (t.namespace === el.namespace || !isForeignNamespace(t))) ?? all.find((t) => t.parent === el) ?? null;
}

function isForeignNamespace(el: RowanElement): boolean {
  const ns = el.namespaceUri ?? '';
  return /search\.yahoo\.com\/mrss|itunes\.com|purl\.org\/dc/i.test(ns);
}

function parseJsonFeed(text: string, base: string | null): ParsedFeed {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FeedParseError(`not a feed: invalid JSON (${(err as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || typeof doc.version !== 'string' || !/jsonfeed\.org\/version\//.test(doc.version)) {
    throw new FeedParseError('not a feed: JSON without a JSON Feed "version" (https://jsonfeed.org/version/1.1)');
  }
  const feedBase = safeLink(str(doc.feed_url), base) ?? base;
  const items: unknown[] = Array.isArray(doc.items) ? doc.items : [];
  const entries = items.filter((i): i is Record<string, any> => !!i && typeof i === 'object').map((i): FeedEntry => {
    const authors: any[] = Array.isArray(i.authors) ? i.authors : i.author ? [i.author] : [];
    const attachment = Array.isArray(i.attachments) ? i.attachments.find((a: any) => a && typeof a.url === 'string') : null;
    const html = str(i.content_html);
    const plain = str(i.content_text);
    return {
      guid: i.id !== undefined && i.id !== null ? String(i.id) : null,
      title: oneLine(htmlToText(str(i.title) ?? '')),
      link: safeLink(str(i.url) ?? str(i.external_url), feedBase),
      author: authors.map((a) => str(a?.name)).find(Boolean) ?? null,
      published: iso(str(i.date_published)) ?? iso(str(i.date_modified)),
      updated: iso(str(i.date_modified)),
      summary: str(i.summary) ? collapse(str(i.summary)!) : plain ? collapse(plain) : html ? htmlToText(html) : '',
      contentHtml: html,
      categories: Array.isArray(i.tags) ? i.tags.filter((t: unknown) => typeof t === 'string') : [],
      enclosure: attachment
        ? { url: safeLink(attachment.url, feedBase) ?? attachment.url, type: str(attachment.mime_type), length: Number.isFinite(attachment.size_in_bytes) ? attachment.size_in_bytes : null }
        : null,
    };
  });
  return { format: 'json', title: oneLine(str(doc.title) ?? ''), link: safeLink(str(doc.home_page_url), base), entries };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function iso(v: Date | string | null | undefined): string | null {
  if (!v) return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An absolute http(s) link, resolved against `base`; anything else (javascript:, data:, garbage) is dropped. */
export function safeLink(link: string | null | undefined, base: string | null): string | null {
  if (!link) return null;
  try {
    const u = base ? new URL(link.trim(), base) : new URL(link.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function documentBase(input: ParseInput): string | null {
  const own = safeLink(input.url, null);
  if (input.contentLocation) return safeLink(input.contentLocation, own) ?? own;
  return own;
}

/**
 * Give the root element an absolute xml:base (the document's URL, or its own xml:base resolved against that), so
 * relative xml:base values further down and plain relative links resolve the way RFC 3986 says.
 */
function withBase(xml: string, base: string | null): string {
  if (!base) return xml;
  const start = rootStart(xml);
  if (!start) return xml;
  const tag = xml.slice(start.index, start.end);
  const existing = /\sxml:base\s*=\s*(["'])(.*?)\1/.exec(tag);
  const absolute = existing ? safeLink(decodeAttr(existing[2] ?? ''), base) : base;
  if (!absolute) return xml;
  const attr = ` xml:base="${absolute.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`;
  const newTag = existing ? tag.replace(existing[0], attr) : tag.replace(/^<[^\s/>]+/, (m) => m + attr);
  return xml.slice(0, start.index) + newTag + xml.slice(start.end);
}

function decodeAttr(v: string): string {
  return v.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Position of the root element's start tag, skipping the prolog (declaration, comments, doctype, PIs). */
function rootStart(xml: string): { index: number; end: number; name: string } | null {
  let i = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    i = xml.indexOf('<', i);
    if (i === -1) return null;
    if (xml.startsWith('<?', i)) i = skipPast(xml, i, '?>');
    else if (xml.startsWith('<!--', i)) i = skipPast(xml, i, '-->');
    else if (xml.startsWith('<!', i)) i = skipDoctype(xml, i);
    else {
      const m = /^<([^\s/>]+)[^>]*>/.exec(xml.slice(i, i + 20_000));
      if (!m) return null;
      return { index: i, end: i + m[0].length, name: m[1]! };
    }
    if (i === -1) return null;
  }
  return null;
}

function skipPast(xml: string, from: number, end: string): number {
  const j = xml.indexOf(end, from);
  return j === -1 ? -1 : j + end.length;
}

/** A doctype may hold an internal subset in brackets, with its own `>` characters. */
function skipDoctype(xml: string, from: number): number {
  const bracket = xml.indexOf('[', from);
  const close = xml.indexOf('>', from);
  if (bracket !== -1 && bracket < close) {
    const endSubset = xml.indexOf(']', bracket);
    return endSubset === -1 ? -1 : skipPast(xml, endSubset, '>');
  }
  return close === -1 ? -1 : close + 1;
}

function rootElementName(xml: string): string | null {
  if (/^<!doctype\s+html/i.test(xml)) return 'html';
  return rootStart(xml)?.name ?? null;
}

function pageTitle(xml: string): string {
  const m = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(xml.slice(0, 5000));
  return m?.[1] ? ` ("${oneLine(m[1])}")` : '';
}
