/** The part of a rule the rules lists read; everything else is edited as JSON and passed through untouched. */
export interface RuleLike {
  id: string;
  name?: string;
  enabled?: boolean;
  when?: { source?: string; type?: string; agent?: string };
  if?: unknown;
  context?: { flags?: Record<string, boolean>; time?: { between?: [string, string]; days?: string[] }; maintenance?: boolean };
  pattern?: Record<string, unknown>;
  throttle?: { per: string; by?: string };
  digest?: { every: string };
  then?: unknown[];
  [k: string]: unknown;
}

/** The rules Panoptes ships (seeded into a new configuration); the notification center knows them by this prefix too. */
export function isDefaultRule(r: { id: string }): boolean {
  return r.id.startsWith('default-');
}

const OPS: Record<string, string> = {
  equals: 'is',
  notEquals: 'is not',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  matches: 'matches',
  in: 'is one of',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  exists: 'exists',
};

const quote = (v: unknown) => (typeof v === 'string' ? `“${v.length > 40 ? `${v.slice(0, 39)}…` : v}”` : JSON.stringify(v));

/** A condition tree in words: `title contains “x” and (fields.price > 3 or not tags contains “y”)`. */
export function conditionWords(c: unknown, nested = false): string {
  if (!c || typeof c !== 'object') return '?';
  const o = c as Record<string, unknown>;
  for (const comb of ['all', 'any'] as const) {
    if (Array.isArray(o[comb])) {
      const parts = (o[comb] as unknown[]).map((x) => conditionWords(x, true));
      const text = parts.join(comb === 'all' ? ' and ' : ' or ');
      return nested && parts.length > 1 ? `(${text})` : text;
    }
  }
  if ('not' in o) return `not ${conditionWords(o.not, true)}`;
  const field = typeof o.field === 'string' ? o.field : '?';
  const op = Object.keys(OPS).find((k) => k in o);
  if (!op) return field;
  if (op === 'exists') return o.exists === false ? `${field} is missing` : `${field} exists`;
  const value = op === 'in' && Array.isArray(o.in) ? o.in.map(quote).join(', ') : quote(o[op]);
  return `${field} ${OPS[op]} ${value}`;
}

const DAY_NAMES: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

function patternWords(p: Record<string, unknown>): string {
  const per = typeof p.by === 'string' ? ` per ${p.by}` : '';
  const within = typeof p.within === 'string' ? p.within : '?';
  if (typeof p.count === 'number') return `${p.count} times within ${within}${per}`;
  if (Array.isArray(p.sequence)) return `${p.sequence.length} events in order within ${within}${per}`;
  if (p.after && p.absent) return `nothing within ${within} after a matching event${per}`;
  if (p.absent) return `nothing for ${within}${per}`;
  return 'a pattern';
}

function actionWords(a: unknown): string {
  if (!a || typeof a !== 'object') return '?';
  const [kind, params] = Object.entries(a as Record<string, unknown>)[0] ?? ['?', null];
  if (kind === 'notify' && params && typeof params === 'object') {
    const n = params as { channels?: unknown; priority?: unknown };
    const to = Array.isArray(n.channels) ? (n.channels.length ? ` to ${n.channels.join(', ')}` : ' (this machine only)') : '';
    return `notify${typeof n.priority === 'string' && n.priority !== 'normal' ? ` (${n.priority})` : ''}${to}`;
  }
  return kind;
}

/**
 * A rule in words, one line under its name in a list (this machine's rules and another machine's alike): what
 * starts it, its conditions, when it may fire, its pattern and pace, and what it does — so two rules with the same
 * trigger can be told apart at a glance.
 */
export function ruleSummary(r: RuleLike): string {
  const parts: string[] = [];
  const machine = r.when?.agent !== undefined ? ` on machine ${r.when.agent === '*' ? 'any' : r.when.agent}` : '';
  parts.push(`when ${r.when?.type ?? 'any type'} from ${r.when?.source ?? 'any source'}${machine}`);
  if (r.if !== undefined) parts.push(`if ${conditionWords(r.if)}`);
  const ctx = r.context;
  if (ctx?.time?.between) parts.push(`only ${ctx.time.between[0]}–${ctx.time.between[1]}`);
  if (ctx?.time?.days?.length) parts.push(`on ${ctx.time.days.map((d) => DAY_NAMES[d] ?? d).join(', ')}`);
  for (const [flag, on] of Object.entries(ctx?.flags ?? {})) parts.push(`while ${flag} is ${on ? 'on' : 'off'}`);
  if (ctx?.maintenance === false) parts.push('not during maintenance');
  if (ctx?.maintenance === true) parts.push('only during maintenance');
  if (r.pattern) parts.push(patternWords(r.pattern));
  if (r.throttle) parts.push(`at most once per ${r.throttle.per}${r.throttle.by ? ` per ${r.throttle.by}` : ''}`);
  if (r.digest) parts.push(`gathered every ${r.digest.every}`);
  const actions = (r.then ?? []).map(actionWords).join(', ') || 'no action';
  return `${parts.join(' · ')} → ${actions}`;
}

const notifies = (r: RuleLike) => (r.then ?? []).some((a) => !!a && typeof a === 'object' && 'notify' in (a as object));

/** Whether a rule only lets some of its trigger's events through (conditions, hours, flags, a pattern…). */
const narrower = (r: RuleLike) => r.if !== undefined || r.context !== undefined || r.pattern !== undefined || r.when?.source !== undefined || r.when?.agent !== undefined;

/**
 * The enabled default rules that notify for the same events as this user rule (same trigger type), when this rule
 * lets only some of them through: the default still notifies for the rest, which is rarely what someone who wrote a
 * narrower rule meant. (For events both match, the center sends one notification, not two.)
 */
export function overlappingDefaults(r: RuleLike, all: readonly RuleLike[]): RuleLike[] {
  if (isDefaultRule(r) || r.enabled === false || !notifies(r) || !r.when?.type || !narrower(r)) return [];
  return all.filter((d) => isDefaultRule(d) && d.enabled !== false && notifies(d) && d.when?.type === r.when?.type);
}
