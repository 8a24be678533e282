/**
 * Feed text to plain text for titles and summaries (the HTML part is in html-text.ts, loaded with the parser). Feeds carry HTML in places that should be text (RSS titles,
 * Atom type="html"); what a notification shows must be readable words, never markup or script source.
 */
/** Collapse runs of spaces, keep paragraph breaks (at most one empty line), trim. */
export function collapse(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** One line, for titles. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Shorten on a word boundary, with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd() + '…';
}

/** Looks like markup or an entity, so it must go through the HTML path rather than be shown as-is. */
export function looksLikeHtml(text: string): boolean {
  return /<\/?[a-z][a-z0-9]*[\s/>]|&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]+);/i.test(text);
}
