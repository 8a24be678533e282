/**
 * Rules engine benchmark (issue 3): our indexed engine vs a naive loop (every rule's compiled closures on every event)
 * vs json-rules-engine, on the same generated events and the same 10 / 100 / 1,000 / 10,000 mixed rules. Match +
 * window bookkeeping, as the issue defines the measure: ours records every firing (its rule, events, key, window and
 * the flags of the moment); a firing's actions are rendered and its trace is written when they are first read, which
 * the rule processor does for every firing after matching before it stores the trace. That rendering is timed on its
 * own below the table (µs per firing), so nothing the app pays for goes unmeasured.
 * "Firings per event" shows each implementation did its work: ours counts firings (patterns applied), the naive
 * loop counts matches after its count windows, json-rules-engine counts matching rules (it has no windows).
 * Each implementation gets an untimed warm-up first; engine time only moves forward (one event per 50 ms).
 */
import { performance } from 'node:perf_hooks';
import { Engine as JreEngine } from 'json-rules-engine';
import type { PanoptesEvent } from '../core/event.js';
import { RuleEngine, validateRules, type Rule, type Condition } from '../rules/index.js';
import { compileCondition } from '../rules/conditions.js';
import { compileGlob } from '../rules/glob.js';
import { makeEvent, makeRule } from './helpers/rule-mix.js';
import { CHUNK, eventStream } from './helpers/event-stream.js';
import { UserRegex } from '../core/user-regex.js';
import { printStateSave } from './helpers/state-save.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// ---- the naive loop: same compiled conditions, no index --------------------------------------------------------
function naiveLoop(rules: Rule[]) {
  const compiled = rules.map((r) => ({
    src: r.when?.source ? compileGlob(r.when.source) : null,
    typ: r.when?.type ? compileGlob(r.when.type) : null,
    cond: r.if ? compileCondition(r.if, '$.if').test : null,
    count: r.pattern && 'count' in r.pattern ? { n: r.pattern.count, within: 600_000, windows: new Map<string, number[]>() } : null,
  }));
  return (e: PanoptesEvent, now: number): number => {
    let fired = 0;
    for (const c of compiled) {
      if (c.src && !c.src(e.source)) continue;
      if (c.typ && !c.typ(e.type)) continue;
      if (c.cond && !c.cond(e)) continue;
      if (c.count) {
        let w = c.count.windows.get(e.source);
        if (!w) c.count.windows.set(e.source, (w = []));
        while (w.length && now - w[0]! > c.count.within) w.shift();
        w.push(now);
        if (w.length < c.count.n) continue;
        w.length = 0;
      }
      fired++;
    }
    return fired;
  };
}

// ---- json-rules-engine with the same conditions -------------------------------------------------------------------
function jreCondition(c: Condition): Record<string, unknown> {
  if ('all' in c) return { all: c.all.map(jreCondition) };
  if ('any' in c) return { any: c.any.map(jreCondition) };
  if ('not' in c) return { not: jreCondition(c.not) };
  const [fact, ...rest] = c.field.split('.');
  const base = { fact: fact!, ...(rest.length ? { path: '$.' + rest.join('.') } : {}) };
  if (c.equals !== undefined) return { ...base, operator: fact === 'tags' ? 'contains' : 'equal', value: c.equals };
  if (c.in !== undefined) return { ...base, operator: 'in', value: c.in };
  if (c.gt !== undefined) return { ...base, operator: 'greaterThan', value: c.gt };
  if (c.contains !== undefined) return { ...base, operator: 'strContains', value: c.contains };
  if (c.matches !== undefined) return { ...base, operator: 'regex', value: { source: c.matches, flags: c.flags ?? '' } };
  throw new Error('bench: unmapped condition ' + JSON.stringify(c));
}

function jreEngine(rules: Rule[]): JreEngine {
  const engine = new JreEngine([], { allowUndefinedFacts: true });
  const regexCache = new Map<string, RegExp>();
  engine.addOperator('strContains', (a: unknown, b: string) => typeof a === 'string' && a.includes(b));
  engine.addOperator('regex', (a: unknown, b: { source: string; flags: string }) => {
    let re = regexCache.get(b.source + '/' + b.flags);
    if (!re) regexCache.set(b.source + '/' + b.flags, (re = new RegExp(b.source, b.flags)));
    return typeof a === 'string' && re.test(a);
  });
  engine.addOperator('glob', (a: unknown, b: string) => typeof a === 'string' && compileGlob(b)(a));
  for (const r of rules) {
    const all: Record<string, unknown>[] = [];
    if (r.when?.source) all.push({ fact: 'source', operator: 'glob', value: r.when.source });
    if (r.when?.type) all.push({ fact: 'type', operator: 'glob', value: r.when.type });
    if (r.if) all.push(jreCondition(r.if));
    if (!all.length) all.push({ fact: 'type', operator: 'notEqual', value: '' });
    engine.addRule({ name: r.id, conditions: { all } as never, event: { type: r.id } });
  }
  return engine;
}

// ---- measurement --------------------------------------------------------------------------------------------------
interface Row {
  rules: number;
  impl: string;
  eventsPerSec: number;
  /** Lowest and highest of the rounds: how much the machine moved the number while it was measured. */
  spread: [number, number] | null;
  p50us: number;
  p99us: number;
  sampled: number;
  firingsPerEvent: number;
  heapPer10k?: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * The stream every implementation sees: the generated events in a loop, one every 50 ms of engine time, time only
 * moving forward (windows expire, absences fall due, housekeeping runs, as they would live).
 */
const STEP_MS = 50;
const ROUNDS = 7;

/**
 * Events reach the engine as the store hands them over: just parsed from their stored JSON (fresh objects and
 * strings, in cache, no hash codes computed yet). So each chunk of events is parsed first, untimed, and then
 * matched, timed; only matching counts. `run` returns how many firings (or matches) the event caused.
 * Throughput is the median of ROUNDS rounds; the spread of the rounds is reported beside it.
 */
function measureSync(lines: string[], t0: number, run: (e: PanoptesEvent, now: number) => number, budgetMs: number) {
  const st = eventStream(lines, t0, STEP_MS, run);
  // Warm-up, untimed: the JIT compiles the hot paths and the heap settles after building the rules.
  const wStart = performance.now();
  while (performance.now() - wStart < budgetMs / 4) st.chunk();
  st.fired = 0;
  const n0 = st.n;
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(st.round(budgetMs / ROUNDS));
  const timed = st.n - n0;
  const firingsPerEvent = st.fired / timed;
  rates.sort((a, b) => a - b);
  // Latency: each event timed on its own.
  const lat: number[] = [];
  const lStart = performance.now();
  while (lat.length < lines.length && performance.now() - lStart < budgetMs / 2) {
    for (const e of st.parse()) {
      const t = process.hrtime.bigint();
      run(e, t0 + st.n * STEP_MS);
      lat.push(Number(process.hrtime.bigint() - t) / 1000);
      st.n++;
    }
  }
  lat.sort((a, b) => a - b);
  return { eventsPerSec: pct(rates, 0.5), spread: [rates[0]!, rates[rates.length - 1]!] as [number, number], p50us: pct(lat, 0.5), p99us: pct(lat, 0.99), sampled: timed, firingsPerEvent };
}

/**
 * The 10-rule and 10,000-rule engines measured side by side: alternating rounds, so a machine that slows down or
 * speeds up during the run moves both alike, and the ratio is taken round by round.
 */
function sideBySide(lines: string[], t0: number, small: Rule[], large: Rule[]) {
  const streams = [small, large].map((rules) => {
    const engine = new RuleEngine({ maxTracesPerRule: 0 });
    engine.setRules(rules);
    const env = { now: 0, flags: {} as Record<string, boolean> };
    return eventStream(lines, t0, STEP_MS, (e, now) => {
      env.now = now;
      return engine.process(e, env).firings.length;
    });
  });
  for (const st of streams) st.round(1_000); // warm-up
  const pairs: [number, number][] = [];
  for (let r = 0; r < 11; r++) pairs.push([streams[0]!.round(300), streams[1]!.round(300)]);
  const ratios = pairs.map(([a, b]) => a / b).sort((x, y) => x - y);
  return { small: pct(pairs.map((p) => p[0]).sort((x, y) => x - y), 0.5), large: pct(pairs.map((p) => p[1]).sort((x, y) => x - y), 0.5), ratio: pct(ratios, 0.5), lowest: ratios[0]!, highest: ratios[ratios.length - 1]! };
}

async function measureJre(engine: JreEngine, lines: string[], budgetMs: number, maxEvents: number) {
  const facts = (e: PanoptesEvent) => ({ source: e.source, type: e.type, title: e.title, body: e.body, tags: e.tags, fields: e.fields });
  const parse = (i: number) => JSON.parse(lines[i]!) as PanoptesEvent;
  // Warm-up on a few events first, as for the others.
  for (let i = 0; i < Math.max(1, Math.floor(maxEvents / 10)); i++) await engine.run(facts(parse(lines.length - 1 - i)));
  const lat: number[] = [];
  let fired = 0;
  const start = performance.now();
  for (let i = 0; i < lines.length && i < maxEvents && performance.now() - start < budgetMs; i++) {
    const e = parse(i);
    const t = process.hrtime.bigint();
    const r = await engine.run(facts(e));
    lat.push(Number(process.hrtime.bigint() - t) / 1000);
    fired += r.events.length;
  }
  const total = lat.reduce((a, b) => a + b, 0);
  const firingsPerEvent = fired / lat.length;
  lat.sort((a, b) => a - b);
  return { eventsPerSec: lat.length / (total / 1e6), spread: null, p50us: pct(lat, 0.5), p99us: pct(lat, 0.99), sampled: lat.length, firingsPerEvent };
}

/** What the rule processor adds per firing: rendering the actions (Liquid) and writing the trace, timed one by one. */
function renderCost(lines: string[], t0: number, raw: Record<string, unknown>[]) {
  const { rules } = validateRules(raw);
  const engine = new RuleEngine({ maxTracesPerRule: 0 });
  engine.setRules(rules);
  const env = { now: 0, flags: {} as Record<string, boolean> };
  const lat: number[] = [];
  for (let i = 0; i < Math.min(lines.length, 20_000); i++) {
    env.now = t0 + i * STEP_MS;
    for (const f of engine.process(JSON.parse(lines[i]!) as PanoptesEvent, env).firings) {
      const t = process.hrtime.bigint();
      if (f.actions.length === 0 || !f.trace) throw new Error('bench: a firing without actions or trace');
      lat.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  lat.sort((a, b) => a - b);
  return { firings: lat.length, p50us: pct(lat, 0.5), p99us: pct(lat, 0.99) };
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * What linear-time matching costs on the rule mix: the same engine and rules with user patterns on RE2 (as shipped)
 * and on V8's backtracking RegExp (as before RE2), switched between alternating rounds so the machine's drift moves
 * both alike. Only the bench swaps the engine under `UserRegex.test`; the app never runs user patterns on V8's.
 */
function regexSideBySide(lines: string[], t0: number, rules: Rule[]) {
  const re2Test = UserRegex.prototype.test;
  const v8 = new WeakMap<UserRegex, RegExp>();
  let onV8 = false;
  let runs = 0;
  UserRegex.prototype.test = function (this: UserRegex, text: string): boolean {
    runs++;
    if (!onV8) return re2Test.call(this, text);
    let re = v8.get(this);
    if (!re) v8.set(this, (re = new RegExp(this.source, this.flags)));
    return re.test(text);
  };
  try {
    const engine = new RuleEngine({ maxTracesPerRule: 0 });
    engine.setRules(rules);
    const env = { now: 0, flags: {} as Record<string, boolean> };
    const st = eventStream(lines, t0, STEP_MS, (e, now) => {
      env.now = now;
      return engine.process(e, env).firings.length;
    });
    for (const mode of [false, true]) {
      onV8 = mode;
      st.round(800); // warm-up of both
    }
    const pairs: [number, number][] = [];
    const [runs0, n0] = [runs, st.n];
    for (let r = 0; r < 11; r++) {
      onV8 = false;
      const re2 = st.round(300);
      onV8 = true;
      pairs.push([re2, st.round(300)]);
    }
    const ratios = pairs.map(([a, b]) => b / a).sort((x, y) => x - y);
    const runsPerEvent = (runs - runs0) / (st.n - n0);
    return { runsPerEvent, re2: pct(pairs.map((p) => p[0]).sort((x, y) => x - y), 0.5), v8: pct(pairs.map((p) => p[1]).sort((x, y) => x - y), 0.5), ratio: pct(ratios, 0.5), lowest: ratios[0]!, highest: ratios[ratios.length - 1]! };
  } finally {
    UserRegex.prototype.test = re2Test;
  }
}

/** One pattern run on its own: the mix's patterns against titles that hold their word (so each run does real work). */
function regexRunCost(allRaw: Record<string, unknown>[]) {
  const patterns = allRaw.map((r) => (r.if as { matches?: string; flags?: string } | undefined)).filter((c): c is { matches: string; flags?: string } => typeof c?.matches === 'string').slice(0, 500);
  const pairs = patterns.map((c) => {
    const word = c.matches.replace(/\\b/g, '');
    return { re2: new UserRegex(c.matches, c.flags ?? ''), v8: new RegExp(c.matches, c.flags ?? ''), text: `Release notes: the ${word} project ships version 2.${word.length} today, with fixes` };
  });
  const time = (run: (p: (typeof pairs)[number]) => boolean) => {
    const t = performance.now();
    let hits = 0;
    for (let k = 0; k < 40; k++) for (const p of pairs) if (run(p)) hits++;
    if (hits !== 40 * pairs.length) throw new Error('a pattern missed its own word');
    return ((performance.now() - t) * 1e6) / (40 * pairs.length);
  };
  const re2: number[] = [];
  const v8: number[] = [];
  for (let r = 0; r < 11; r++) {
    re2.push(time((p) => p.re2.matches(p.text)));
    v8.push(time((p) => p.v8.test(p.text)));
  }
  re2.sort((a, b) => a - b);
  v8.sort((a, b) => a - b);
  return { patterns: pairs.length, re2ns: pct(re2, 0.5), v8ns: pct(v8, 0.5) };
}

function printRegexSideBySide(lines: string[], t0: number, allRaw: Record<string, unknown>[]) {
  const c = regexRunCost(allRaw);
  console.log(`One pattern run (the mix's first ${c.patterns} patterns on titles holding their word, 11 alternating rounds): RE2 ${c.re2ns.toFixed(0)} ns vs V8 ${c.v8ns.toFixed(0)} ns median, ${(c.re2ns / c.v8ns).toFixed(1)}×`);
  for (const size of [1_000, 10_000]) {
    const r = regexSideBySide(lines, t0, validateRules(allRaw.slice(0, size)).rules);
    const f = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`User patterns on RE2 vs V8's RegExp, ${size.toLocaleString('en-US')} rules (11 alternating rounds): ${f(r.re2)} vs ${f(r.v8)} events/s; V8 ÷ RE2 median ${r.ratio.toFixed(2)}× (rounds ${r.lowest.toFixed(2)}–${r.highest.toFixed(2)}×); ${(r.runsPerEvent * 1000).toFixed(1)} pattern runs per 1,000 events (whole-word patterns are answered by the index's word lookup without running; others run only when their required text is there)`);
  }
}

/** `--sizes=1000,10000` and `--only=panoptes` narrow a run (for profiling), `--only=side-by-side`, `--only=regex` and `--only=state` run just those; the defaults are the full table. */
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

async function main() {
  const SIZES = arg('sizes')?.split(',').map(Number) ?? [10, 100, 1_000, 10_000];
  const only = arg('only');
  const T = Date.parse('2026-03-02T10:00:00Z');
  const events = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(makeEvent(i, T + i * 50)));
  const allRaw = Array.from({ length: 10_000 }, (_, i) => makeRule(i));
  if (only === 'side-by-side') {
    const sbs = sideBySide(events, T, validateRules(allRaw.slice(0, 10)).rules, validateRules(allRaw).rules);
    console.log(`10 vs 10,000 rules side by side (11 alternating rounds): ${Math.round(sbs.small).toLocaleString('en-US')} vs ${Math.round(sbs.large).toLocaleString('en-US')} events/s, median ratio ${sbs.ratio.toFixed(2)}× (rounds ${sbs.lowest.toFixed(2)}–${sbs.highest.toFixed(2)}×)`);
    return;
  }
  if (only === 'regex') {
    printRegexSideBySide(events, T, allRaw);
    return;
  }
  if (only === 'state') {
    await printStateSave();
    return;
  }
  const rows: Row[] = [];
  for (const size of SIZES) {
    const { rules, errors } = validateRules(allRaw.slice(0, size));
    if (errors.length) throw new Error('bench rules invalid: ' + JSON.stringify(errors.slice(0, 3)));

    const before = heapUsed();
    // As the app runs it: traces are kept by the store (the rule processor renders and saves each firing's), not
    // in a second ring in the engine's memory.
    let engine: RuleEngine | null = new RuleEngine({ maxTracesPerRule: 0 });
    engine.setRules(rules);
    const heapPer10k = ((heapUsed() - before) / size) * 10_000;
    const env = { now: 0, flags: {} as Record<string, boolean> };
    const eng = engine;
    const ours = measureSync(events, T, (e, now) => {
      env.now = now;
      return eng.process(e, env).firings.length;
    }, 1_500);
    // Below 1,000 rules the difference is within the heap's own noise.
    rows.push({ rules: size, impl: 'panoptes (indexed)', ...ours, ...(size >= 1_000 ? { heapPer10k } : {}) });
    engine = null;

    if (only === 'panoptes') {
      process.stderr.write(`  ${size} rules measured\n`);
      continue;
    }
    const naive = naiveLoop(rules);
    const naiveM = measureSync(events, T, (e, now) => naive(e, now), size >= 1_000 ? 1_000 : 700);
    rows.push({ rules: size, impl: 'naive loop', ...naiveM });

    const jre = jreEngine(rules);
    const jreM = await measureJre(jre, events, size >= 1_000 ? 4_000 : 2_000, size >= 10_000 ? 40 : size >= 1_000 ? 300 : 5_000);
    rows.push({ rules: size, impl: 'json-rules-engine' + (size >= 1_000 ? ' (sampled)' : ''), ...jreM });
    process.stderr.write(`  ${size} rules measured\n`);
  }

  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));
  const lines = [
    '| rules | implementation | events/s (median) | rounds, lowest–highest | p50 µs | p99 µs | events timed | firings per event | heap per 10k rules |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.rules.toLocaleString('en-US')} | ${r.impl} | ${fmt(r.eventsPerSec)} | ${r.spread ? `${fmt(r.spread[0])}–${fmt(r.spread[1])}` : ''} | ${fmt(r.p50us)} | ${fmt(r.p99us)} | ${r.sampled.toLocaleString('en-US')} | ${r.firingsPerEvent.toFixed(3)} | ${r.heapPer10k !== undefined ? (r.heapPer10k / 1_048_576).toFixed(1) + ' MB' : ''} |`),
  ];
  console.log(lines.join('\n'));
  const render = renderCost(events, T, allRaw);
  console.log(`\nRendering a firing's actions and trace when they are read (10,000 rules, ${render.firings.toLocaleString('en-US')} firings): median ${fmt(render.p50us)} µs, p99 ${fmt(render.p99us)} µs per firing.`);
  if (only) return;
  const get = (size: number, impl: string) => rows.find((r) => r.rules === size && r.impl.startsWith(impl))!;
  const at10k = get(10_000, 'panoptes').eventsPerSec;
  const at10 = get(10, 'panoptes').eventsPerSec;
  const vsJre = get(1_000, 'panoptes').eventsPerSec / get(1_000, 'json-rules-engine').eventsPerSec;
  console.log('\nTargets:');
  console.log(`- ≥ 1,000,000 events/s at 10,000 rules: ${fmt(at10k)} ${at10k >= 1e6 ? '✓' : '✗'}`);
  const sbs = sideBySide(events, T, validateRules(allRaw.slice(0, 10)).rules, validateRules(allRaw).rules);
  console.log(`- 10,000 rules within 3× of 10 rules: ${(at10 / at10k).toFixed(2)}× slower in the table above; side by side (11 alternating rounds): ${fmt(sbs.small)} vs ${fmt(sbs.large)} events/s, median ratio ${sbs.ratio.toFixed(2)}× (rounds ${sbs.lowest.toFixed(2)}–${sbs.highest.toFixed(2)}×) ${sbs.ratio <= 3 ? '✓' : '✗'}`);
  console.log(`- ≥ 1,000× json-rules-engine at 1,000 rules: ${fmt(vsJre)}× ${vsJre >= 1000 ? '✓' : '✗'}`);
  console.log('');
  printRegexSideBySide(events, T, allRaw);
  console.log('');
  await printStateSave();
}

await main();
