/**
 * "Would this event match the rule now, and if not, which condition failed?": read from the rule and its temporal
 * state, changing neither.
 */
import type { PanoptesEvent } from '../core/event.js';
import { formatDuration } from '../core/duration.js';
import { whyFalse } from './conditions.js';
import { groupKey } from './paths.js';
import type { LocalTime } from './time-gate.js';
import { isoTime as iso } from './iso-time.js';
import { inMaintenance, type CompiledRule, type Matcher, type RuleState } from './compiled-rule.js';
import type { RuleEnv, Verdict } from './types.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_NAMES: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

export function explainRule(rule: CompiledRule, st: RuleState, e: PanoptesEvent, env: RuleEnv, local: (at: number, tz: string | undefined) => LocalTime): Verdict {
  const v = (matched: boolean, reason: string, details?: unknown): Verdict => ({ ruleId: rule.id, matched, reason, ...(details !== undefined ? { details } : {}) });
  const miss = matcherMiss(rule.main, e);
  const p = rule.pattern;
  const key = groupKey(rule.by, e);
  if (miss) {
    const stepInfo = explainSteps(rule, e);
    return v(false, stepInfo ?? miss.reason, miss.details);
  }
  if (rule.flagGates) {
    for (const [name, want] of rule.flagGates) {
      if ((env.flags[name] === true) !== want) return v(false, `$.context.flags.${name}: the flag is ${!want}, the rule wants ${want}`);
    }
  }
  if (rule.timeGate && !rule.timeGate(local(env.now, env.timeZone))) {
    const l = local(env.now, env.timeZone);
    const hhmm = `${String(Math.floor(l.minutes / 60)).padStart(2, '0')}:${String(l.minutes % 60).padStart(2, '0')}`;
    const t = rule.rule.context?.time;
    const hours = [t?.between ? `${t.between[0]}–${t.between[1]}` : '', t?.days?.length ? `on ${t.days.map((d) => DAY_NAMES[d] ?? d).join(', ')}` : ''].filter(Boolean).join(' ');
    return v(false, `$.context.time: it fires only ${hours}${env.timeZone ? ` (${env.timeZone})` : ''}, and this came at ${hhmm} on ${WEEKDAYS[l.day]}`);
  }
  if (rule.maintenanceGate !== null && inMaintenance(env, e, env.now) !== rule.maintenanceGate) {
    return v(false, rule.maintenanceGate ? '$.context.maintenance: not in maintenance now, the rule fires only during maintenance' : '$.context.maintenance: in maintenance now, the rule stays quiet during maintenance');
  }
  // A firing the throttle would hold back: said as what stops it, never as "the rule fires".
  const held = (() => {
    if (!rule.throttle) return null;
    const t = st.throttle.get(rule.throttle.by ? groupKey(rule.throttle.by, e) : '');
    if (!t || env.now - t.last >= rule.throttle.per) return null;
    const per = formatDuration(rule.throttle.per);
    return `its throttle holds the firing back: one per ${per}${rule.throttle.by ? ` for ${JSON.stringify(groupKey(rule.throttle.by, e))}` : ''}, the last at ${iso(t.last)}, the next from ${iso(t.last + rule.throttle.per)}`;
  })();
  switch (p.kind) {
    case 'none':
      if (held) return v(true, `matches, but ${held}`);
      return v(true, rule.digest ? `matches: it is gathered into the digest sent every ${formatDuration(rule.digest.every)}` : 'matches: the rule fires');
    case 'count': {
      const w = st.windows.get(key);
      const inWindow = w ? w.times.filter((t) => env.now - t <= p.within).length : 0;
      const would = inWindow + 1 >= p.n;
      return v(true, `matches; $.pattern needs ${p.n} events within ${formatDuration(p.within)}${rule.by ? ` for key ${JSON.stringify(key)}` : ''}: the window holds ${inWindow}, so this event ${would ? (held ? `completes it, but ${held}` : 'completes it and the rule fires') : 'does not fire it yet'}`);
    }
    case 'absent':
      return v(true, `matches: it re-arms the absence timer${rule.by ? ` for key ${JSON.stringify(key)}` : ''}; this rule fires on silence, ${formatDuration(p.within)} after the last matching event`);
    case 'after':
      return v(true, `matches: it counts as the follow-up that cancels a pending $.pattern.after deadline${rule.by ? ` for key ${JSON.stringify(key)}` : ''}${st.after.has(key) ? ' (one is pending)' : ' (none is pending)'}`);
    case 'sequence': {
      const runs = st.seqs.get(key);
      const done = runs?.[p.steps - 1];
      return done && env.now - done.start <= p.within
        ? v(true, held ? `matches and completes the sequence, but ${held}` : 'matches and completes the sequence: the rule fires')
        : v(false, `matches the final step, but $.pattern.sequence has not been completed${rule.by ? ` for key ${JSON.stringify(key)}` : ''} within ${formatDuration(p.within)}`);
    }
  }
}

function explainSteps(rule: CompiledRule, e: PanoptesEvent): string | null {
  if (rule.after && !matcherMiss(rule.after, e)) return 'the event matches $.pattern.after: it starts the deadline, the rule itself would fire only if no follow-up arrives in time';
  const j = rule.steps.findIndex((s) => !matcherMiss(s, e));
  if (j >= 0) return `the event matches $.pattern.sequence[${j}] (a step), not the final event of the sequence`;
  return null;
}

function matcherMiss(m: Matcher, e: PanoptesEvent): { reason: string; details?: unknown } | null {
  if (m.sourceTest && !m.sourceTest(e.source)) return { reason: `$.when.source: ${JSON.stringify(e.source)} does not match ${JSON.stringify(m.sourceGlob)}` };
  if (m.typeTest && !m.typeTest(e.type)) return { reason: `$.when.type: ${JSON.stringify(e.type)} does not match ${JSON.stringify(m.typeGlob)}` };
  if (m.cond) {
    const w = whyFalse(m.cond, e);
    if (w) return { reason: `${w.path}: ${w.message}`, details: w };
  }
  return null;
}
