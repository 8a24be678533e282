/**
 * The index that makes matching cost nearly flat in the number of rules. Every rule contributes one or more
 * "matchers" (its own when/if, plus the steps of an after/sequence pattern). Each matcher is filed under the one
 * cheapest access predicate we can find among its required conditions:
 *   - equality / `in` on a field: a string hash table, value → matchers;
 *   - a substring/regex with a required literal: the folded 3/4/5-gram map of its text field (the literal must
 *     occur in the text); `\bword\b`: the whole-word map;
 *   - numeric thresholds: sorted flat arrays, read until the first threshold the value does not pass;
 *   - in nested levels also an exact `when` source/type, or a glob's literal prefix;
 *   - otherwise it is served whole by its group (below).
 * Per event we only evaluate the matchers that an index lookup brings up; order is restored by sorting their ids.
 *
 * `when` is settled before any of that. Matchers with the same `when` form a group, and the groups a (source, type)
 * pair passes are worked out once per pair and remembered (sources and types repeat endlessly). Per event the
 * index stamps the event's groups, and a matcher found by a lookup becomes a candidate only when its group is
 * stamped: so candidates never need their `when` tested again, and a `when` alone (an absence on one source's
 * heartbeat) costs nothing per event. Top-level lookups therefore use only `if` conditions; crowded buckets may
 * still be split by an exact `when` source or type. A matcher whose `if` is a single equality, `in` or `\bword\b`
 * regex is proven by the very lookup that found it (`proven`; the scan confirms a word letter by letter), so the
 * engine skips testing it again.
 */
import type { PanoptesEvent } from '../core/event.js';
import { toNumber, getter, leafOp } from './condition-program.js';
import { fileWord, findWord, forEachWord, gramCode, gramRuns, markGram, newTextTables, replaceFound, scanText, type GramLength, type TextTables } from './grams.js';
import { compileGlob, globPrefix, isGlob } from './glob.js';
import { hashSample, ScalarTable } from './string-table.js';
import { requiredLiteral } from './regex.js';
import type { Getter } from './paths.js';
import type { Condition, LeafCondition, Match, Scalar } from './schema.js';

type Key =
  | { kind: 'eq'; path: string; ci: boolean; value: Scalar; when?: true }
  | { kind: 'prefix'; path: string; prefix: string; when?: true }
  | { kind: 'gram'; path: string; literal: string }
  | { kind: 'word'; path: string; word: string; exact: boolean }
  | { kind: 'num'; path: string; above: boolean; strict: boolean; threshold: number };
/** A matcher is filed under every key of one plan (several keys = a disjunction, e.g. `in` or `any`). */
type Plan = Key[];

interface NumEntry {
  threshold: number;
  strict: boolean;
  id: number;
}

export interface IndexStats {
  matchers: number;
  residual: number;
  byKind: Record<string, number>;
  subIndexes: number;
}

/** A bucket larger than this is indexed again by its matchers' other required conditions. */
const SPLIT_AT = 4;
const MAX_DEPTH = 4;

/** What a lookup finds: matcher ids, or (for a crowded bucket) a nested level over those matchers' other keys. */
interface Bucket {
  ids: number[];
  sub: Level | null;
}
/**
 * What a table holds once built: a bucket, or — for the commonest bucket, one matcher and no nested level — just
 * that matcher's id, which saves a hit two dependent memory reads (the bucket, its list).
 */
type Found = Bucket | number;
const sizeOf = (f: Found | undefined): number => (f === undefined ? 0 : typeof f === 'number' ? 1 : f.ids.length);
/** While a level is being built its tables hold only buckets. */
const building = (f: Found | undefined): Bucket | undefined => f as Bucket | undefined;
const compact = (b: Found): Found => (typeof b !== 'number' && b.sub === null && b.ids.length === 1 ? b.ids[0]! : b);

interface Entry {
  id: number;
  plans: Plan[];
}

/** Plans from `when` (exact source/type) only split crowded buckets: at the top level the groups settle `when`. */
const isWhenPlan = (p: Plan) => p.every((k) => 'when' in k && k.when === true);

interface EqIndex {
  slot: number;
  ci: boolean;
  map: ScalarTable<Found>;
}
interface PrefixIndex {
  slot: number;
  byLength: Map<number, Map<string, Found>>;
  lengths: number[];
  /** value → the buckets its prefixes find: sources and types repeat, so each distinct value is sliced once. */
  memo: Map<string, Found[]>;
}
/** Thresholds in flat arrays (a scan reads numbers, not one object per rule). */
interface NumList {
  thresholds: Float64Array;
  strict: Uint8Array;
  ids: Int32Array;
}
interface NumIndex {
  slot: number;
  /** gt/gte, ascending threshold: a value v passes a prefix of this list. */
  above: NumEntry[];
  /** lt/lte, descending threshold. */
  below: NumEntry[];
  aboveList: NumList;
  belowList: NumList;
}

function numList(entries: NumEntry[]): NumList {
  return { thresholds: Float64Array.from(entries, (e) => e.threshold), strict: Uint8Array.from(entries, (e) => (e.strict ? 1 : 0)), ids: Int32Array.from(entries, (e) => e.id) };
}
/** Grams and whole words of one text field, found in one pass over the text (see grams.ts). */
type TextIndex = TextTables<Found> & { slot: number };

const MEMO_MAX = 4_096;

/**
 * Field values of the event being matched, read at most once per event whatever the number of levels that look
 * at them. Paths get small integer slots when the index is built.
 */
class Slots {
  readonly paths: string[] = [];
  private readonly byPath = new Map<string, number>();
  slot(path: string): number {
    let s = this.byPath.get(path);
    if (s === undefined) {
      s = this.paths.length;
      this.paths.push(path);
      this.byPath.set(path, s);
    }
    return s;
  }
}

/**
 * One level of the index. The top level files every matcher under its cheapest key; a bucket that ends up crowded
 * (say 150 rules on `type = feed.item`) becomes a nested level that files those matchers under another of their
 * required conditions (a field value, a threshold…). Every plan is a necessary condition on its own, so any of
 * them may be used at any level.
 */
class Level {
  private eq = new Map<string, EqIndex>();
  private prefix = new Map<string, PrefixIndex>();
  private text = new Map<string, TextIndex>();
  private nums = new Map<string, NumIndex>();
  private residual: number[] = [];
  private eqList: EqIndex[] = [];
  private prefixList: PrefixIndex[] = [];
  private textList: TextIndex[] = [];
  private numList: NumIndex[] = [];
  private popularity = new Map<string, number>();
  /** The plan each matcher was filed under, so a nested level uses the others. */
  private chosen = new Map<number, Plan>();

  constructor(entries: Entry[], stats: IndexStats, depth: number, private readonly slots: Slots, bare: number[] = []) {
    // How many matchers could be filed under each equality: a value many rules test (a language, a type) finds many
    // matchers per event however they end up filed, so it is costed at that from the start.
    for (const { plans } of entries) {
      for (const p of plans) {
        for (const k of p) {
          if (k.kind !== 'eq') continue;
          const name = `${eqName(k)}\u0000${typeof k.value}\u0000${String(k.value)}`;
          this.popularity.set(name, (this.popularity.get(name) ?? 0) + 1);
        }
      }
    }
    for (const { id, plans } of entries) {
      let best: Plan | null = null;
      let bestCost = Infinity;
      for (const p of plans) {
        if (depth === 0 && isWhenPlan(p)) continue;
        const c = this.cost(p);
        if (c < bestCost) {
          bestCost = c;
          best = p;
        }
      }
      // Checking a matcher costs about as much as a lookup: past a point the residual list is cheaper.
      if (!best || bestCost > 5_000) {
        // At the top, a matcher with nothing to look up is served by its group (see `bare`).
        if (depth === 0) bare.push(id);
        else this.residual.push(id);
        continue;
      }
      this.chosen.set(id, best);
      for (const k of best) this.file(k, id);
      if (depth === 0) stats.byKind[best[0]!.kind] = (stats.byKind[best[0]!.kind] ?? 0) + 1;
    }
    for (const n of this.nums.values()) {
      n.above.sort((a, b) => a.threshold - b.threshold);
      n.below.sort((a, b) => b.threshold - a.threshold);
      n.aboveList = numList(n.above);
      n.belowList = numList(n.below);
    }
    for (const p of this.prefix.values()) p.lengths = [...p.byLength.keys()].sort((a, b) => a - b);
    this.eqList = [...this.eq.values()];
    this.prefixList = [...this.prefix.values()];
    this.textList = [...this.text.values()];
    this.numList = [...this.nums.values()];
    if (depth + 1 < MAX_DEPTH) {
      const plansOf = new Map(entries.map((e) => [e.id, e.plans]));
      const split = (f: Found) => {
        const b = building(f)!;
        if (b.ids.length <= SPLIT_AT) return;
        // Nested levels use only hash and threshold keys: scanning the text again per bucket would cost more than it saves.
        const inner = b.ids.map((id) => ({
          id,
          plans: plansOf.get(id)!.filter((p) => p !== this.chosen.get(id) && p.every((k) => k.kind === 'eq' || k.kind === 'num' || k.kind === 'prefix')),
        }));
        // Only worth it when enough of them have another condition to be filed under.
        if (inner.filter((x) => x.plans.length).length < SPLIT_AT / 2) return;
        b.sub = new Level(inner, stats, depth + 1, slots);
        stats.subIndexes++;
      };
      for (const ix of this.eqList) ix.map.forEach(split);
      for (const ix of this.prefixList) for (const m of ix.byLength.values()) m.forEach(split);
      for (const ix of this.textList) {
        ix.grams[3].forEach(split);
        ix.grams[4].forEach(split);
        ix.grams[5].forEach(split);
        forEachWord(ix, split);
      }
    }
    for (const ix of this.eqList) ix.map.replaceAll(compact);
    for (const ix of this.prefixList) for (const m of ix.byLength.values()) for (const [k, b] of m) m.set(k, compact(b));
    for (const ix of this.textList) replaceFound(ix, compact);
    this.chosen.clear();
    this.popularity.clear();
  }

  collect(ix: MatcherIndex): void {
    for (let i = 0; i < this.eqList.length; i++) {
      const eq = this.eqList[i]!;
      const v = ix.value(eq.slot);
      if (v === undefined) continue;
      if (Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) {
          const x: unknown = v[j];
          const b = eq.map.get(eq.ci && typeof x === 'string' ? x.toLowerCase() : x);
          if (b !== undefined) ix.hit(b);
        }
      } else {
        const b = eq.map.get(eq.ci && typeof v === 'string' ? v.toLowerCase() : v);
        if (b !== undefined) ix.hit(b);
      }
    }
    for (let i = 0; i < this.prefixList.length; i++) {
      const px = this.prefixList[i]!;
      const v = ix.value(px.slot);
      if (typeof v !== 'string') continue;
      let found = px.memo.get(v);
      if (found === undefined) {
        found = [];
        for (const len of px.lengths) {
          if (len > v.length) break;
          const b = px.byLength.get(len)!.get(v.slice(0, len));
          if (b !== undefined) found.push(b);
        }
        if (v.length <= 256) {
          if (px.memo.size >= MEMO_MAX) px.memo.clear();
          px.memo.set(v, found);
        }
      }
      for (let j = 0; j < found.length; j++) ix.hit(found[j]!);
    }
    for (let i = 0; i < this.textList.length; i++) {
      // Only fields some group of this event's route has filed words or grams under are scanned.
      if (ix.textOn[i] === 0) continue;
      const tx = this.textList[i]!;
      const v = ix.value(tx.slot);
      if (typeof v === 'string') scanText(v, tx, ix.hit);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') scanText(x, tx, ix.hit);
    }
    for (let i = 0; i < this.numList.length; i++) {
      const nx = this.numList[i]!;
      const raw = ix.value(nx.slot);
      if (Array.isArray(raw)) for (const r of raw) collectNum(nx, toNumber(r), ix);
      else collectNum(nx, toNumber(raw), ix);
    }
    if (this.residual.length) ix.add(this.residual);
  }

  /** Per text field (in scan order), every matcher filed under one of its words or grams. */
  textMatchers(): number[][] {
    return this.textList.map((t) => {
      const ids: number[] = [];
      const add = (b: Found) => (typeof b === 'number' ? ids.push(b) : ids.push(...b.ids));
      t.grams[3].forEach(add);
      t.grams[4].forEach(add);
      t.grams[5].forEach(add);
      forEachWord(t, add);
      return ids;
    });
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
        const filed = sizeOf(this.eq.get(eqName(k))?.map.get(k.value));
        const could = this.popularity.get(`${eqName(k)}\u0000${typeof k.value}\u0000${String(k.value)}`) ?? 0;
        return base + Math.max(filed, could >> 1);
      }
      case 'prefix':
        return 4 + sizeOf(this.prefix.get(k.path)?.byLength.get(k.prefix.length)?.get(k.prefix)) * 2;
      case 'gram':
        return 3 + this.bestGram(k).load * 2;
      case 'word': {
        const t = this.text.get(k.path);
        return 1 + sizeOf(t && findWord(t, k.word, k.exact));
      }
      case 'num': {
        const n = this.nums.get(k.path);
        // A sorted scan stops at the first threshold the value does not pass: thresholds are usually set to catch
        // the unusual value, so most events read one or two numbers whatever the list's length.
        return 4 + ((n ? (k.above ? n.above.length : n.below.length) : 0) >> 6);
      }
    }
  }

  private bestGram(k: Extract<Key, { kind: 'gram' }>): { code: number; len: GramLength; load: number } {
    const ix = this.text.get(k.path);
    let best = { code: 0, len: 3 as GramLength, load: Infinity };
    // Grams fold case for every literal; runs with non-ASCII characters are left out for safety.
    for (const run of gramRuns(k.literal, true)) {
      const len: GramLength = run.length >= 5 ? 5 : run.length === 4 ? 4 : 3;
      for (let i = 0; i + len <= run.length; i++) {
        const code = gramCode(run, i, len);
        // A longer gram is rarer in text: prefer it when loads tie.
        const load = sizeOf(ix?.grams[len].get(code)) + (5 - len) * 0.5;
        if (load < best.load) best = { code, len, load };
      }
    }
    return best;
  }

  private textIndex(path: string): TextIndex {
    let ix = this.text.get(path);
    if (!ix) this.text.set(path, (ix = { ...newTextTables<Bucket>(), slot: this.slots.slot(path) }));
    return ix;
  }

  private file(k: Key, id: number): void {
    const push = <K>(m: { get(k: K): Found | undefined; set(k: K, b: Found): void }, key: K) => {
      const b = building(m.get(key));
      if (b) {
        if (b.ids[b.ids.length - 1] !== id) b.ids.push(id);
      } else m.set(key, { ids: [id], sub: null });
    };
    switch (k.kind) {
      case 'eq': {
        const name = eqName(k);
        let ix = this.eq.get(name);
        if (!ix) this.eq.set(name, (ix = { slot: this.slots.slot(k.path), ci: k.ci, map: new ScalarTable() }));
        push(ix.map, k.value);
        return;
      }
      case 'prefix': {
        let ix = this.prefix.get(k.path);
        if (!ix) this.prefix.set(k.path, (ix = { slot: this.slots.slot(k.path), byLength: new Map(), lengths: [], memo: new Map() }));
        let m = ix.byLength.get(k.prefix.length);
        if (!m) ix.byLength.set(k.prefix.length, (m = new Map()));
        push(m, k.prefix);
        return;
      }
      case 'gram': {
        const g = this.bestGram(k);
        const ix = this.textIndex(k.path);
        push(ix.grams[g.len], g.code);
        markGram(ix, g.code, g.len);
        return;
      }
      case 'word': {
        const b = building(fileWord(this.textIndex(k.path), k.word, k.exact, (): Found => ({ ids: [], sub: null })))!;
        if (b.ids[b.ids.length - 1] !== id) b.ids.push(id);
        return;
      }
      case 'num': {
        let ix = this.nums.get(k.path);
        if (!ix) this.nums.set(k.path, (ix = { slot: this.slots.slot(k.path), above: [], below: [], aboveList: numList([]), belowList: numList([]) }));
        (k.above ? ix.above : ix.below).push({ threshold: k.threshold, strict: k.strict, id });
        return;
      }
    }
  }
}

function collectNum(nx: NumIndex, v: number, ix: MatcherIndex): void {
  if (Number.isNaN(v)) return;
  // Strict and inclusive thresholds can be equal: skip the strict ones at v, stop only past v.
  const above = nx.aboveList;
  for (let i = 0, n = above.ids.length; i < n; i++) {
    const t = above.thresholds[i]!;
    if (t > v) break;
    if (!(t === v && above.strict[i] === 1)) ix.add1(above.ids[i]!);
  }
  const below = nx.belowList;
  for (let i = 0, n = below.ids.length; i < n; i++) {
    const t = below.thresholds[i]!;
    if (t < v) break;
    if (!(t === v && below.strict[i] === 1)) ix.add1(below.ids[i]!);
  }
}

/** The groups a (source, type) pair passes, and their matchers that have nothing else to look up. */
interface Route {
  groups: Int32Array;
  bare: number[];
  /** Per top-level text field: 1 when one of these groups has matchers filed under its words or grams. */
  text: Uint8Array;
}

const ROUTES_MAX = 8_192;

export class MatcherIndex {
  private root: Level;
  private stamp: Int32Array;
  private epoch = 0;
  /** The current event's candidates: `found[0 .. count)`, reused from event to event (no array per event). */
  found = new Int32Array(256);
  private count = 0;
  private readonly getters: Getter[];
  private readonly values: unknown[];
  private readonly valueEpoch: Int32Array;
  private e: PanoptesEvent | null = null;
  /** Per matcher: its group (matchers with the same `when`). */
  private readonly groupOf: Int32Array;
  /** Per group: the epoch of the last event whose source and type it passes. */
  private readonly groupStamp: Int32Array;
  private readonly groupWhen: { source: ((s: string) => boolean) | null; type: ((t: string) => boolean) | null }[] = [];
  /** Per group: matchers with no `if` key to be filed under (served whole whenever the group is stamped). */
  private readonly groupBare: number[][] = [];
  /** Routes by (source, type), open addressing: one hash of each string, confirmed by comparing both. */
  private routeHash = new Int32Array(0);
  private routeSource: string[] = [];
  private routeType: string[] = [];
  private routeOf: Route[] = [];
  private routeCount = 0;
  /** Per matcher: 1 when a lookup that finds it proves its `if` (a lone equality or `in`, or no `if` at all). */
  readonly proven: Uint8Array;
  /** The current event's route's `text`. */
  textOn: Uint8Array = new Uint8Array(0);
  /** Per top-level text field, the groups with matchers filed under it. */
  private readonly textGroups: Set<number>[];
  readonly stats: IndexStats = { matchers: 0, residual: 0, byKind: {}, subIndexes: 0 };

  /** `matches[i]` is matcher i; ids are assigned in rule order so sorting ids restores rule order. */
  constructor(matches: Match[]) {
    this.stamp = new Int32Array(matches.length);
    this.stats.matchers = matches.length;
    this.groupOf = new Int32Array(matches.length);
    this.proven = new Uint8Array(matches.length);
    const groupIds = new Map<string, number>();
    matches.forEach((m, id) => {
      const source = m.when?.source !== undefined && m.when.source !== '*' ? m.when.source : null;
      const type = m.when?.type !== undefined && m.when.type !== '*' ? m.when.type : null;
      const name = JSON.stringify([source, type]);
      let g = groupIds.get(name);
      if (g === undefined) {
        groupIds.set(name, (g = this.groupWhen.length));
        this.groupWhen.push({ source: source === null ? null : compileGlob(source), type: type === null ? null : compileGlob(type) });
        this.groupBare.push([]);
      }
      this.groupOf[id] = g;
      if (m.if === undefined || provenByLookup(m.if)) this.proven[id] = 1;
    });
    this.groupStamp = new Int32Array(this.groupWhen.length);
    const slots = new Slots();
    const bare: number[] = [];
    this.root = new Level(matches.map((m, id) => ({ id, plans: accessPlans(m) })), this.stats, 0, slots, bare);
    for (const id of bare) {
      this.groupBare[this.groupOf[id]!]!.push(id);
      // Served whole, not found by a lookup: its `if` (if any) still has to be tested.
      if (matches[id]!.if !== undefined) this.proven[id] = 0;
    }
    this.textGroups = this.root.textMatchers().map((ids) => new Set(ids.map((id) => this.groupOf[id]!)));
    this.stats.residual = bare.length;
    this.getters = slots.paths.map(getter);
    this.values = slots.paths.map(() => undefined);
    this.valueEpoch = new Int32Array(slots.paths.length);
  }

  /** The event's value at a path slot, read once per event. */
  value(slot: number): unknown {
    if (this.valueEpoch[slot] === this.epoch) return this.values[slot];
    const v = this.getters[slot]!(this.e!);
    this.values[slot] = v;
    this.valueEpoch[slot] = this.epoch;
    return v;
  }

  add(ids: number[]): void {
    const stamp = this.stamp;
    const epoch = this.epoch;
    const groupOf = this.groupOf;
    const groupStamp = this.groupStamp;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (stamp[id] !== epoch && groupStamp[groupOf[id]!] === epoch) {
        stamp[id] = epoch;
        this.push(id);
      }
    }
  }

  add1(id: number): void {
    if (this.stamp[id] !== this.epoch && this.groupStamp[this.groupOf[id]!] === this.epoch) {
      this.stamp[id] = this.epoch;
      this.push(id);
    }
  }

  private push(id: number): void {
    if (this.count === this.found.length) {
      const grown = new Int32Array(this.found.length * 2);
      grown.set(this.found);
      this.found = grown;
    }
    this.found[this.count++] = id;
  }

  /** A bucket a lookup found: its matchers, or a walk of its nested level. Bound once, passed to the text scan. */
  readonly hit = (b: Found): void => {
    if (typeof b === 'number') this.add1(b);
    else if (b.sub === null) this.add(b.ids);
    else b.sub.collect(this);
  };

  private route(source: string, type: string): Route {
    const h = (Math.imul(hashSample(source), 0x2c1b3c6d) ^ hashSample(type)) | 1;
    const hashes = this.routeHash;
    const mask = hashes.length - 1;
    let i = h & mask;
    for (; mask > 0; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) break;
      if (x === h && this.routeSource[i] === source && this.routeType[i] === type) return this.routeOf[i]!;
    }
    // Remembered per pair; a flood of distinct sources or types only costs rebuilding routes, never unbounded memory.
    if ((this.routeCount + 1) * 2 > hashes.length) {
      const grow = hashes.length < ROUTES_MAX * 2;
      const old = { hashes, sources: this.routeSource, types: this.routeType, routes: this.routeOf };
      const cap = grow ? Math.max(64, hashes.length * 2) : hashes.length;
      this.routeHash = new Int32Array(cap);
      this.routeSource = new Array<string>(cap);
      this.routeType = new Array<string>(cap);
      this.routeOf = new Array<Route>(cap);
      this.routeCount = 0;
      // Grown: every route is kept. Full (ROUTES_MAX pairs): start over; routes are rebuilt as pairs come back.
      if (grow) for (let j = 0; j < old.hashes.length; j++) if (old.hashes[j] !== 0) this.storeRoute(old.hashes[j]!, old.sources[j]!, old.types[j]!, old.routes[j]!);
    }
    const r = this.buildRoute(source, type);
    this.storeRoute(h, source, type, r);
    return r;
  }

  private storeRoute(h: number, source: string, type: string, r: Route): void {
    const mask = this.routeHash.length - 1;
    let i = h & mask;
    while (this.routeHash[i] !== 0) i = (i + 1) & mask;
    this.routeHash[i] = h;
    this.routeSource[i] = source;
    this.routeType[i] = type;
    this.routeOf[i] = r;
    this.routeCount++;
  }

  private buildRoute(source: string, type: string): Route {
    const groups: number[] = [];
    const bare: number[] = [];
    this.groupWhen.forEach((w, g) => {
      if ((w.source === null || w.source(source)) && (w.type === null || w.type(type))) {
        groups.push(g);
        bare.push(...this.groupBare[g]!);
      }
    });
    const text = Uint8Array.from(this.textGroups, (gs) => (groups.some((g) => gs.has(g)) ? 1 : 0));
    return { groups: Int32Array.from(groups), bare: bare.sort((a, b) => a - b), text };
  }

  /**
   * How many matchers may match `e`; their ids are `found[0 .. count)`, ascending. Every one passes its `when`, and
   * those marked in `proven` also pass their `if`. `found` is overwritten by the next call.
   */
  candidates(e: PanoptesEvent): number {
    this.count = 0;
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.valueEpoch.fill(0);
      this.groupStamp.fill(0);
      this.epoch = 1;
    }
    const route = this.route(e.source, e.type);
    const groups = route.groups;
    const epoch = this.epoch;
    for (let i = 0; i < groups.length; i++) this.groupStamp[groups[i]!] = epoch;
    if (route.bare.length) this.add(route.bare);
    this.textOn = route.text;
    this.e = e;
    this.root.collect(this);
    this.e = null;
    const out = this.found;
    const n = this.count;
    if (n > 16) out.subarray(0, n).sort();
    else {
      // Usually a handful of ids: insertion sort beats calling a comparator.
      for (let i = 1; i < n; i++) {
        const x = out[i]!;
        let j = i - 1;
        while (j >= 0 && out[j]! > x) {
          out[j + 1] = out[j]!;
          j--;
        }
        out[j + 1] = x;
      }
    }
    return n;
  }
}

/**
 * A lone equality or `in` (case-sensitive or not), or a lone `\bword\b` regex: the lookup that finds the matcher
 * (a hash lookup of the value; the scan, which confirms a word letter by letter) is the whole test.
 */
function provenByLookup(c: Condition): boolean {
  if ('all' in c || 'any' in c || 'not' in c) return false;
  const op = leafOp(c);
  return op === 'equals' || op === 'in' || (op === 'matches' && wholeWord(c) !== null);
}

/**
 * `\bword\b` is the commonest watch-word regex: it holds exactly when the word is one maximal run of [A-Za-z0-9_]
 * in the text, ASCII case folded under `i` (which is what the scan finds). Not under `iu`, where \w and case
 * folding also reach a few non-ASCII letters (the long s, the Kelvin sign).
 */
function wholeWord(c: LeafCondition): { word: string; exact: boolean } | null {
  const whole = /^\\b([A-Za-z0-9_]+)\\b$/.exec(c.matches as string);
  if (!whole) return null;
  const ci = c.ignoreCase === true || /i/.test(c.flags ?? '');
  if (ci && /u/.test(c.flags ?? '')) return null;
  return { word: whole[1]!, exact: !ci };
}

const eqName = (k: { path: string; ci: boolean }) => (k.ci ? `${k.path}\u0001ci` : k.path);

/** Alternative ways to find this matcher; any one of them is a necessary condition for it to match. */
function accessPlans(m: Match): Plan[] {
  const plans: Plan[] = [];
  for (const field of ['source', 'type'] as const) {
    const pattern = m.when?.[field];
    if (pattern === undefined || pattern === '*') continue;
    if (!isGlob(pattern)) plans.push([{ kind: 'eq', path: field, ci: false, value: pattern, when: true }]);
    else {
      const prefix = globPrefix(pattern);
      if (prefix.length >= 2) plans.push([{ kind: 'prefix', path: field, prefix, when: true }]);
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
      const whole = wholeWord(c);
      if (whole) return [[{ kind: 'word', path: c.field, ...whole }]];
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
