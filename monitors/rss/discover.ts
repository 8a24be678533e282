// Feed autodiscovery: a person knows a site's address, not its feed's. Given either, find the feed(s): the address
// itself when it is a feed, else the `<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">` tags
// of the page (the convention browsers and feed readers use), else a few common feed paths.
import * as cheerio from 'cheerio';
import { boundedFetch } from '../../base/http.js';
import { fetchFeed } from './index.js';

export interface DiscoveredFeed {
  url: string;
  title: string;
  /** How many items the feed holds now. */
  items: number;
}

const FEED_TYPES = /^application\/(rss|atom|feed|rdf)\+(xml|json)$|^application\/(x-)?rss\+xml$|^application\/json$/i;
const COMMON_PATHS = ['/feed', '/rss.xml', '/atom.xml', '/feed.xml', '/index.xml', '/rss'];

/** The address with a scheme: people type "example.com". */
export function normalizeSiteAddress(input: string): string {
  const text = input.trim();
  if (!text) throw new Error('enter a site or feed address');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new Error(`"${text}" is not a web address`);
  }
  if (!/^https?:$/.test(u.protocol)) throw new Error('only http:// and https:// addresses can be watched');
  return u.toString();
}

async function tryFeed(url: string, signal?: AbortSignal): Promise<DiscoveredFeed | null> {
  try {
    const r = await fetchFeed(url, signal ? { signal } : {});
    if (r.notModified) return null;
    return { url: r.url, title: r.feed.title || new URL(r.url).hostname, items: r.feed.entries.length };
  } catch {
    return null;
  }
}

/** The feeds of a site (or the feed itself). Throws with a reason a person understands when none is found. */
export async function discoverFeeds(input: string, signal?: AbortSignal): Promise<DiscoveredFeed[]> {
  const address = normalizeSiteAddress(input);
  const page = await boundedFetch(address, { timeoutMs: 15_000, maxBytes: 5 * 1024 * 1024, headers: { accept: 'text/html, application/rss+xml, application/atom+xml, */*;q=0.5' } }, signal);
  if (!page.ok) throw new Error(`${address} answered ${page.status}`);
  const direct = await tryFeed(page.url, signal);
  if (direct) return [direct];

  const $ = cheerio.load(page.body.toString('utf8'));
  const links = $('link[rel~="alternate"][href]')
    .toArray()
    .filter((el) => FEED_TYPES.test(String($(el).attr('type') ?? '')))
    .map((el) => new URL(String($(el).attr('href')), page.url).toString());
  const candidates = links.length ? [...new Set(links)] : COMMON_PATHS.map((p) => new URL(p, page.url).toString());
  const found: DiscoveredFeed[] = [];
  for (const url of candidates.slice(0, 8)) {
    const f = await tryFeed(url, signal);
    if (f && !found.some((x) => x.url === f.url)) found.push(f);
  }
  if (!found.length) throw new Error(`no feed found at ${address}: the page names none, and none of the usual feed addresses answers with a feed`);
  return found;
}
