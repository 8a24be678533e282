/**
 * Feed HTML to plain text for titles and summaries: what a notification shows must be readable words, never markup
 * or script source. Apart from text.ts because it loads cheerio, which only the feed parser (loaded on the first
 * check) needs.
 */
import { load } from 'cheerio';
import { collapse } from './text.js';

const BLOCKS = 'p,div,br,li,tr,h1,h2,h3,h4,h5,h6,blockquote,pre,section,article,table,ul,ol,hr';

export function htmlToText(html: string): string {
  if (!html) return '';
  if (!/[<&]/.test(html)) return collapse(html);
  const $ = load(html, { xml: false }, false);
  // Their text is code or presentation, never something the author meant as words.
  $('script,style,noscript,template,iframe,object,embed').remove();
  $(BLOCKS).each((_i, el) => {
    $(el).after('\n');
  });
  return collapse($.root().text());
}
