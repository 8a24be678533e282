import { RequestError, type Handlers, type HandlersOf } from '../../core/rpc/server.js';
import { stripSeq } from '../../core/store/index.js';
import { parseDuration } from '../../core/duration.js';
import { validateRule, ruleWarnings } from '../../rules/index.js';
import { RULE_TEST_LIMITS } from '../rule-test/index.js';
import { renderTemplate } from '../../rules/templates.js';
import { toRef } from '../../rules/event-ref.js';
import { isInMaintenance } from '../../core/maintenance.js';
import type { HandlerHost } from './host.js';
import { ruleChannelIssues } from '../notifications/rule-channels.js';
import { ConfigConflictError } from '../../core/config/config-store.js';
import { isDeepStrictEqual } from 'node:util';

export function ruleHandlers(engine: HandlerHost) {
  return {
    'rules.list': () => ({
      rules: engine.config.current.rules,
      // Validation problems, then what went wrong at run time (a rule's health), each at the rule it concerns.
      errors: [...engine.ruleErrors, ...[...engine.ruleRuntimeErrors.values()].map((e) => ({ ...(e.ruleId ? { ruleId: e.ruleId } : {}), path: '$', message: `${e.at}: ${e.message}` }))],
      revision: engine.config.revision,
    }),
    'rules.validate': (p) => {
      const r = validateRule(p.rule, engine.actionKinds);
      const warnings = r.rule ? ruleWarnings(r.rule).map(({ path, message }) => ({ path, message })) : [];
      const errors = [...r.errors.map(({ path, message }) => ({ path, message })), ...ruleChannelIssues(p.rule, engine.config.current.channels)];
      return { ok: errors.length === 0, errors, warnings };
    },
    'rules.save': async (p) => {
      const r = validateRule(p.rule, engine.actionKinds);
      const errors = [...r.errors, ...ruleChannelIssues(p.rule, engine.config.current.channels)];
      if (!r.rule || errors.length) throw new RequestError('invalid', `the rule is not valid: ${errors[0]?.path}: ${errors[0]?.message}`, errors);
      const rule = p.rule as { id: string };
      await engine.config.update(
        (d) => {
          const i = d.rules.findIndex((x) => x.id === rule.id);
          // Compared under the config's lock, after changes made elsewhere were taken in.
          if (p.previous !== undefined && !isDeepStrictEqual(i >= 0 ? d.rules[i] : null, p.previous ?? null)) {
            throw new ConfigConflictError(
              p.previous === null
                ? `a rule with the id "${rule.id}" was added elsewhere since you started this one; nothing was saved — give this rule another id, or open that one`
                : `rule "${rule.id}" was ${i >= 0 ? 'changed' : 'removed'} elsewhere since you opened it (in another window, by \`panoptes rules import\` or an edit of config.json); your edit was not saved — reload the rule to see that change, then make your edit again`,
            );
          }
          if (i >= 0) d.rules[i] = rule as (typeof d.rules)[number];
          else d.rules.push(rule as (typeof d.rules)[number]);
        },
        { ifRevision: p.ifRevision },
      );
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { rule: p.rule, warnings: ruleWarnings(r.rule).map(({ path, message }) => ({ path, message })) };
    },
    'rules.replaceAll': async (p) => {
      const problems = p.rules.flatMap((rule, i) =>
        [...validateRule(rule, engine.actionKinds).errors, ...ruleChannelIssues(rule, engine.config.current.channels)].map((e) => ({ path: `$[${i}]${e.path.slice(1)}`, message: e.message })),
      );
      if (problems.length) throw new RequestError('invalid', `${problems.length} problem(s): ${problems[0]!.path}: ${problems[0]!.message}`, problems);
      await engine.config.update((d) => void (d.rules = p.rules as typeof d.rules), { ifRevision: p.ifRevision });
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { count: p.rules.length };
    },
    'rules.reorder': async (p) => {
      const current = engine.config.current.rules;
      const byId = new Map(current.map((r) => [r.id, r]));
      if (p.ids.length !== current.length || new Set(p.ids).size !== p.ids.length || !p.ids.every((id) => byId.has(id))) {
        throw new RequestError('invalid', 'the rules changed since this list was loaded; reload and move the rule again');
      }
      await engine.config.update((d) => void (d.rules = p.ids.map((id) => byId.get(id)!) as typeof d.rules));
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { count: p.ids.length };
    },
    'rules.remove': async (p) => {
      const exists = engine.config.current.rules.some((r) => r.id === p.id);
      if (!exists) return { removed: false };
      await engine.config.update((d) => void (d.rules = d.rules.filter((r) => r.id !== p.id)));
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { removed: true };
    },
    'rules.test': async (p) => {
      const r = validateRule(p.rule, engine.actionKinds);
      if (!r.rule) return { firings: [], eventsScanned: 0, errors: r.errors };
      const until = p.until ? new Date(p.until) : new Date();
      const since = p.since ? new Date(p.since) : new Date(until.getTime() - parseDuration('7d'));
      const limits = { ms: Math.min(p.limits?.ms ?? RULE_TEST_LIMITS.ms, RULE_TEST_LIMITS.ms), events: Math.min(p.limits?.events ?? RULE_TEST_LIMITS.events, RULE_TEST_LIMITS.events) };
      return engine.ruleTests.run(p.testId, { rule: r.rule, since: since.toISOString(), until: until.toISOString(), flags: p.flags ?? {}, limits }, engine.actionKinds);
    },
    'rules.cancelTest': (p) => ({ cancelled: engine.ruleTests.cancel(p.testId) }),
    'rules.explain': (p) => {
      const e = engine.store.events.get(p.eventId);
      if (!e) throw new RequestError('not_found', `no event "${p.eventId}"`);
      const verdicts = engine.rules.explain(stripSeq(e), { now: Date.parse(e.receivedAt), flags: engine.flags.values(), maintenance: isInMaintenance });
      return { verdicts: p.ruleId ? verdicts.filter((v) => v.ruleId === p.ruleId) : verdicts };
    },
    'rules.preview': (p) => {
      const e = p.eventId ? engine.store.events.get(p.eventId) : engine.store.events.list({ limit: 1 }).events[0] ?? null;
      if (p.eventId && !e) throw new RequestError('not_found', `no event "${p.eventId}"`);
      const ref = e ? toRef(stripSeq(e as never)) : null;
      const rule = engine.config.current.rules.find((r) => r.id === p.ruleId);
      const scope = {
        ...(ref ?? {}),
        event: ref,
        events: ref ? [ref] : [],
        count: ref ? 1 : 0,
        flags: engine.flags.values(),
        rule: { id: rule?.id ?? p.ruleId ?? 'preview', name: (rule as { name?: string } | undefined)?.name ?? '' },
        now: new Date().toISOString(),
      };
      const out = renderTemplate(p.template, scope);
      return { text: out.text, error: out.error ?? null, eventId: e?.id ?? null };
    },
    'traces.list': (p) => ({ traces: engine.store.traces.list(p.ruleId, Math.min(500, p.limit ?? 50)) }),
  } satisfies HandlersOf<'rules'> & Pick<Handlers, 'traces.list'>;
}
