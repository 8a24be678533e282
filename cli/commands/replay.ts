import { readFileSync } from 'node:fs';
import { parseFlags, UsageError, writeLine, type CliIO } from '../io.js';
import { replay, validateRules } from '../../rules/index.js';
import { parseEventsJsonl, parseFlagList, parseRulesFile } from '../../rules/files.js';
import { loadMonitorTypes, ruleActionKinds } from '../../engine/monitor-registry.js';
import { createLogger } from '../../core/log.js';

const USAGE = `usage: panoptes replay --rules FILE --events FILE.jsonl [--flags name=true,…] [--until ISO] [--traces]
Runs the rules over the events in event time with no side effects and prints one JSON line per firing:
{"rule": ID, "at": ISO, "events": [IDs], "actions": [rendered actions]}. Timers fire as event time passes their
deadlines; --until advances time after the last event. Exit code 1 when a rule or an event line was invalid
(the valid ones still run).`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { rules: 'string', events: 'string', flags: 'string', until: 'string', traces: 'boolean' }, USAGE);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`, USAGE);
  if (!flags.rules || !flags.events) throw new UsageError('--rules and --events are required', USAGE);
  if (flags.until !== undefined && Number.isNaN(Date.parse(String(flags.until)))) {
    throw new UsageError(`--until takes an ISO date/time like 2026-11-21T08:00:00Z, got "${flags.until}"`, USAGE);
  }
  let initialFlags: Record<string, boolean> = {};
  try {
    initialFlags = flags.flags ? parseFlagList(String(flags.flags)) : {};
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const rulesFile = String(flags.rules);
  // The actions this build's monitor types contribute (`email`, `chat`, `mqtt`, …) are rule actions like the others.
  const actionKinds = ruleActionKinds(await loadMonitorTypes(createLogger('replay', 'warn', (l) => io.stderr.write(l + '\n'))));
  const { rules, errors } = validateRules(parseRulesFile(readFileSync(rulesFile, 'utf8'), rulesFile), actionKinds);
  for (const e of errors) writeLine(io.stderr, `${rulesFile}: ${e.ruleId ? `rule "${e.ruleId}" ` : ''}${e.path}: ${e.message} (rule skipped)`);
  const eventsFile = String(flags.events);
  const parsed = parseEventsJsonl(readFileSync(eventsFile, 'utf8'));
  for (const e of parsed.errors) writeLine(io.stderr, `${eventsFile}: ${e} (line skipped)`);
  const firings = replay(rules, parsed.events, {
    flags: initialFlags,
    ...(flags.until ? { until: String(flags.until) } : {}),
    traces: flags.traces === true,
    actionKinds,
  });
  for (const f of firings) writeLine(io.stdout, JSON.stringify(f));
  return errors.length || parsed.errors.length ? 1 : 0;
}
