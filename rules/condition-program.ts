/**
 * Conditions as flat programs: the one place their semantics live. A tree of closures costs a cache miss per node
 * once thousands of rules share the heap (each rule's closures, their contexts and arrays live apart); a program is
 * one Int32Array and one array of constants, read by a single shared interpreter that stays hot. `conditions.ts`
 * builds the tree that explain and traces walk on top of the same program (each node evaluates its own subtree).
 *
 * Layout, in prefix order. Every node starts `[op, end]`, `end` being the index just past its subtree:
 *   ALL / ANY / NOT: the children follow;
 *   LEAF: `[LEAF, end, field, test, constant]`.
 */
import type { PanoptesEvent } from '../core/event.js';
import { compilePath, type Getter } from './paths.js';
import type { Condition, LeafCondition, LeafOp, Scalar } from './schema.js';
import { UserRegex } from '../core/user-regex.js';

const getterCache = new Map<string, Getter>();
/** The getter of a field path, one per path for the whole process (shared by every rule that reads it). */
export function getter(path: string): Getter {
  let g = getterCache.get(path);
  if (!g) getterCache.set(path, (g = compilePath(path)));
  return g;
}

/** How thresholds read values: numbers as they are, numeric strings as numbers, anything else as NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

export function leafOp(c: LeafCondition): LeafOp {
  for (const k of Object.keys(c)) if (k !== 'field' && k !== 'flags' && k !== 'ignoreCase') return k as LeafOp;
  throw new Error('condition without operator');
}

const ALL = 1;
const ANY = 2;
const NOT = 3;
const LEAF = 4;

// Tests. `_CI` variants compare lower-cased values with a lower-cased constant.
const EQ = 1;
const EQ_CI = 2;
const NEQ = 3;
const NEQ_CI = 4;
const IN = 5;
const IN_CI = 6;
const CONTAINS = 7;
const CONTAINS_CI = 8;
const STARTS = 9;
const STARTS_CI = 10;
const ENDS = 11;
const ENDS_CI = 12;
const MATCHES = 13;
const GT = 14;
const GTE = 15;
const LT = 16;
const LTE = 17;
const EXISTS = 18;
const ABSENT = 19;

// Fields read straight off the event; paths under `fields.` get a shared getter each.
const TITLE = 0;
const BODY = 1;
const URL = 2;
const SOURCE = 3;
const TYPE = 4;
const TAGS = 5;
const ID = 6;
const TS = 7;
const TOP: Record<string, number> = { title: TITLE, body: BODY, url: URL, source: SOURCE, type: TYPE, tags: TAGS, id: ID, ts: TS };
const FIRST_PATH = 8;
const pathSlots = new Map<string, number>();
const pathGetters: Getter[] = [];

function fieldSlot(path: string): number {
  const top = TOP[path];
  if (top !== undefined) return top;
  let slot = pathSlots.get(path);
  if (slot === undefined) {
    slot = FIRST_PATH + pathGetters.length;
    pathSlots.set(path, slot);
    pathGetters.push(getter(path));
  }
  return slot;
}

export interface ConditionProgram {
  /** The code array this program lives in, from `base` for `size` entries (see packPrograms). */
  code: Int32Array;
  constants: unknown[];
  base: number;
  size: number;
  /** Its constants: `constants[constBase .. constBase + constCount)`; leaves hold absolute constant indexes. */
  constBase: number;
  constCount: number;
  /** Where each node starts relative to `base`, in prefix order (the order `conditions.ts` walks the tree in). */
  nodes: number[];
}

export function compileProgram(c: Condition): ConditionProgram {
  const code: number[] = [];
  const constants: unknown[] = [];
  const nodes: number[] = [];
  const emit = (node: Condition): void => {
    const at = code.length;
    nodes.push(at);
    if ('all' in node || 'any' in node) {
      code.push('all' in node ? ALL : ANY, 0);
      for (const child of 'all' in node ? node.all : node.any) emit(child);
    } else if ('not' in node) {
      code.push(NOT, 0);
      emit(node.not);
    } else {
      const [test, constant] = leafTest(node);
      constants.push(constant);
      code.push(LEAF, 0, fieldSlot(node.field), test, constants.length - 1);
    }
    code[at + 1] = code.length;
  };
  emit(c);
  return { code: Int32Array.from(code), constants, base: 0, size: code.length, constBase: 0, constCount: constants.length, nodes };
}

/**
 * Moves programs into one shared code array and one shared constants array, in the order given, and returns them.
 * With thousands of rules each program otherwise sits in arrays of its own somewhere in the heap: running one
 * cost a cache miss per array. Packed, a rule's code and constants are a slice of arrays the interpreter keeps
 * reading. The programs stay valid (they point into the shared arrays); packing again moves them again.
 */
export function packPrograms(programs: ConditionProgram[]): { code: Int32Array; constants: unknown[] } {
  const unique = [...new Set(programs)];
  const code = new Int32Array(unique.reduce((n, p) => n + p.size, 0));
  const constants: unknown[] = [];
  let at = 0;
  for (const p of unique) {
    const shift = at - p.base;
    const constShift = constants.length - p.constBase;
    for (let i = 0; i < p.constCount; i++) constants.push(p.constants[p.constBase + i]);
    code.set(p.code.subarray(p.base, p.base + p.size), at);
    // Every node's `end` is an absolute index and every leaf's constant an absolute constant index: shift both.
    for (const rel of p.nodes) {
      const pc = at + rel;
      code[pc + 1]! += shift;
      if (code[pc] === LEAF) code[pc + 4]! += constShift;
    }
    p.code = code;
    p.constants = constants;
    p.base = at;
    p.constBase += constShift;
    at += p.size;
  }
  return { code, constants };
}

/** Whether the program starting at `pc` of packed arrays holds for `e` (the engine's hot path, see packPrograms). */
export function runPacked(code: Int32Array, constants: unknown[], e: PanoptesEvent, pc: number): boolean {
  return node(code, constants, e, pc);
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

function leafTest(c: LeafCondition): [number, unknown] {
  const op = leafOp(c);
  const ci = c.ignoreCase === true;
  const value = c[op];
  switch (op) {
    case 'equals':
      return ci ? [EQ_CI, lower(value)] : [EQ, value];
    case 'notEquals':
      return ci ? [NEQ_CI, lower(value)] : [NEQ, value];
    case 'in':
      return ci ? [IN_CI, new Set((value as Scalar[]).map(lower))] : [IN, new Set(value as Scalar[])];
    case 'contains':
      return ci ? [CONTAINS_CI, (value as string).toLowerCase()] : [CONTAINS, value];
    case 'startsWith':
      return ci ? [STARTS_CI, (value as string).toLowerCase()] : [STARTS, value];
    case 'endsWith':
      return ci ? [ENDS_CI, (value as string).toLowerCase()] : [ENDS, value];
    case 'matches': {
      let flags = c.flags ?? '';
      if (ci && !flags.includes('i')) flags += 'i';
      return [MATCHES, new UserRegex(value as string, flags)];
    }
    case 'gt':
      return [GT, value];
    case 'gte':
      return [GTE, value];
    case 'lt':
      return [LT, value];
    case 'lte':
      return [LTE, value];
    case 'exists':
      return [value === true ? EXISTS : ABSENT, null];
  }
}

/** Whether the node starting at `pc` (one of `p.nodes`) holds for `e`. */
export function runNode(p: ConditionProgram, pc: number, e: PanoptesEvent): boolean {
  return node(p.code, p.constants, e, p.base + pc);
}

/** For the leaf starting at `pc`: whether it holds for a value already read (traces show that value). */
export function leafHolds(p: ConditionProgram, pc: number, v: unknown): boolean {
  return leaf(v, p.code[p.base + pc + 3]!, p.constants[p.code[p.base + pc + 4]!]);
}

function node(code: Int32Array, constants: unknown[], e: PanoptesEvent, pc: number): boolean {
  switch (code[pc]) {
    case LEAF:
      return leaf(read(code[pc + 2]!, e), code[pc + 3]!, constants[code[pc + 4]!]);
    case ALL: {
      const end = code[pc + 1]!;
      for (let c = pc + 2; c < end; c = code[c + 1]!) if (!node(code, constants, e, c)) return false;
      return true;
    }
    case ANY: {
      const end = code[pc + 1]!;
      for (let c = pc + 2; c < end; c = code[c + 1]!) if (node(code, constants, e, c)) return true;
      return false;
    }
    default:
      return !node(code, constants, e, pc + 2);
  }
}

function read(field: number, e: PanoptesEvent): unknown {
  switch (field) {
    case TITLE:
      return e.title;
    case BODY:
      return e.body;
    case URL:
      return e.url;
    case SOURCE:
      return e.source;
    case TYPE:
      return e.type;
    case TAGS:
      return e.tags;
    case ID:
      return e.id;
    case TS:
      return e.ts;
    default:
      return pathGetters[field - FIRST_PATH]!(e);
  }
}

function leaf(v: unknown, test: number, k: unknown): boolean {
  switch (test) {
    case EXISTS:
      return v !== undefined && v !== null;
    case ABSENT:
      return v === undefined || v === null;
    case EQ:
      return v === k || (Array.isArray(v) && v.includes(k));
    case NEQ:
      return !(v === k || (Array.isArray(v) && v.includes(k)));
    default:
      // Lists (tags, array fields) pass when any element passes.
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (one(v[i], test, k)) return test !== NEQ_CI;
        return test === NEQ_CI;
      }
      return test === NEQ_CI ? !one(v, EQ_CI, k) : one(v, test, k);
  }
}

/** One value against one test (NEQ_CI is tested as EQ_CI and negated by the caller). */
function one(v: unknown, test: number, k: unknown): boolean {
  switch (test) {
    case EQ_CI:
    case NEQ_CI:
      return lower(v) === k;
    case IN:
      return (k as Set<unknown>).has(v);
    case IN_CI:
      return (k as Set<unknown>).has(lower(v));
    case CONTAINS:
      return typeof v === 'string' && v.includes(k as string);
    case CONTAINS_CI:
      return typeof v === 'string' && v.toLowerCase().includes(k as string);
    case STARTS:
      return typeof v === 'string' && v.startsWith(k as string);
    case STARTS_CI:
      return typeof v === 'string' && v.toLowerCase().startsWith(k as string);
    case ENDS:
      return typeof v === 'string' && v.endsWith(k as string);
    case ENDS_CI:
      return typeof v === 'string' && v.toLowerCase().endsWith(k as string);
    case MATCHES:
      return typeof v === 'string' && (k as UserRegex).test(v);
    case GT:
      return toNumber(v) > (k as number);
    case GTE:
      return toNumber(v) >= (k as number);
    case LT:
      return toNumber(v) < (k as number);
    case LTE:
      return toNumber(v) <= (k as number);
    default:
      return false;
  }
}
