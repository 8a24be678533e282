// Turns an HTML page (or the part a CSS selector picks) into the lines of text a person reads, so that a change
// in markup, attributes or whitespace alone never counts as a change of the page.
import * as cheerio from 'cheerio';

/** The few properties of a parsed node we read (cheerio's node types come from a transitive dependency). */
interface DomNode {
  type: string;
  data?: string;
  name?: string;
  children?: DomNode[];
  attribs?: Record<string, string>;
}

const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'details', 'div', 'dl', 'dt', 'fieldset', 'figcaption',
  'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p',
  'pre', 'section', 'summary', 'table', 'tbody', 'thead', 'tfoot', 'tr', 'caption', 'ul', 'option', 'body', 'title',
]);
const INVISIBLE = 'script, style, noscript, template, iframe, object, svg, head > meta, head > link';

export class SelectorError extends Error {}

/** Why a CSS selector cannot be used, in the words the form shows at the field; null when it parses. */
export function selectorProblem(selector: string): string | null {
  try {
    cheerio.load('')(selector);
    return null;
  } catch (err) {
    return `not a valid CSS selector: ${(err as Error).message}`;
  }
}

/** The visible text of `html` (of the elements `selector` matches, if given), one trimmed non-empty line per block. */
export function extractText(html: string | Buffer, selector?: string, charset?: string): string[] {
  // For bytes, cheerio sniffs the encoding (BOM, then the HTTP charset, then <meta charset>) like a browser does.
  const $ = typeof html === 'string' ? cheerio.load(html) : cheerio.loadBuffer(html, charset ? { encoding: { transportLayerEncodingLabel: charset } } : {});
  $(INVISIBLE).remove();
  let roots: DomNode[];
  if (selector) {
    try {
      roots = $(selector).toArray() as unknown as DomNode[];
    } catch (err) {
      throw new SelectorError(`the CSS selector "${selector}" is not valid: ${(err as Error).message}`);
    }
    if (!roots.length) throw new SelectorError(`the CSS selector "${selector}" matched nothing on the page`);
  } else {
    roots = $.root().toArray() as unknown as DomNode[];
  }
  return textOf(roots);
}

/**
 * The lines a person reads in these nodes: one per block element, table cells of a row on one line ("Apples | 1.20")
 * as they appear side by side on screen, image alt text where the image stands, whitespace collapsed.
 */
export function textOf(roots: readonly unknown[]): string[] {
  const parts: string[] = [];
  const walk = (node: DomNode): void => {
    if (node.type === 'text') {
      parts.push(node.data ?? '');
      return;
    }
    if (node.type === 'comment' || node.type === 'directive') return;
    const name = node.name?.toLowerCase();
    if (name && INVISIBLE_TAGS.has(name)) return;
    if (name === 'img') {
      const alt = node.attribs?.['alt']?.trim();
      if (alt) parts.push(` ${alt} `);
      return;
    }
    if (name === 'td' || name === 'th') {
      parts.push(CELL);
      for (const child of node.children ?? []) walk(child);
      return;
    }
    const block = name ? BLOCK.has(name) : false;
    if (block) parts.push('\n');
    for (const child of node.children ?? []) walk(child);
    if (block) parts.push('\n');
  };
  for (const r of roots as DomNode[]) {
    walk(r);
    parts.push('\n');
  }
  return parts
    .join('')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .map((l) => l.split(CELL).map((c) => c.trim()).filter(Boolean).join(' | '))
    .filter((l) => l.length > 0);
}

/** Marks where a table cell starts; a private-use character never found in pages' text. */
const CELL = '\uE000';
const INVISIBLE_TAGS = new Set(['script', 'style', 'noscript', 'template', 'iframe', 'object', 'svg']);

/** Remove what the user said to ignore (counters, timestamps, ads) from each line; lines left empty disappear. */
export function applyIgnore(lines: string[], patterns: { replace(s: string, by: string): string }[]): string[] {
  if (!patterns.length) return lines;
  const out: string[] = [];
  for (const line of lines) {
    let l = line;
    for (const p of patterns) l = p.replace(l, '');
    l = l.replace(/\s+/g, ' ').trim();
    if (l) out.push(l);
  }
  return out;
}
