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
import { JqError, jqNotValid, runJq } from './jq.js';
import { UserRegex } from '../../core/user-regex.js';
import { FilterError, xpath, type FilterStep } from './filter-parse.js';
import { textOf } from './extract.js';

import { XDom, type HNode, type XNode } from './xpath-dom.js';

// What the form, the config check and the worker also import from here.
export { FilterError, parseFilter, parseFilters, type FilterStep } from './filter-parse.js';

const MAX_MATCHES = 1_000;
const INVISIBLE = 'script, style, noscript, template, iframe, object, svg, head > meta, head > link';

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
    case 'jq': {
      const json = needJson(doc, `jq:${step.program}`);
      let values: unknown[];
      try {
        values = json.values.flatMap((json) => runJq(step.program, json));
      } catch (err) {
        if (!(err instanceof JqError)) throw err;
        throw new FilterError(err.compile ? jqNotValid(step.program, err.message) : `the jq program "${step.program}" failed: ${err.message}`);
      }
      if (!values.length) throw new FilterError(`the jq program "${step.program}" produced nothing from the answer`);
      return { kind: 'json', values };
    }
    case 'json': {
      const json = needJson(doc, `json:${step.path}`);
      let values: unknown[];
      try {
        values = json.values.flatMap((json) => JSONPath({ path: step.path, json: json as object, wrap: true, eval: 'safe' }) as unknown[]);
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

function needJson(doc: Doc, what: string): Extract<Doc, { kind: 'json' }> {
  if (doc.kind === 'json') return doc;
  if (doc.kind === 'html') throw new FilterError(`${what} reads JSON, but this page is HTML; use css: or xpath: for web pages, or point the monitor at the JSON address`);
  throw new FilterError(`${what} must come before the text steps (regex, ignore, sort)`);
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
    const value = xpath().parse(expression).evaluate({ node: dom.document, isHtml: true });
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
