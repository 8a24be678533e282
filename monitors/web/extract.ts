// Turns an HTML page (or the part a CSS selector picks) into the lines of text a person reads, so that a change
// in markup, attributes or whitespace alone never counts as a change of the page.
import { cssSelectorProblem } from './filter-parse.js';

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

/** Why a CSS selector cannot be used, in the words the form shows at the field; null when it parses. */
export function selectorProblem(selector: string): string | null {
  const problem = cssSelectorProblem(selector);
  return problem === null ? null : `not a valid CSS selector: ${problem}`;
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
