/**
 * Liquid templates in actions. One shared, locked-down instance: unknown filters are errors (found at validation),
 * no file system (include/render/layout are refused), own properties only, and limits on parse/render work so a
 * template over a huge event cannot stall the engine.
 */
import { Liquid, type Template } from 'liquidjs';

const liquid = new Liquid({
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  templates: {},
  parseLimit: 100_000,
  renderLimit: 200,
  memoryLimit: 10_000_000,
  cache: false,
  // Without a locale liquidjs asks Intl for the system's at construction, which maps ICU's locale data (~7 MB
  // resident) into every engine at start (#22). The same value is looked up on first use instead (the `date` filter).
  locale: 'en-US',
});
let systemLocale: string | undefined;
Object.defineProperty(liquid.options, 'locale', {
  get: () => (systemLocale ??= new Intl.DateTimeFormat().resolvedOptions().locale ?? 'en-US'),
  enumerable: true,
});
for (const tag of ['include', 'render', 'layout']) {
  liquid.registerTag(tag, {
    parse() {
      throw new Error(`the "${tag}" tag is not available in rule templates`);
    },
    *render() {
      return '';
    },
  });
}

const compiled = new Map<string, Template[]>();

/** Parse (and remember) a template; throws with liquidjs' message for unknown filters or bad syntax. */
export function compileTemplate(source: string): Template[] {
  let t = compiled.get(source);
  if (!t) {
    t = liquid.parse(source);
    compiled.set(source, t);
  }
  return t;
}

export function templateProblem(source: unknown): string | null {
  if (typeof source !== 'string') return 'a template is a string';
  if (source.length > 20_000) return 'template is longer than 20000 characters';
  try {
    compileTemplate(source);
    return null;
  } catch (err) {
    return `template: ${(err as Error).message}`;
  }
}

/**
 * Most templates are plain text around bare variables (`{{ title }}`, `Mail from {{ fields.from }}`). Those are
 * rendered by looking the values up directly, which is what liquidjs would do for them, without its generator
 * machinery; anything else (filters, tags, whitespace control, literals, a value that is not a plain string or number)
 * goes through liquidjs. `parts` alternates text and dotted paths: text, path, text, …, text.
 */
interface FastTemplate {
  parts: (string | string[])[];
}

const fastCache = new Map<string, FastTemplate | null>();
const OUTPUT = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
/** Words liquidjs reads as literals rather than variables. */
const LITERALS = new Set(['nil', 'null', 'empty', 'blank', 'true', 'false']);

function fastTemplate(source: string): FastTemplate | null {
  const cached = fastCache.get(source);
  if (cached !== undefined) return cached;
  const parts: (string | string[])[] = [];
  let last = 0;
  let ok = true;
  for (const m of source.matchAll(OUTPUT)) {
    const text = source.slice(last, m.index);
    const path = m[1]!.split('.');
    if (text.includes('{{') || text.includes('{%') || LITERALS.has(path[0]!)) ok = false;
    parts.push(text, path);
    last = m.index + m[0].length;
  }
  const tail = source.slice(last);
  if (tail.includes('{{') || tail.includes('{%')) ok = false;
  parts.push(tail);
  const t = ok ? { parts } : null;
  if (fastCache.size < 10_000) fastCache.set(source, t);
  return t;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** A plain data object as liquidjs would read it with ownPropertyOnly (no Drop, no toLiquid, no accessor magic). */
function isPlainData(o: unknown): o is Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  const proto = Object.getPrototypeOf(o);
  return (proto === Object.prototype || proto === null) && typeof (o as { toLiquid?: unknown }).toLiquid !== 'function';
}

/** The rendered text, or null when the fast path does not apply to these values. */
function renderFast(t: FastTemplate, scope: Record<string, unknown>): string | null {
  const parts = t.parts;
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) {
    const path = parts[i] as string[];
    let v: unknown = scope;
    for (let j = 0; j < path.length; j++) {
      if (!isPlainData(v) || !hasOwn.call(v, path[j]!)) return null;
      v = v[path[j]!];
    }
    if (typeof v === 'string') out += v;
    else if (typeof v === 'number') out += String(v);
    else return null;
    out += parts[i + 1] as string;
  }
  return out;
}

/** Render synchronously; a failing render yields '' and the error, which goes into the trace. */
export function renderTemplate(source: string, scope: Record<string, unknown>): { text: string; error?: string } {
  try {
    return { text: renderOrThrow(source, scope) };
  } catch (err) {
    return { text: '', error: (err as Error).message };
  }
}

/**
 * The engine's entry: the text of action `action`'s template at `where` (e.g. `notify.title`), or '' with
 * `$.then[action].where: message` pushed onto `errors` when rendering fails.
 */
export function renderInto(source: string, scope: Record<string, unknown>, errors: string[], action: number, where: string): string {
  try {
    return renderOrThrow(source, scope);
  } catch (err) {
    const message = (err as Error).message;
    if (message) errors.push(`$.then[${action}].${where}: ${message}`);
    return '';
  }
}

/** liquidjs alone, without the fast path: the reference the fast path must agree with (tests compare them). */
export function renderWithLiquid(source: string, scope: Record<string, unknown>): string {
  return String(liquid.renderSync(compileTemplate(source), scope));
}

function renderOrThrow(source: string, scope: Record<string, unknown>): string {
  if (!source.includes('{')) return source;
  const fast = fastTemplate(source);
  if (fast) {
    const text = renderFast(fast, scope);
    if (text !== null) return text;
  }
  return renderWithLiquid(source, scope);
}

/** Filters that hand a template whole objects (all of an event's fields at once): `{{ events | json }}`, `map`, … */
const WHOLE_OBJECT_FILTERS = /\|\s*(json|inspect|map|where|where_exp|find|find_exp|find_index|group_by|group_by_exp|sort|sort_natural|uniq|compact|concat|reject|reject_exp|has|has_exp)\b/;

const TAG = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
const FIELDS = /\bfields\b(?:\s*\.\s*([A-Za-z_][\w-]*)|\s*\[\s*(['"])([^'"]*)\2\s*\])?/g;

/**
 * Which of an event's `fields` a template can read: the names it writes (`fields.host`, `e.fields["a b"]`), or
 * `all` when it reads `fields` as a whole, by a computed key, or through a filter that takes whole objects. What
 * rule windows keep of each event follows from this (rules/event-ref.ts). Read from the text of its tags, not by
 * liquidjs' analysis: that took most of a millisecond a template, seconds for a config of 14,000 rules.
 */
export function templateFieldUse(source: string): { names: string[]; all: boolean } {
  if (!source.includes('{')) return { names: [], all: false };
  if (WHOLE_OBJECT_FILTERS.test(source)) return { names: [], all: true };
  const names = new Set<string>();
  for (const tag of source.matchAll(TAG)) {
    const code = tag[1] ?? tag[2] ?? '';
    for (const m of code.matchAll(FIELDS)) {
      const name = m[1] ?? m[3];
      if (name === undefined) return { names: [], all: true };
      names.add(name);
    }
  }
  return { names: [...names], all: false };
}
