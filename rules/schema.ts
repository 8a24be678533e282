/**
 * The rule format (the public contract, documented in docs/rules.md) as zod schemas, plus the checks zod cannot
 * express directly: exactly one operator per condition leaf, regex safety, template filters, durations. Every
 * problem is reported with a JSON path like `$.if.all[0].matches`, and a bad rule never stops the others.
 */
import { z } from 'zod';
import { isDuration } from '../core/duration.js';
import { jsonPath } from '../core/json-path.js';
import { fieldPathProblem } from './paths.js';
import { regexProblem } from './regex.js';
import { templateProblem } from './templates.js';
import type { RuleActionSpec } from '../core/action.js';

export type Scalar = string | number | boolean | null;

export const LEAF_OPS = ['equals', 'notEquals', 'contains', 'startsWith', 'endsWith', 'matches', 'in', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
export type LeafOp = (typeof LEAF_OPS)[number];

export interface LeafCondition {
  field: string;
  equals?: Scalar;
  notEquals?: Scalar;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  matches?: string;
  flags?: string;
  in?: Scalar[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  exists?: boolean;
  ignoreCase?: boolean;
}
export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

type Ctx = z.RefinementCtx;
type Path = (string | number)[];

const MAX_DEPTH = 32;
const STRING_OPS = new Set(['contains', 'startsWith', 'endsWith', 'matches']);
const NUMERIC_OPS = new Set(['gt', 'gte', 'lt', 'lte']);
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function issue(ctx: Ctx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', message, path });
}

function checkCondition(v: unknown, path: Path, ctx: Ctx, depth = 0): void {
  if (depth > MAX_DEPTH) return issue(ctx, path, `conditions nest deeper than ${MAX_DEPTH} levels`);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return issue(ctx, path, 'a condition is an object: {"field": …, OP: …} or {"all"|"any": [...]} or {"not": {...}}');
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  for (const comb of ['all', 'any'] as const) {
    if (comb in o) {
      if (keys.length !== 1) return issue(ctx, path, `"${comb}" cannot be combined with other keys (${keys.filter((k) => k !== comb).join(', ')})`);
      const list = o[comb];
      if (!Array.isArray(list) || list.length === 0) return issue(ctx, [...path, comb], `"${comb}" takes a non-empty array of conditions`);
      list.forEach((c, i) => checkCondition(c, [...path, comb, i], ctx, depth + 1));
      return;
    }
  }
  if ('not' in o) {
    if (keys.length !== 1) return issue(ctx, path, '"not" cannot be combined with other keys');
    return checkCondition(o.not, [...path, 'not'], ctx, depth + 1);
  }
  if (!('field' in o)) return issue(ctx, path, 'a condition needs "field" (or is an "all"/"any"/"not" group)');
  const fp = fieldPathProblem(o.field);
  if (fp) issue(ctx, [...path, 'field'], fp);
  const ops = keys.filter((k) => (LEAF_OPS as readonly string[]).includes(k));
  const unknown = keys.filter((k) => k !== 'field' && k !== 'flags' && k !== 'ignoreCase' && !ops.includes(k));
  for (const k of unknown) issue(ctx, [...path, k], `unknown operator "${k}"; use one of ${LEAF_OPS.join(', ')}`);
  if (ops.length === 0) return unknown.length ? undefined : issue(ctx, path, `condition on "${String(o.field)}" has no operator (${LEAF_OPS.join(', ')})`);
  if (ops.length > 1) return issue(ctx, path, `one operator per condition, found ${ops.join(' and ')}; combine them with "all"`);
  const op = ops[0]!;
  const value = o[op];
  const at = [...path, op];
  if (op === 'equals' || op === 'notEquals') {
    if (!isScalar(value)) issue(ctx, at, `"${op}" takes a string, number, boolean or null`);
  } else if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > 10_000 || !value.every(isScalar)) {
      issue(ctx, at, '"in" takes a non-empty array (at most 10000) of strings, numbers, booleans or null');
    }
  } else if (NUMERIC_OPS.has(op)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) issue(ctx, at, `"${op}" takes a finite number`);
  } else if (op === 'exists') {
    if (typeof value !== 'boolean') issue(ctx, at, '"exists" takes true or false');
  } else if (op === 'matches') {
    const flags = o.flags as string | undefined;
    const p = regexProblem(value, flags);
    if (p) issue(ctx, p.startsWith('flags') ? [...path, 'flags'] : at, p);
  } else if (typeof value !== 'string') {
    issue(ctx, at, `"${op}" takes a string`);
  }
  if ('flags' in o && op !== 'matches') issue(ctx, [...path, 'flags'], '"flags" only applies to "matches"');
  if ('ignoreCase' in o) {
    if (typeof o.ignoreCase !== 'boolean') issue(ctx, [...path, 'ignoreCase'], '"ignoreCase" is true or false');
    else if (!STRING_OPS.has(op) && op !== 'equals' && op !== 'notEquals' && op !== 'in') {
      issue(ctx, [...path, 'ignoreCase'], `"ignoreCase" does not apply to "${op}"`);
    }
  }
}

const conditionSchema = z.custom<Condition>(() => true).superRefine((v, ctx) => checkCondition(v, [], ctx));

const duration = z.string().refine(isDuration, { message: 'not a duration; write it like "45s", "10m", "2h" or "1d"' });
const fieldPath = z.string().superRefine((v, ctx) => {
  const p = fieldPathProblem(v);
  if (p) issue(ctx, [], p);
});
const template = z.string().superRefine((v, ctx) => {
  const p = templateProblem(v);
  if (p) issue(ctx, [], p);
});
// Said in the words of the rule builder's trigger fields (a person may have typed the value in the JSON tab).
const glob = z
  .string({ error: 'a name or a pattern in quotes, such as "feed.item" or "mail.*"' })
  .min(1, 'empty: leave it out to match any')
  .max(500, 'too long: at most 500 characters');
const flagName = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'flag names use letters, digits and _ . : - (at most 64)');

/** `agent`: the machine an event came from (its agent id; a glob, or "*" for any). */
const whenSchema = z.strictObject({ source: glob.optional(), type: glob.optional(), agent: glob.optional() });
const matchSchema = z.strictObject({ when: whenSchema.optional(), if: conditionSchema.optional() });
export type Match = z.infer<typeof matchSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time of day is "HH:MM" (24h)');
export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const contextSchema = z.strictObject({
  flags: z.record(flagName, z.boolean()).optional(),
  time: z
    .strictObject({
      between: z.tuple([hhmm, hhmm]).optional(),
      days: z.array(z.enum(DAYS)).min(1).optional(),
    })
    .optional(),
  /** false: not while in maintenance (the event's check or tags in a maintenance window, or the `maintenance` flag on); true: only then. */
  maintenance: z.boolean().optional(),
});

const countPattern = z.strictObject({ count: z.number().int().min(1).max(10_000), within: duration, by: fieldPath.optional() });
const absentPattern = z.strictObject({ absent: z.literal(true), within: duration, by: fieldPath.optional() });
const afterPattern = z.strictObject({ after: matchSchema, absent: z.literal(true), within: duration, by: fieldPath.optional() });
const sequencePattern = z.strictObject({ sequence: z.array(matchSchema).min(1).max(20), within: duration, by: fieldPath.optional() });
export type CountPattern = z.infer<typeof countPattern>;
export type AbsentPattern = z.infer<typeof absentPattern>;
export type AfterPattern = z.infer<typeof afterPattern>;
export type SequencePattern = z.infer<typeof sequencePattern>;
export type Pattern = CountPattern | AbsentPattern | AfterPattern | SequencePattern;

/** Validate `value` against `schema` and hand its issues to the outer context with their paths. */
function delegate(schema: z.ZodType, value: unknown, ctx: Ctx): void {
  const r = schema.safeParse(value);
  if (!r.success) for (const i of r.error.issues) issue(ctx, i.path as Path, i.message);
}

/** Picks the one variant by its distinguishing key, so errors talk about that variant rather than "no union member". */
function keyedUnion<T>(variants: [string, z.ZodType][], what: string): z.ZodType<T> {
  return z.custom<T>(() => true).superRefine((v, ctx) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return issue(ctx, [], `${what} is an object`);
    const found = variants.find(([k]) => k in (v as object));
    if (!found) return issue(ctx, [], `${what} needs one of: ${variants.map(([k]) => k).join(', ')}`);
    delegate(found[1], v, ctx);
  });
}

const patternSchema = keyedUnion<Pattern>(
  [['sequence', sequencePattern], ['after', afterPattern], ['count', countPattern], ['absent', absentPattern]],
  'pattern',
);

const notifyAction = z.strictObject({
  notify: z.strictObject({
    title: template,
    body: template.optional(),
    url: template.optional(),
    priority: z.enum(['low', 'normal', 'high', 'urgent']).optional(),
    sound: z.boolean().optional(),
    /** This rule's notification stands alone, even when other rules notify for the same event. */
    own: z.boolean().optional(),
    /**
     * Where this rule's notifications go (channel ids: `desktop`, `ui`, `ntfy:phone`…), instead of the routing of
     * their priority (Settings → Notifications). The engine checks them against the channels that exist.
     */
    channels: z.array(z.string().min(1).max(100)).max(20).optional(),
    /**
     * Do not disturb and quiet hours: true = always goes through, false = always held (even urgent), absent = as
     * the settings say (high and urgent go through when allowed).
     */
    throughHolds: z.boolean().optional(),
  }),
});
const flagAction = z.strictObject({
  flag: z
    .strictObject({ set: flagName.optional(), clear: flagName.optional(), toggle: flagName.optional(), for: duration.optional() })
    .refine((f) => [f.set, f.clear, f.toggle].filter((x) => x !== undefined).length === 1, {
      message: 'a flag action has exactly one of "set", "clear" or "toggle"',
    }),
});
const tagAction = z.strictObject({ tag: z.strictObject({ add: z.array(z.string().min(1).max(100)).min(1).max(50) }) });
const webhookAction = z.strictObject({
  webhook: z.strictObject({
    url: template,
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid header name'), template).optional(),
    body: template.optional(),
    timeoutMs: z.number().int().min(100).max(120_000).optional(),
  }),
});
const commandAction = z.strictObject({
  command: z.strictObject({ argv: z.array(template).min(1).max(100), timeoutMs: z.number().int().min(100).max(3_600_000).optional() }),
});
const stopAction = z.strictObject({ stop: z.literal(true) });

export type NotifyAction = z.infer<typeof notifyAction>;
export type FlagAction = z.infer<typeof flagAction>;
export type TagAction = z.infer<typeof tagAction>;
export type WebhookAction = z.infer<typeof webhookAction>;
export type CommandAction = z.infer<typeof commandAction>;
export type StopAction = z.infer<typeof stopAction>;
/** The kinds the rules engine itself knows. */
export type BuiltinAction = NotifyAction | FlagAction | TagAction | WebhookAction | CommandAction | StopAction;
/**
 * An action a monitor type provides (mail's `email`, irc's `chat`, mqtt's `mqtt`): one key, the kind, holding its
 * parameters as the kind's declaration checked them.
 */
export type ContributedAction = Record<string, Record<string, unknown>>;
export type Action = BuiltinAction | ContributedAction;

const BUILTIN_ACTIONS: [string, z.ZodType][] = [
  ['notify', notifyAction],
  ['flag', flagAction],
  ['tag', tagAction],
  ['webhook', webhookAction],
  ['command', commandAction],
];

/**
 * The action kinds monitor types contribute, by kind, as their folders declare them (engine/monitor-registry.ts
 * collects them): the rule format checks each like its own kinds, so a new type's action needs no edit here.
 */
export type ActionKinds = ReadonlyMap<string, RuleActionSpec>;
export const NO_ACTION_KINDS: ActionKinds = new Map();

function actionSchemaFor(kinds: ActionKinds): z.ZodType<Action> {
  const contributed: [string, z.ZodType][] = [...kinds]
    .filter(([kind]) => kind !== 'stop' && !BUILTIN_ACTIONS.some(([k]) => k === kind))
    .map(([kind, spec]) => [kind, z.strictObject({ [kind]: spec.params(template) })]);
  return keyedUnion<Action>([...BUILTIN_ACTIONS, ...contributed, ['stop', stopAction]], 'an action');
}

function ruleSchemaFor(kinds: ActionKinds) {
  return z.strictObject({
    id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'rule ids use letters, digits and _ . : - (at most 128)'),
    name: z.string().max(500).optional(),
    description: z.string().max(5_000).optional(),
    enabled: z.boolean().optional(),
    when: whenSchema.optional(),
    if: conditionSchema.optional(),
    context: contextSchema.optional(),
    pattern: patternSchema.optional(),
    throttle: z.strictObject({ per: duration, by: fieldPath.optional() }).optional(),
    digest: z.strictObject({ every: duration }).optional(),
    then: z.array(actionSchemaFor(kinds)).min(1, 'a rule needs at least one action in "then"').max(50),
  });
}

/** The rule format with the engine's own action kinds only. */
export const ruleSchema = ruleSchemaFor(NO_ACTION_KINDS);
/** One schema per set of contributed kinds (the engine's set lives as long as the engine). */
const schemas = new WeakMap<ActionKinds, typeof ruleSchema>([[NO_ACTION_KINDS, ruleSchema]]);
const schemaFor = (kinds: ActionKinds) => {
  let s = schemas.get(kinds);
  if (!s) schemas.set(kinds, (s = ruleSchemaFor(kinds)));
  return s;
};

/** One rule of the public format (what the config document and rule files hold). */
export type Rule = z.infer<typeof ruleSchema>;

export interface RuleIssue {
  ruleId?: string;
  path: string;
  message: string;
}

export { jsonPath };

/** `kinds`: the actions monitor types contribute; without them a rule using one is refused as an unknown action. */
export function validateRule(input: unknown, kinds: ActionKinds = NO_ACTION_KINDS): { rule?: Rule; errors: RuleIssue[] } {
  const ruleId =
    input && typeof input === 'object' && typeof (input as { id?: unknown }).id === 'string' ? (input as { id: string }).id : undefined;
  const r = schemaFor(kinds).safeParse(input);
  if (r.success) return { rule: r.data, errors: [] };
  const errors = r.error.issues.map((i) => ({ ...(ruleId !== undefined ? { ruleId } : {}), path: jsonPath(i.path), message: i.message }));
  return { errors };
}

/** Validates a list: bad rules (and later duplicates of an id) are dropped and reported; the rest are kept in order. */
export function validateRules(input: unknown[], kinds: ActionKinds = NO_ACTION_KINDS): { rules: Rule[]; errors: RuleIssue[] } {
  const rules: Rule[] = [];
  const errors: RuleIssue[] = [];
  if (!Array.isArray(input)) return { rules, errors: [{ path: '$', message: 'rules are a JSON array' }] };
  const seen = new Set<string>();
  input.forEach((item, index) => {
    const r = validateRule(item, kinds);
    const prefix = (p: string) => `$[${index}]${p.slice(1)}`;
    for (const e of r.errors) errors.push({ ...e, path: prefix(e.path) });
    if (!r.rule) return;
    if (seen.has(r.rule.id)) {
      errors.push({ ruleId: r.rule.id, path: prefix('$.id'), message: `duplicate rule id "${r.rule.id}"; this copy is ignored` });
      return;
    }
    seen.add(r.rule.id);
    rules.push(r.rule);
  });
  return { rules, errors };
}
