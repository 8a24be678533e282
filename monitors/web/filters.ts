// The web monitor's filter chain: what to keep of a page before comparing it with the last version. One step per
// line, written like changedetection.io's include filters so a user can bring theirs over:
//
//   css:#prices            (or a bare selector)    keep what a CSS selector matches
//   xpath://div[@id="x"]   (or a line starting /)  keep what an XPath expression matches (over cheerio's tree, see xpath-dom.ts)
//   json:$.items[*].price  (or a line starting $)  keep what a JSONPath matches in a JSON answer
//   remove:.ad, .banner                            drop the elements a CSS selector matches
//   regex:(?<price>\d+\.\d+)                       keep only the matches; named groups become event fields
//   ignore:^Updated                                drop the lines a pattern matches
//   sort                                           sort the lines (for lists whose order changes but not content)
//
// Steps run in order on the page as a document (HTML or JSON) until the first text step (regex, ignore, sort), which
// turns it into the lines a person reads. User patterns run on RE2 (core/user-regex.ts); JSONPath filter
// expressions run on jsonpath-plus's own safe evaluator, never JavaScript's eval.
import * as cheerio from 'cheerio';
import { JSONPath } from 'jsonpath-plus';
import xpathModule from 'xpath';
import { UserRegex, userRegexProblem } from '../../core/user-regex.js';
import { textOf } from './extract.js';
import { XDom, type HNode, type XNode } from './xpath-dom.js';

/** xpath's `parse(expr).select({ node, isHtml })` (documented in its README, missing from its .d.ts): isHtml lets
 * unprefixed names match HTML elements, which live in the XHTML namespace in a browser's DOM. */
const xpath = xpathModule as unknown as { parse(expression: string): { evaluate(options: { node: unknown; isHtml: boolean }): XPathValue } };
/** A node set (`toArray`) or a string, number or boolean (`stringValue`). */
interface XPathValue {
  toArray?(): unknown[];
  stringValue(): string;
}

export type FilterStep =
  | { kind: 'css'; selector: string }
  | { kind: 'xpath'; expression: string }
  | { kind: 'json'; path: string }
  | { kind: 'remove'; selector: string }
  | { kind: 'regex'; pattern: string }
  | { kind: 'ignore'; pattern: string }
  | { kind: 'sort' };

/** A filter the user wrote that cannot run on this page, said so that they can fix it. */
export class FilterError extends Error {
  override name = 'FilterError';
}

const MAX_MATCHES = 1_000;
const INVISIBLE = 'script, style, noscript, template, iframe, object, svg, head > meta, head > link';

/** One line of the config into a step, or a message saying what is wrong with it. */
export function parseFilter(line: string): FilterStep | string {
  const text = line.trim();
  if (!text) return 'an empty filter line';
  const m = /^(css|xpath|json|jsonpath|remove|regex|ignore|sort)\s*:\s*(.*)$/is.exec(text);
  let kind = m?.[1]?.toLowerCase();
  let arg = m ? m[2]!.trim() : text;
  if (!m) {
    if (/^sort$/i.test(text)) return { kind: 'sort' };
    kind = text.startsWith('/') || text.startsWith('(') ? 'xpath' : text.startsWith('$') ? 'json' : 'css';
  }
  if (kind === 'sort') return { kind: 'sort' };
  if (!arg) return `"${kind}:" needs something after the colon`;
  switch (kind) {
    case 'css':
    case 'remove': {
      const problem = cssProblem(arg);
      return problem ? `the CSS selector "${arg}" is not valid: ${problem}` : { kind, selector: arg };
    }
    case 'xpath': {
      try {
        xpath.parse(arg);
      } catch (err) {
        return `the XPath "${arg}" is not valid: ${(err as Error).message.replace(/^XPath parse error$/, 'it could not be parsed')}`;
      }
      return { kind: 'xpath', expression: arg };
    }
    case 'json':
    case 'jsonpath': {
      if (!arg.startsWith('$')) return `the JSONPath "${arg}" must start with $ (the whole document), e.g. $.items[*].price`;
      if (!balanced(arg)) return `the JSONPath "${arg}" has an unclosed bracket or quote`;
      return { kind: 'json', path: arg };
    }
    case 'regex':
    case 'ignore': {
      const problem = userRegexProblem(arg, 'g');
      return problem ? `${kind}: ${problem}` : { kind, pattern: arg };
    }
  }
  return `unknown filter "${text}"`;
}

function cssProblem(selector: string): string | null {
  try {
    cheerio.load('')(selector);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function balanced(s: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    if (depth < 0) return false;
  }
  return depth === 0 && !quote;
}

/** Parse every step or throw one FilterError naming the first bad line. */
export function parseFilters(lines: readonly string[]): FilterStep[] {
  return lines.map((l, i) => {
    const step = parseFilter(l);
    if (typeof step === 'string') throw new FilterError(`filter ${i + 1}: ${step}`);
    return step;
  });
}

export interface Page {
  body: Buffer | string;
  contentType: string;
  charset?: string | undefined;
}

export interface Filtered {
  lines: string[];
  /** Named groups of regex steps (first match of each), to put in the event's fields. */
  fields: Record<string, string>;
}

type Doc =
  | { kind: 'html'; $: cheerio.CheerioAPI; nodes: unknown[] }
  | { kind: 'json'; values: unknown[] }
  | { kind: 'text'; lines: string[] };

/** Run the chain on a page and return the lines to compare. Throws FilterError with a message for the user. */
export function applyFilters(page: Page, steps: readonly FilterStep[]): Filtered {
  let doc = load(page);
  const fields: Record<string, string> = {};
  for (const step of steps) doc = applyStep(doc, step, fields);
  return { lines: toLines(doc), fields };
}

function load(page: Page): Doc {
  const isJson = /^application\/([\w.+-]+\+)?json\b/i.test(page.contentType) || /^text\/json\b/i.test(page.contentType);
  const text = typeof page.body === 'string' ? page.body : null;
  if (isJson || (!page.contentType && /^\s*[[{]/.test(text ?? (page.body as Buffer).subarray(0, 64).toString('utf8')))) {
    const raw = text ?? page.body.toString('utf8');
    try {
      return { kind: 'json', values: [JSON.parse(raw.replace(/^\uFEFF/, ''))] };
    } catch (err) {
      if (isJson) throw new FilterError(`the answer says it is JSON but is not valid JSON: ${(err as Error).message}`);
    }
  }
  // For bytes, cheerio sniffs the encoding (BOM, then the HTTP charset, then <meta charset>) like a browser does.
  const $ = text !== null ? cheerio.load(text) : cheerio.loadBuffer(page.body as Buffer, page.charset ? { encoding: { transportLayerEncodingLabel: page.charset } } : {});
  $(INVISIBLE).remove();
  return { kind: 'html', $, nodes: $.root().toArray() };
}

function applyStep(doc: Doc, step: FilterStep, fields: Record<string, string>): Doc {
  switch (step.kind) {
    case 'css':
    case 'remove': {
      const html = needHtml(doc, step.kind === 'css' ? `css:${step.selector}` : `remove:${step.selector}`);
      let found;
      try {
        found = html.$(html.nodes as never).find(step.selector);
      } catch (err) {
        throw new FilterError(`the CSS selector "${step.selector}" is not valid: ${(err as Error).message}`);
      }
      if (step.kind === 'remove') {
        found.remove();
        return html;
      }
      if (!found.length) throw new FilterError(`the CSS selector "${step.selector}" matched nothing on the page`);
      return { kind: 'html', $: html.$, nodes: found.toArray() };
    }
    case 'xpath':
      return runXpath(needHtml(doc, `xpath:${step.expression}`), step.expression);
    case 'json': {
      if (doc.kind !== 'json') {
        throw new FilterError(
          doc.kind === 'html'
            ? `json:${step.path} reads JSON, but this page is HTML; use css: or xpath: for web pages, or point the monitor at the JSON address`
            : `json:${step.path} must come before the text steps (regex, ignore, sort)`,
        );
      }
      let values: unknown[];
      try {
        values = doc.values.flatMap((json) => JSONPath({ path: step.path, json: json as object, wrap: true, eval: 'safe' }) as unknown[]);
      } catch (err) {
        throw new FilterError(`the JSONPath "${step.path}" failed: ${(err as Error).message.replace(/^jsonPath: /, '')}`);
      }
      if (!values.length) throw new FilterError(`the JSONPath "${step.path}" matched nothing in the answer`);
      return { kind: 'json', values };
    }
    case 'regex': {
      const re = new UserRegex(step.pattern, 'g');
      const lines: string[] = [];
      for (const line of toLines(doc)) {
        for (const m of re.execAll(line, MAX_MATCHES - lines.length)) {
          if (m[0]) lines.push(m[0]);
          for (const [name, value] of Object.entries(m.groups ?? {})) if (value !== undefined && !(name in fields)) fields[name] = value;
        }
        if (lines.length >= MAX_MATCHES) break;
      }
      return { kind: 'text', lines };
    }
    case 'ignore': {
      const re = new UserRegex(step.pattern, '');
      return { kind: 'text', lines: toLines(doc).filter((l) => !re.test(l)) };
    }
    case 'sort':
      return { kind: 'text', lines: [...toLines(doc)].sort((a, b) => a.localeCompare(b)) };
  }
}

function needHtml(doc: Doc, what: string): Extract<Doc, { kind: 'html' }> {
  if (doc.kind === 'html') return doc;
  if (doc.kind === 'json') throw new FilterError(`${what} reads HTML, but this answer is JSON; use json:$.path to pick from it`);
  throw new FilterError(`${what} must come before the text steps (regex, ignore, sort)`);
}

/**
 * XPath 1.0 over the page as cheerio parsed it (as a browser does), unprefixed names matching HTML elements in any
 * case. Elements found stay part of the document for the next step; text, attributes and computed values
 * (count(), string()) become lines.
 */
function runXpath(doc: Extract<Doc, { kind: 'html' }>, expression: string): Doc {
  const dom = new XDom(doc.nodes as HNode[]);
  let result: XNode[] | string;
  try {
    const value = xpath.parse(expression).evaluate({ node: dom.document, isHtml: true });
    result = typeof value.toArray === 'function' ? (value.toArray() as XNode[]) : value.stringValue();
  } catch (err) {
    throw new FilterError(`the XPath "${expression}" failed: ${(err as Error).message}`);
  }
  if (!Array.isArray(result)) return { kind: 'text', lines: String(result).split('\n').map((l) => l.trim()).filter(Boolean) };
  if (!result.length) throw new FilterError(`the XPath "${expression}" matched nothing on the page`);
  if (result.every((n) => n.nodeType === 1)) return { kind: 'html', $: doc.$, nodes: result.map((n) => n.node) };
  const lines = result.flatMap((n) => (n.nodeType === 1 || n.nodeType === 9 ? doc.$(n.node as never).text() : (n.nodeValue ?? '')).split('\n')).map((l) => l.replace(/\s+/g, ' ').trim());
  return { kind: 'text', lines: lines.filter(Boolean) };
}

/** What a person reads: HTML as rendered text, JSON values one per line (objects pretty-printed, keys in order). */
function toLines(doc: Doc): string[] {
  if (doc.kind === 'text') return doc.lines;
  if (doc.kind === 'html') return textOf(doc.nodes);
  return doc.values.flatMap((v) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2) ?? 'null';
    return s.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim());
  });
}
