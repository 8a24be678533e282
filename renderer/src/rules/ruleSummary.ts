/** The part of a rule the rules lists read; everything else is edited as JSON and passed through untouched. */
export interface RuleLike {
  id: string;
  name?: string;
  enabled?: boolean;
  when?: { source?: string; type?: string; agent?: string };
  then?: unknown[];
  [k: string]: unknown;
}

/** One line under a rule's name in a list (this machine's rules and another machine's alike). */
export function ruleSummary(r: RuleLike): string {
  const machine = r.when?.agent !== undefined ? ` on machine ${r.when.agent === '*' ? 'any' : r.when.agent}` : '';
  const actions = (r.then ?? []).map((a) => Object.keys(a as object)[0]).join(', ') || 'no action';
  return `when ${r.when?.type ?? 'any type'} from ${r.when?.source ?? 'any source'}${machine} → ${actions}`;
}
