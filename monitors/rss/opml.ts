/**
 * OPML, the format every feed reader imports and exports: a tree of <outline> elements, the feeds being the ones
 * with an xmlUrl. Folders become a `category` on each feed; on export feeds are written flat.
 */
import { load } from 'cheerio';

export interface OpmlFeed {
  title: string;
  xmlUrl: string;
  htmlUrl: string | null;
  category: string | null;
}

export function parseOpml(text: string): OpmlFeed[] {
  const $ = load(text, { xml: true });
  if (!$('opml').length) throw new Error('not an OPML file: no <opml> element');
  const feeds: OpmlFeed[] = [];
  const seen = new Set<string>();
  $('outline').each((_i, el) => {
    const o = $(el);
    const xmlUrl = (o.attr('xmlUrl') ?? o.attr('xmlurl') ?? '').trim();
    if (!xmlUrl) return;
    let url: URL;
    try {
      url = new URL(xmlUrl);
    } catch {
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || seen.has(url.href)) return;
    seen.add(url.href);
    const parent = o.parent('outline');
    feeds.push({
      title: (o.attr('title') ?? o.attr('text') ?? url.host).trim() || url.host,
      xmlUrl: url.href,
      htmlUrl: o.attr('htmlUrl')?.trim() || null,
      category: parent.length ? (parent.attr('title') ?? parent.attr('text') ?? null) : null,
    });
  });
  return feeds;
}

export function buildOpml(feeds: OpmlFeed[], title = 'Panoptes feeds', now = new Date()): string {
  const lines = feeds.map(
    (f) => `    <outline type="rss" text="${attr(f.title)}" title="${attr(f.title)}" xmlUrl="${attr(f.xmlUrl)}"${f.htmlUrl ? ` htmlUrl="${attr(f.htmlUrl)}"` : ''}/>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<opml version="2.0">',
    `  <head><title>${attr(title)}</title><dateCreated>${now.toUTCString()}</dateCreated></head>`,
    '  <body>',
    ...lines,
    '  </body>',
    '</opml>',
    '',
  ].join('\n');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\r\n\t]/g, ' ');
}
