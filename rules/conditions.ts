/**
 * Condition trees with enough metadata kept to explain afterwards which leaf passed or failed and on what value.
 * Every node evaluates through the condition's program (condition-program.ts), so there is one implementation of
 * what each operator means.
 */
import type { PanoptesEvent } from '../core/event.js';
import type { Getter } from './paths.js';
import type { Condition, LeafCondition, LeafOp } from './schema.js';
import { compileProgram, getter, leafHolds, leafOp, runNode, type ConditionProgram } from './condition-program.js';

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
  /** On the root: the whole condition as one program (what the engine runs per event). */
  program?: ConditionProgram;
}

export interface ConditionResult {
  path: string;
  result: boolean;
  /** For leaves: "title matches /v\d+/i" and the value seen (shortened). */
  test?: string;
  actual?: unknown;
}

function compileLeaf(c: LeafCondition, path: string, program: ConditionProgram, pc: number): CompiledCondition {
  const op = leafOp(c);
  const leaf: LeafInfo = { field: c.field, op, value: c[op], ignoreCase: c.ignoreCase === true };
  if (c.flags !== undefined) leaf.flags = c.flags;
  return {
    path,
    kind: 'leaf',
    test: (e) => runNode(program, pc, e),
    holds: (v) => leafHolds(program, pc, v),
    children: [],
    leaf,
    get: getter(c.field),
    text: describeLeaf(leaf),
    size: 1,
  };
}

/** The tree of a condition, each node able to evaluate its own subtree (through the condition's one program). */
export function compileCondition(c: Condition, path: string): CompiledCondition {
  const program = compileProgram(c);
  let next = 0;
  const build = (node: Condition, at: string): CompiledCondition => {
    // The program lists its nodes in the order this walk visits them.
    const pc = program.nodes[next++]!;
    const test = (e: PanoptesEvent) => runNode(program, pc, e);
    if ('all' in node || 'any' in node) {
      const kind = 'all' in node ? 'all' : 'any';
      const children = ('all' in node ? node.all : node.any).map((x, i) => build(x, `${at}.${kind}[${i}]`));
      return { path: at, kind, test, children, size: subtreeSize(children) };
    }
    if ('not' in node) {
      const child = build(node.not, `${at}.not`);
      return { path: at, kind: 'not', test, children: [child], size: 1 + child.size };
    }
    return compileLeaf(node, at, program, pc);
  };
  const root = build(c, path);
  root.program = program;
  return root;
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
