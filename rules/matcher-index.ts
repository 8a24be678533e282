/**
 * The index that makes matching cost nearly flat in the number of rules. Every rule contributes one or more
 * "matchers" (its own when/if, plus the steps of an after/sequence pattern). Each matcher is filed under the one
 * cheapest access predicate we can find among its required conditions:
 *   - equality / `in` on a field (including exact `when.source` / `when.type`): hash map value → matchers;
 *   - a glob `when` with a literal prefix: map by prefix;
 *   - a substring/regex with a required literal: n-gram map (the literal must occur in the text);
 *   - numeric thresholds: sorted arrays, binary-searched per event;
 *   - otherwise the residual list, checked for every event.
 * Per event we only evaluate the matchers that an index lookup brings up; order is restored by sorting their ids.
 */
import type { PanoptesEvent } from '../core/event.js';
import { toNumber, getter, leafOp } from './conditions.js';
import { gramCode, gramRuns, scanGrams } from './grams.js';
import { globPrefix, isGlob } from './glob.js';
import { requiredLiteral } from './regex.js';
import type { Getter } from './paths.js';
import type { Condition, LeafCondition, Match, Scalar } from './schema.js';

type Key =
  | { kind: 'eq'; path: string; ci: boolean; value: Scalar }
  | { kind: 'prefix'; path: string; prefix: string }
  | { kind: 'gram'; path: string; literal: string }
  | { kind: 'num'; path: string; above: boolean; strict: boolean; threshold: number };
/** A matcher is filed under every key of one plan (several keys = a disjunction, e.g. `in` or `any`). */
type Plan = Key[];

interface NumEntry {
  threshold: number;
  strict: boolean;
  id: number;
}
interface EqIndex {
  get: Getter;
  ci: boolean;
  map: Map<unknown, number[]>;
}
interface PrefixIndex {
  get: Getter;
  byLength: Map<number, Map<string, number[]>>;
  lengths: number[];
}
interface GramIndex {
  get: Getter;
  g3: Map<number, number[]>;
  g4: Map<number, number[]>;
}
interface NumIndex {
  get: Getter;
  /** gt/gte, ascending threshold: a value v passes a prefix of this list. */
  above: NumEntry[];
  /** lt/lte, descending threshold. */
  below: NumEntry[];
}

export interface IndexStats {
  matchers: number;
  residual: number;
  byKind: Record<string, number>;
}

export class MatcherIndex {
  private eq = new Map<string, EqIndex>();
  private prefix = new Map<string, PrefixIndex>();
  private grams = new Map<string, GramIndex>();
  private nums = new Map<string, NumIndex>();
  private residual: number[] = [];
  private eqList: EqIndex[] = [];
  private prefixList: PrefixIndex[] = [];
  private gramList: GramIndex[] = [];
  private numList: NumIndex[] = [];
  private stamp: Int32Array;
  private epoch = 0;
  private out: number[] = [];
  private readonly add = (ids: number[]) => {
    const stamp = this.stamp;
    const epoch = this.epoch;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (stamp[id] !== epoch) {
        stamp[id] = epoch;
        this.out.push(id);
      }
    }
  };
  private add1(id: number): void {
    if (this.stamp[id] !== this.epoch) {
      this.stamp[id] = this.epoch;
      this.out.push(id);
    }
  }
  readonly stats: IndexStats = { matchers: 0, residual: 0, byKind: {} };

  /** `matches[i]` is matcher i; ids are assigned in rule order so sorting ids restores rule order. */
  constructor(matches: Match[]) {
    this.stamp = new Int32Array(matches.length);
    this.stats.matchers = matches.length;
    matches.forEach((m, id) => {
      const plans = accessPlans(m);
      let best: Plan | null = null;
      let bestCost = Infinity;
      for (const p of plans) {
        const c = this.cost(p);
        if (c < bestCost) {
          bestCost = c;
          best = p;
        }
      }
      // Checking a matcher costs about as much as a lookup: past a point the residual list is cheaper.
      if (!best || bestCost > 5_000) {
        this.residual.push(id);
        this.stats.residual++;
        return;
      }
      for (const k of best) this.file(k, id);
      this.stats.byKind[best[0]!.kind] = (this.stats.byKind[best[0]!.kind] ?? 0) + 1;
    });
    for (const n of this.nums.values()) {
      n.above.sort((a, b) => a.threshold - b.threshold);
      n.below.sort((a, b) => b.threshold - a.threshold);
    }
    for (const p of this.prefix.values()) p.lengths = [...p.byLength.keys()].sort((a, b) => a - b);
    this.eqList = [...this.eq.values()];
    this.prefixList = [...this.prefix.values()];
    this.gramList = [...this.grams.values()];
    this.numList = [...this.nums.values()];
  }

  /** Ids of the matchers that may match `e`, ascending. The array is reused by the next call. */
  candidates(e: PanoptesEvent): number[] {
    this.out.length = 0;
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const add = this.add;
    for (let i = 0; i < this.eqList.length; i++) {
      const ix = this.eqList[i]!;
      const v = ix.get(e);
      if (v === undefined) continue;
      if (Array.isArray(v)) {
        for (const x of v) {
          const l = ix.map.get(ix.ci && typeof x === 'string' ? x.toLowerCase() : x);
          if (l !== undefined) add(l);
        }
      } else {
        const l = ix.map.get(ix.ci && typeof v === 'string' ? v.toLowerCase() : v);
        if (l !== undefined) add(l);
      }
    }
    for (let i = 0; i < this.prefixList.length; i++) {
      const ix = this.prefixList[i]!;
      const v = ix.get(e);
      if (typeof v !== 'string') continue;
      for (const len of ix.lengths) {
        if (len > v.length) break;
        const l = ix.byLength.get(len)!.get(v.slice(0, len));
        if (l !== undefined) add(l);
      }
    }
    for (let i = 0; i < this.gramList.length; i++) {
      const ix = this.gramList[i]!;
      const v = ix.get(e);
      const g3 = ix.g3.size ? ix.g3 : null;
      const g4 = ix.g4.size ? ix.g4 : null;
      if (typeof v === 'string') scanGrams(v, g3, g4, add);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') scanGrams(x, g3, g4, add);
    }
    for (let i = 0; i < this.numList.length; i++) {
      const ix = this.numList[i]!;
      const raw = ix.get(e);
      const vals = Array.isArray(raw) ? raw : [raw];
      for (const r of vals) {
        const v = toNumber(r);
        if (Number.isNaN(v)) continue;
        // Strict and inclusive thresholds can be equal: skip the strict ones at v, stop only past v.
        for (const n of ix.above) {
          if (n.threshold > v) break;
          if (!(n.strict && n.threshold === v)) this.add1(n.id);
        }
        for (const n of ix.below) {
          if (n.threshold < v) break;
          if (!(n.strict && n.threshold === v)) this.add1(n.id);
        }
      }
    }
    if (this.residual.length) add(this.residual);
    const out = this.out;
    if (out.length > 1) out.sort((a, b) => a - b);
    return out;
  }

  private cost(plan: Plan): number {
    let c = 0;
    for (const k of plan) c += this.keyCost(k);
    return c;
  }

  /** Expected matchers brought up per event by this key (a rough, greedy estimate from what is filed so far). */
  private keyCost(k: Key): number {
    switch (k.kind) {
      case 'eq': {
        const base = k.path === 'type' ? 3 : k.path === 'source' ? 2 : 1;
        return base + (this.eq.get(eqName(k))?.map.get(k.value)?.length ?? 0);
      }
      case 'prefix':
        return 4 + (this.prefix.get(k.path)?.byLength.get(k.prefix.length)?.get(k.prefix)?.length ?? 0) * 2;
      case 'gram':
        return 3 + this.bestGram(k).load * 2;
      case 'num': {
        const n = this.nums.get(k.path);
        return 8 + ((n ? (k.above ? n.above.length : n.below.length) : 0) >> 1);
      }
    }
  }

  private bestGram(k: Extract<Key, { kind: 'gram' }>): { code: number; len: 3 | 4; load: number } {
    const ix = this.grams.get(k.path);
    let best = { code: 0, len: 3 as 3 | 4, load: Infinity };
    const ci = true; // grams fold case for every literal; runs with non-ASCII characters are skipped for safety
    for (const run of gramRuns(k.literal, ci)) {
      const len: 3 | 4 = run.length >= 4 ? 4 : 3;
      for (let i = 0; i + len <= run.length; i++) {
        const code = gramCode(run, i, len);
        // A 4-gram is rarer in text than a 3-gram: prefer it when loads tie.
        const load = (ix ? (len === 4 ? ix.g4 : ix.g3).get(code)?.length ?? 0 : 0) + (len === 3 ? 0.5 : 0);
        if (load < best.load) best = { code, len, load };
      }
    }
    return best;
  }

  private file(k: Key, id: number): void {
    const push = <K>(m: Map<K, number[]>, key: K) => {
      const l = m.get(key);
      if (l) l.push(id);
      else m.set(key, [id]);
    };
    switch (k.kind) {
      case 'eq': {
        const name = eqName(k);
        let ix = this.eq.get(name);
        if (!ix) this.eq.set(name, (ix = { get: getter(k.path), ci: k.ci, map: new Map() }));
        push(ix.map, k.value);
        return;
      }
      case 'prefix': {
        let ix = this.prefix.get(k.path);
        if (!ix) this.prefix.set(k.path, (ix = { get: getter(k.path), byLength: new Map(), lengths: [] }));
        let m = ix.byLength.get(k.prefix.length);
        if (!m) ix.byLength.set(k.prefix.length, (m = new Map()));
        push(m, k.prefix);
        return;
      }
      case 'gram': {
        const g = this.bestGram(k);
        let ix = this.grams.get(k.path);
        if (!ix) this.grams.set(k.path, (ix = { get: getter(k.path), g3: new Map(), g4: new Map() }));
        push(g.len === 4 ? ix.g4 : ix.g3, g.code);
        return;
      }
      case 'num': {
        let ix = this.nums.get(k.path);
        if (!ix) this.nums.set(k.path, (ix = { get: getter(k.path), above: [], below: [] }));
        (k.above ? ix.above : ix.below).push({ threshold: k.threshold, strict: k.strict, id });
        return;
      }
    }
  }
}

const eqName = (k: { path: string; ci: boolean }) => (k.ci ? `${k.path}\u0001ci` : k.path);

/** Alternative ways to find this matcher; any one of them is a necessary condition for it to match. */
function accessPlans(m: Match): Plan[] {
  const plans: Plan[] = [];
  for (const field of ['source', 'type'] as const) {
    const pattern = m.when?.[field];
    if (pattern === undefined || pattern === '*') continue;
    if (!isGlob(pattern)) plans.push([{ kind: 'eq', path: field, ci: false, value: pattern }]);
    else {
      const prefix = globPrefix(pattern);
      if (prefix.length >= 2) plans.push([{ kind: 'prefix', path: field, prefix }]);
    }
  }
  if (m.if) plans.push(...conditionPlans(m.if));
  return plans;
}

function conditionPlans(c: Condition): Plan[] {
  if ('all' in c) return c.all.flatMap(conditionPlans);
  if ('any' in c) {
    // A disjunction is indexable when every branch is: file the matcher under one plan of each branch.
    const branchPlans = c.any.map(conditionPlans);
    if (branchPlans.some((p) => p.length === 0)) return [];
    return [branchPlans.map((p) => p.reduce((a, b) => (b.length < a.length ? b : a))).flat()];
  }
  if ('not' in c) return [];
  return leafPlans(c);
}

function leafPlans(c: LeafCondition): Plan[] {
  const op = leafOp(c);
  const ci = c.ignoreCase === true;
  const norm = (v: Scalar): Scalar => (ci && typeof v === 'string' ? v.toLowerCase() : v);
  switch (op) {
    case 'equals':
      return [[{ kind: 'eq', path: c.field, ci, value: norm(c.equals as Scalar) }]];
    case 'in':
      return [[...new Set((c.in as Scalar[]).map(norm))].map((value) => ({ kind: 'eq' as const, path: c.field, ci, value }))];
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const lit = c[op] as string;
      return gramRuns(lit, true).length ? [[{ kind: 'gram', path: c.field, literal: lit }]] : [];
    }
    case 'matches': {
      const lit = requiredLiteral(c.matches as string);
      return gramRuns(lit, true).length ? [[{ kind: 'gram', path: c.field, literal: lit }]] : [];
    }
    case 'gt':
    case 'gte':
      return [[{ kind: 'num', path: c.field, above: true, strict: op === 'gt', threshold: c[op] as number }]];
    case 'lt':
    case 'lte':
      return [[{ kind: 'num', path: c.field, above: false, strict: op === 'lt', threshold: c[op] as number }]];
    default:
      return [];
  }
}
