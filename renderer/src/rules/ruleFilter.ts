/**
 * The Rules list's search and filters: words against a rule's name, id and summary (the same words the list shows),
 * its trigger type, the machine whose events it takes, and whether it is paused. Pure, so the list and its tests
 * agree on what matches.
 */
import { ruleSummary, type RuleLike } from './ruleSummary.js';

export interface RuleFilter {
  /** Words, all of which must appear (any case) in the rule's name, id or summary. */
  text: string;
  /** '' any; ANY_TYPE rules without a trigger type; else that `when.type`. */
  trigger: string;
  /** '' any; THIS_MACHINE rules that take this machine's events; else an agent id. */
  machine: string;
  state: 'all' | 'enabled' | 'paused';
}

export const NO_FILTER: RuleFilter = { text: '', trigger: '', machine: '', state: 'all' };
export const ANY_TYPE = '\u0000any';
export const THIS_MACHINE = '\u0000local';

export const isFiltering = (f: RuleFilter): boolean => !!f.text.trim() || !!f.trigger || !!f.machine || f.state !== 'all';

/** `when.agent`'s glob (`*` any run, `?` one character), as the engine reads it. */
function globTest(glob: string, value: string): boolean {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

/**
 * Whether a rule takes events from a machine: a rule naming no machine takes every machine's; events made here carry
 * none, so of the rules naming one only `*` takes them (docs/rules.md, `when.agent`).
 */
function takesMachine(r: RuleLike, machine: string): boolean {
  const agent = r.when?.agent;
  if (agent === undefined) return true;
  return machine === THIS_MACHINE ? agent === '*' : globTest(agent, machine);
}

export function ruleMatches(r: RuleLike, f: RuleFilter): boolean {
  if (f.state === 'enabled' && r.enabled === false) return false;
  if (f.state === 'paused' && r.enabled !== false) return false;
  if (f.trigger && (f.trigger === ANY_TYPE ? r.when?.type !== undefined : r.when?.type !== f.trigger)) return false;
  if (f.machine && !takesMachine(r, f.machine)) return false;
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length) {
    const hay = `${r.name ?? ''} ${r.id} ${ruleSummary(r)}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) return false;
  }
  return true;
}

/** The trigger types and machines the rules name, for the filters' choices (sorted). */
export function filterChoices(rules: readonly RuleLike[], pairedMachines: readonly string[]): { triggers: string[]; anyType: boolean; machines: string[] } {
  const triggers = [...new Set(rules.map((r) => r.when?.type).filter((t): t is string => typeof t === 'string'))].sort();
  const named = rules.map((r) => r.when?.agent).filter((a): a is string => typeof a === 'string' && !/[*?]/.test(a));
  return { triggers, anyType: rules.some((r) => r.when?.type === undefined), machines: [...new Set([...pairedMachines, ...named])].sort() };
}
