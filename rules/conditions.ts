/**
 * Condition trees compiled into closures (no interpretation of the JSON per event), with enough metadata kept to
 * explain afterwards which leaf passed or failed and on what value.
 */
import type { PanoptesEvent } from '../core/event.js';
import { compilePath, type Getter } from './paths.js';
import type { Condition, LeafCondition, LeafOp, Scalar } from './schema.js';

export interface LeafInfo {
  field: string;
  op: LeafOp;
  value: unknown;
  ignoreCase: boolean;
  flags?: string;
}

export interface CompiledCondition {
  /** JSON path of this node inside the rule, e.g. `$.if.all[1]`. */
  path: string;
  kind: 'leaf' | 'all' | 'any' | 'not';
  test: (e: PanoptesEvent) => boolean;
  children: CompiledCondition[];
  leaf?: LeafInfo;
  get?: Getter;
  /** `describeLeaf(leaf)`, computed once: traces show it for every firing. */
  text?: string;
  /** For leaves: the test on a value already read (`test(e)` is `holds(get(e))`). */
  holds?: (v: unknown) => boolean;
  /** Nodes in this subtree: the number of results its trace has. */
  size: number;
}

export interface ConditionResult {
  path: string;
  result: boolean;
  /** For leaves: "title matches /v\d+/i" and the value seen (shortened). */
  test?: string;
  actual?: unknown;
}

const getterCache = new Map<string, Getter>();
export function getter(path: string): Getter {
  let g = getterCache.get(path);
  if (!g) getterCache.set(path, (g = compilePath(path)));
  return g;
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

/** A test on one value; lists (tags, array fields) pass when any element passes. */
function valueTest(c: LeafCondition, op: LeafOp, value: unknown): (v: unknown) => boolean {
  const ci = c.ignoreCase === true;
  switch (op) {
    case 'equals':
    case 'notEquals': {
      const want = ci ? lower(value) : value;
      return ci ? (v) => lower(v) === want : (v) => v === want;
    }
    case 'in': {
      const set = new Set<unknown>((c.in as Scalar[]).map((x) => (ci ? lower(x) : x)));
      return ci ? (v) => set.has(lower(v)) : (v) => set.has(v);
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const lit = ci ? (c[op] as string).toLowerCase() : (c[op] as string);
      // One closure per method: a method picked by a computed name is a slow, megamorphic lookup.
      const fold = (v: string) => (ci ? v.toLowerCase() : v);
      if (op === 'contains') return ci ? (v) => typeof v === 'string' && fold(v).includes(lit) : (v) => typeof v === 'string' && v.includes(lit);
      if (op === 'startsWith') return ci ? (v) => typeof v === 'string' && fold(v).startsWith(lit) : (v) => typeof v === 'string' && v.startsWith(lit);
      return ci ? (v) => typeof v === 'string' && fold(v).endsWith(lit) : (v) => typeof v === 'string' && v.endsWith(lit);
    }
    case 'matches': {
      let flags = c.flags ?? '';
      if (ci && !flags.includes('i')) flags += 'i';
      const re = new RegExp(c.matches as string, flags);
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'gt': {
      const t = c.gt as number;
      return (v) => toNumber(v) > t;
    }
    case 'gte': {
      const t = c.gte as number;
      return (v) => toNumber(v) >= t;
    }
    case 'lt': {
      const t = c.lt as number;
      return (v) => toNumber(v) < t;
    }
    case 'lte': {
      const t = c.lte as number;
      return (v) => toNumber(v) <= t;
    }
    case 'exists':
      throw new Error('exists is handled by the leaf');
  }
}

export function leafOp(c: LeafCondition): LeafOp {
  for (const k of Object.keys(c)) if (k !== 'field' && k !== 'flags' && k !== 'ignoreCase') return k as LeafOp;
  throw new Error('condition without operator');
}

function compileLeaf(c: LeafCondition, path: string): CompiledCondition {
  const op = leafOp(c);
  const get = getter(c.field);
  let holds: (v: unknown) => boolean;
  if (op === 'exists') {
    const want = c.exists === true;
    holds = (v) => (v !== undefined && v !== null) === want;
  } else if (op === 'equals' && c.ignoreCase !== true) {
    // The commonest leaf, written out: one call per test instead of three.
    const want = c.equals;
    holds = (v) => v === want || (Array.isArray(v) && v.includes(want));
  } else {
    // notEquals is "no value equals": the equality test on the notEquals value, negated.
    const t = valueTest(c, op === 'notEquals' ? 'equals' : op, c[op]);
    holds = op === 'notEquals' ? (v) => !(Array.isArray(v) ? v.some(t) : t(v)) : (v) => (Array.isArray(v) ? v.some(t) : t(v));
  }
  const test = (e: PanoptesEvent) => holds(get(e));
  const leaf: LeafInfo = { field: c.field, op, value: c[op], ignoreCase: c.ignoreCase === true };
  if (c.flags !== undefined) leaf.flags = c.flags;
  return { path, kind: 'leaf', test, holds, children: [], leaf, get, text: describeLeaf(leaf), size: 1 };
}

export function compileCondition(c: Condition, path: string): CompiledCondition {
  if ('all' in c) {
    const children = c.all.map((x, i) => compileCondition(x, `${path}.all[${i}]`));
    const tests = children.map((x) => x.test);
    const test =
      tests.length === 1
        ? tests[0]!
        : tests.length === 2
          ? ((a, b) => (e: PanoptesEvent) => a(e) && b(e))(tests[0]!, tests[1]!)
          : (e: PanoptesEvent) => {
              for (let i = 0; i < tests.length; i++) if (!tests[i]!(e)) return false;
              return true;
            };
    return { path, kind: 'all', test, children, size: subtreeSize(children) };
  }
  if ('any' in c) {
    const children = c.any.map((x, i) => compileCondition(x, `${path}.any[${i}]`));
    const tests = children.map((x) => x.test);
    const test = (e: PanoptesEvent) => {
      for (let i = 0; i < tests.length; i++) if (tests[i]!(e)) return true;
      return false;
    };
    return { path, kind: 'any', test, children, size: subtreeSize(children) };
  }
  if ('not' in c) {
    const child = compileCondition(c.not, `${path}.not`);
    const t = child.test;
    return { path, kind: 'not', test: (e) => !t(e), children: [child], size: 1 + child.size };
  }
  return compileLeaf(c, path);
}

function subtreeSize(children: CompiledCondition[]): number {
  let n = 1;
  for (const c of children) n += c.size;
  return n;
}

export function describeLeaf(l: LeafInfo): string {
  const v = l.op === 'matches' ? `/${String(l.value)}/${l.flags ?? ''}` : JSON.stringify(l.value);
  return `${l.field} ${l.op} ${v}${l.ignoreCase ? ' (ignoring case)' : ''}`;
}

function shorten(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 200 ? v.slice(0, 199) + '…' : v;
  if (Array.isArray(v)) return v.length === 0 ? [] : v.slice(0, 20).map(shorten);
  if (v && typeof v === 'object') {
    const s = JSON.stringify(v);
    return s.length > 200 ? s.slice(0, 199) + '…' : v;
  }
  return v;
}

/** Every node's result (no short-circuit), in document order: what a trace shows. */
export function traceCondition(c: CompiledCondition, e: PanoptesEvent, out: ConditionResult[] = []): ConditionResult[] {
  traceInto(c, e, out, out.length);
  return out;
}

/**
 * Writes the results of `c`'s subtree into `out` from index `at` (`c.size` entries) and returns the index after them.
 * A combinator's result follows from its children's, so each leaf is tested exactly once.
 */
export function traceInto(c: CompiledCondition, e: PanoptesEvent, out: ConditionResult[], at: number): number {
  if (c.leaf && c.get) {
    const v = c.get(e);
    const result = c.holds ? c.holds(v) : c.test(e);
    // One literal with every key: traces are kept, and a compact object per result keeps them small.
    out[at] = { path: c.path, result, test: c.text ?? describeLeaf(c.leaf), actual: shorten(v) };
    return at + 1;
  }
  const r: ConditionResult = { path: c.path, result: false };
  out[at] = r;
  let next = at + 1;
  const children = c.children;
  let result: boolean;
  switch (c.kind) {
    case 'all':
      result = true;
      for (let i = 0; i < children.length; i++) {
        const here = next;
        next = traceInto(children[i]!, e, out, here);
        if (!out[here]!.result) result = false;
      }
      break;
    case 'any':
      result = false;
      for (let i = 0; i < children.length; i++) {
        const here = next;
        next = traceInto(children[i]!, e, out, here);
        if (out[here]!.result) result = true;
      }
      break;
    case 'not':
      next = traceInto(children[0]!, e, out, next);
      result = !out[at + 1]!.result;
      break;
    default:
      result = c.test(e);
  }
  r.result = result;
  return next;
}

/** Why `c` is false on `e`, pointing at the deepest condition responsible (null when it passes). */
export function whyFalse(c: CompiledCondition, e: PanoptesEvent): { path: string; message: string; actual?: unknown } | null {
  if (c.test(e)) return null;
  if (c.kind === 'leaf') {
    const actual = shorten(c.get!(e));
    return { path: c.path, message: `${describeLeaf(c.leaf!)} is false (${actual === undefined ? 'the event has no such value' : `the event has ${JSON.stringify(actual)}`})`, actual };
  }
  if (c.kind === 'all') {
    for (const child of c.children) {
      const w = whyFalse(child, e);
      if (w) return w;
    }
  }
  if (c.kind === 'not') {
    const child = c.children[0]!;
    const what = child.leaf ? describeLeaf(child.leaf) : 'the condition';
    const actual = child.get ? shorten(child.get(e)) : undefined;
    return { path: child.path, message: `${what} holds, and the rule excludes that${actual !== undefined ? ` (the event has ${JSON.stringify(actual)})` : ''}`, actual };
  }
  return { path: c.path, message: 'none of the alternatives holds' };
}
