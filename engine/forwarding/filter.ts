// The forwarding filter is written in the rule format's `when`/`if`, so a user filters at the source with the
// language they already use for rules; it is checked by the rules engine's own validation and compiled with its
// own condition code (no second dialect to learn or to keep in step).
import type { PanoptesEvent } from '../../core/event.js';
import { validateRule, type RuleIssue } from '../../rules/index.js';
import { compileCondition } from '../../rules/conditions.js';
import { compileGlob } from '../../rules/glob.js';

export type EventFilter = (e: PanoptesEvent) => boolean;

export interface ForwardFilterSpec {
  when?: unknown;
  if?: unknown;
}

/** Compile a filter; a bad one is reported with JSON paths (`$.if.all[0].matches`) and nothing is compiled. */
export function compileForwardFilter(spec: ForwardFilterSpec | undefined): { filter: EventFilter; errors: RuleIssue[] } {
  if (!spec || (spec.when === undefined && spec.if === undefined)) return { filter: () => true, errors: [] };
  // A filter is a rule without effects: validate it as one, with a placeholder action the schema requires.
  const candidate: Record<string, unknown> = { id: 'forwarding-filter', then: [{ stop: true }] };
  if (spec.when !== undefined) candidate.when = spec.when;
  if (spec.if !== undefined) candidate.if = spec.if;
  const { rule, errors } = validateRule(candidate);
  if (!rule) return { filter: () => false, errors: errors.filter((e) => !e.path.startsWith('$.then')) };
  const tests: EventFilter[] = [];
  const src = rule.when?.source;
  const type = rule.when?.type;
  if (src !== undefined && src !== '*') {
    const t = compileGlob(src);
    tests.push((e) => t(e.source));
  }
  if (type !== undefined && type !== '*') {
    const t = compileGlob(type);
    tests.push((e) => t(e.type));
  }
  if (rule.if) tests.push(compileCondition(rule.if, '$.if').test);
  return { filter: (e) => tests.every((t) => t(e)), errors: [] };
}
