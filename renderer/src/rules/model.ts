/**
 * The rule builder edits the rule as the plain JSON value it is stored as (so the JSON tab and the form are two
 * views of one value, and keys the form does not know survive). These helpers read and write inside that value
 * by path, and name paths the way the engine's validation does (`$.if.all[0].matches`), so its errors land next
 * to the field they are about. The renderer may not import rules/schema.ts; the vocabulary below mirrors it.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };
export type Path = (string | number)[];

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function getIn(root: Json | undefined, path: Path): Json | undefined {
  let v: Json | undefined = root;
  for (const k of path) {
    if (typeof k === 'number') v = Array.isArray(v) ? v[k] : undefined;
    else v = isObject(v) && Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/**
 * A copy of `root` with `value` at `path` (containers are created on the way); `undefined` deletes the key
 * (or the array element), and an object left empty by a deletion is removed too, so the JSON stays tidy.
 */
export function setIn(root: Json | undefined, path: Path, value: Json | undefined): Json | undefined {
  if (!path.length) return value;
  const [k, ...rest] = path as [string | number, ...Path];
  if (typeof k === 'number') {
    const arr = Array.isArray(root) ? root.slice() : [];
    const next = setIn(arr[k], rest, value);
    if (next === undefined) arr.splice(k, 1);
    else arr[k] = next;
    return arr;
  }
  const obj: JsonObject = isObject(root) ? { ...root } : {};
  const next = setIn(obj[k], rest, value);
  if (next === undefined) delete obj[k];
  else obj[k] = next;
  if (value === undefined && rest.length && isObject(obj[k]) && !Object.keys(obj[k] as JsonObject).length) delete obj[k];
  return obj;
}

/** The engine's spelling of a path: `$`, `.name` for identifiers, `[0]` for indexes. */
export function jsonPath(path: Path): string {
  let out = '$';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/** A DOM id for the input that edits `path`, so an error list can link to (and focus) it. */
export function fieldId(path: Path): string {
  return 'rb-' + (path.length ? path.join('-') : 'root').replace(/[^A-Za-z0-9_-]/g, '_');
}

// ---- conditions ------------------------------------------------------------------------------------------------

export const OPERATORS = [
  { op: 'contains', label: 'contains', value: 'text' },
  { op: 'equals', label: 'equals', value: 'scalar' },
  { op: 'notEquals', label: 'does not equal', value: 'scalar' },
  { op: 'startsWith', label: 'starts with', value: 'text' },
  { op: 'endsWith', label: 'ends with', value: 'text' },
  { op: 'matches', label: 'matches regex', value: 'text' },
  { op: 'in', label: 'is one of', value: 'list' },
  { op: 'gt', label: '>', value: 'number' },
  { op: 'gte', label: '≥', value: 'number' },
  { op: 'lt', label: '<', value: 'number' },
  { op: 'lte', label: '≤', value: 'number' },
  { op: 'exists', label: 'exists', value: 'boolean' },
] as const;
export type Operator = (typeof OPERATORS)[number]['op'];
export const OPERATOR_NAMES: readonly string[] = OPERATORS.map((o) => o.op);

/** Operators for which the engine accepts `ignoreCase`. */
export const CASE_OPS = new Set<string>(['contains', 'startsWith', 'endsWith', 'matches', 'equals', 'notEquals', 'in']);

export type ConditionKind = 'leaf' | 'all' | 'any' | 'not';

export function conditionKind(c: Json | undefined): ConditionKind {
  if (isObject(c)) {
    if ('all' in c) return 'all';
    if ('any' in c) return 'any';
    if ('not' in c) return 'not';
  }
  return 'leaf';
}

export function leafOperator(c: JsonObject): Operator | null {
  return (OPERATOR_NAMES.find((op) => op in c) as Operator | undefined) ?? null;
}

export const newLeaf = (field = 'title'): JsonObject => ({ field, contains: '' });

/** Moves the leaf's value to another operator, converting it as sensibly as the new operator allows. */
export function changeOperator(c: JsonObject, to: Operator): JsonObject {
  const from = leafOperator(c);
  const old = from ? c[from] : undefined;
  const out: JsonObject = { field: c.field ?? 'title' };
  const kind = OPERATORS.find((o) => o.op === to)!.value;
  const asText = old === undefined || old === null ? '' : Array.isArray(old) ? old.join(', ') : String(old);
  if (kind === 'text') out[to] = asText;
  else if (kind === 'scalar') out[to] = typeof old === 'number' || typeof old === 'boolean' ? old : asText;
  else if (kind === 'number') out[to] = typeof old === 'number' ? old : Number(asText) || 0;
  else if (kind === 'boolean') out[to] = true;
  else out[to] = asText ? splitList(asText) : [''];
  if (c.ignoreCase !== undefined && CASE_OPS.has(to)) out.ignoreCase = c.ignoreCase;
  if (c.flags !== undefined && to === 'matches') out.flags = c.flags;
  return out;
}

export function splitList(text: string): Json[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// ---- patterns and actions --------------------------------------------------------------------------------------

export type PatternKind = 'none' | 'count' | 'absent' | 'after' | 'sequence';

export function patternKind(p: Json | undefined): PatternKind {
  if (!isObject(p)) return 'none';
  if ('sequence' in p) return 'sequence';
  if ('after' in p) return 'after';
  if ('count' in p) return 'count';
  if ('absent' in p) return 'absent';
  return 'none';
}

export function newPattern(kind: PatternKind, old: Json | undefined): JsonObject | undefined {
  const keep = isObject(old) ? { within: old.within ?? '1h', ...(old.by !== undefined ? { by: old.by } : {}) } : { within: '1h' };
  switch (kind) {
    case 'none':
      return undefined;
    case 'count':
      return { count: 3, ...keep };
    case 'absent':
      return { absent: true, ...keep };
    case 'after':
      return { after: { when: { type: '*' } }, absent: true, ...keep };
    case 'sequence':
      return { sequence: [{ when: { type: '*' } }, { when: { type: '*' } }], ...keep };
  }
}

export const ACTION_KINDS = ['notify', 'flag', 'tag', 'webhook', 'command', 'chat', 'email', 'mqtt', 'stop'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const ACTION_LABELS: Record<ActionKind, string> = {
  notify: 'Notify me',
  flag: 'Set / clear a flag',
  tag: 'Tag the event',
  webhook: 'Call a webhook',
  command: 'Run a command',
  chat: 'Send a chat message',
  email: 'Send an email',
  mqtt: 'Publish to MQTT',
  stop: 'Stop (later rules skip this event)',
};

export function actionKind(a: Json | undefined): ActionKind | null {
  return isObject(a) ? (ACTION_KINDS.find((k) => k in a) ?? null) : null;
}

export function newAction(kind: ActionKind): JsonObject {
  switch (kind) {
    case 'notify':
      return { notify: { title: '{{ title }}', body: '{{ source }}', url: '{{ url }}' } };
    case 'flag':
      return { flag: { set: 'away' } };
    case 'tag':
      return { tag: { add: ['important'] } };
    case 'webhook':
      return { webhook: { url: 'https://example.com/hook', method: 'POST', body: '{{ event | json }}' } };
    case 'command':
      return { command: { argv: ['notify-send', '{{ title }}'] } };
    case 'chat':
      return { chat: { network: '', target: '', text: '{{ title }} {{ url }}' } };
    case 'email':
      return { email: { to: '', subject: '{{ title }}', body: '{{ body }}\n{{ url }}' } };
    case 'mqtt':
      return { mqtt: { topic: 'panoptes/{{ type }}', payload: '{{ title }}' } };
    case 'stop':
      return { stop: true };
  }
}

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const TOP_LEVEL_FIELDS = ['title', 'body', 'url', 'source', 'type', 'tags', 'id', 'ts'] as const;

export const NEW_RULE: JsonObject = {
  id: 'new-rule',
  name: 'New rule',
  enabled: true,
  when: { type: 'feed.item' },
  then: [{ notify: { title: '{{ title }}', body: '{{ source }}', url: '{{ url }}' } }],
};

/** A rule id made from its name: the engine allows letters, digits and _ . : - only. */
export function slugId(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s || 'rule';
}

/** The inverse of `jsonPath`, for turning an engine issue's path back into the input that edits it. */
export function parseJsonPath(p: string): Path | null {
  if (!p.startsWith('$')) return null;
  const out: Path = [];
  const re = /\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < p.length) {
    const m = re.exec(p);
    if (!m) return null;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

/** Field paths and an example value from recent events, for the field-name suggestions. */
export function fieldsOf(events: { title: string; body: string; url: string | null; source: string; type: string; tags: string[]; fields: Record<string, unknown> }[]): Map<string, string> {
  const out = new Map<string, string>();
  const short = (v: unknown) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > 40 ? s.slice(0, 39) + '…' : s;
  };
  const walk = (prefix: string, v: unknown, depth: number) => {
    if (isObject(v as Json) && depth < 2) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(`${prefix}.${k}`, x, depth + 1);
      return;
    }
    if (!out.has(prefix) && v !== undefined && v !== null && v !== '') out.set(prefix, short(v));
  };
  for (const e of events) {
    for (const k of ['title', 'body', 'url', 'source', 'tags'] as const) if (!out.has(k) && e[k] !== null && e[k] !== '' && !(Array.isArray(e[k]) && !e[k].length)) out.set(k, short(e[k]));
    for (const [k, v] of Object.entries(e.fields ?? {})) walk(`fields.${k}`, v, 1);
  }
  return out;
}
