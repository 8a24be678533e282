// Reading the web monitor's filter lines (see filters.ts for what each step does): what the form and the config
// check need, at start and on every edit. Apart from filters.ts, which runs the steps, so that validating a config
// does not load cheerio, jsonpath-plus and the page machinery an idle engine never uses.
import { createRequire } from 'node:module';
import { userRegexProblem } from '../../core/user-regex.js';

// cheerio-select and xpath (with css-select, css-what, domutils: about 10 MB of RSS) are loaded by the first filter
// line checked, not with the engine: an agent without web monitors never needs them (#22: idle memory). Checks are
// synchronous (the config schema's), hence require(); cheerio-select's CommonJS build is the same code cheerio runs.
const require = createRequire(import.meta.url);

/** xpath's `parse(expr).select({ node, isHtml })` (documented in its README, missing from its .d.ts): isHtml lets
 * unprefixed names match HTML elements, which live in the XHTML namespace in a browser's DOM. */
type XPathApi = { parse(expression: string): { evaluate(options: { node: unknown; isHtml: boolean }): XPathValue } };
let xpathModule: XPathApi | undefined;
export function xpath(): XPathApi {
  return (xpathModule ??= require('xpath') as XPathApi);
}
let select: typeof import('cheerio-select').select | undefined;
/** A node set (`toArray`) or a string, number or boolean (`stringValue`). */
interface XPathValue {
  toArray?(): unknown[];
  stringValue(): string;
}

export type FilterStep =
  | { kind: 'css'; selector: string }
  | { kind: 'xpath'; expression: string }
  | { kind: 'json'; path: string }
  | { kind: 'jq'; program: string }
  | { kind: 'remove'; selector: string }
  | { kind: 'regex'; pattern: string }
  | { kind: 'ignore'; pattern: string }
  | { kind: 'sort' };

/** A filter the user wrote that cannot run on this page, said so that they can fix it. */
export class FilterError extends Error {
  override name = 'FilterError';
}

/**
 * Why a CSS selector cannot be used (css-select's own words), or null. cheerio-select is what cheerio's `$()` runs,
 * with jQuery's extensions (:first, :eq, :contains), so a selector accepted here is one the filters can run.
 */
export function cssSelectorProblem(selector: string): string | null {
  select ??= (require('cheerio-select') as typeof import('cheerio-select')).select;
  try {
    select(selector, []);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** One line of the config into a step, or a message saying what is wrong with it. */
export function parseFilter(line: string): FilterStep | string {
  const text = line.trim();
  if (!text) return 'an empty filter line';
  const m = /^(css|xpath|json|jsonpath|jq|remove|regex|ignore|sort)\s*:\s*(.*)$/is.exec(text);
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
      const problem = cssSelectorProblem(arg);
      return problem ? `the CSS selector "${arg}" is not valid: ${problem}` : { kind, selector: arg };
    }
    case 'xpath': {
      try {
        xpath().parse(arg);
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
    case 'jq': {
      // jq's own compiler (WebAssembly) is not loaded to validate a form; it runs, and says what is wrong, at the check.
      if (!jqBalanced(arg)) return `the jq program "${arg}" has an unclosed bracket, parenthesis or string`;
      return { kind: 'jq', program: arg };
    }
    case 'regex':
    case 'ignore': {
      const problem = userRegexProblem(arg, 'g');
      return problem ? `${kind}: ${problem}` : { kind, pattern: arg };
    }
  }
  return `unknown filter "${text}"`;
}

/** Brackets and double-quoted strings (with `\(…)` interpolation) closed, as jq needs them. */
function jqBalanced(s: string): boolean {
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      if (c === '\\' && s[i + 1] === '(') {
        stack.push(')s');
        inString = false;
        i++;
      } else if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '#') {
      const nl = s.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '"') inString = true;
    else if (c === '[') stack.push(']');
    else if (c === '(') stack.push(')');
    else if (c === '{') stack.push('}');
    else if (c === ']' || c === ')' || c === '}') {
      const top = stack.pop();
      if (top === ')s' && c === ')') inString = true;
      else if (top !== c) return false;
    }
  }
  return stack.length === 0 && !inString;
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
