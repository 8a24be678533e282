/** A tiny RSS document for tests, with items newest first as publishers write them. */
export function rssFeed(title: string, items: { guid: string; title: string; link: string; description?: string; /** null: an item without a date, as some feeds write them. */ pubDate?: Date | null }[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>${esc(title)}</title><link>http://example.test/</link><description>test feed</description>
${items
  .map((i) => `<item><guid>${esc(i.guid)}</guid><title>${esc(i.title)}</title><link>${esc(i.link)}</link><description>${esc(i.description ?? '')}</description>${i.pubDate === null ? '' : `<pubDate>${(i.pubDate ?? new Date()).toUTCString()}</pubDate>`}</item>`)
  .join('\n')}
</channel></rss>`;
}
