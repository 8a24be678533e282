import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseFlags, UsageError, writeLine, type CliIO } from '../io.js';
import { validateRules } from '../../rules/index.js';
import { parseRulesFile } from '../../rules/files.js';
import { ConfigStore } from '../../core/config/config-store.js';
import { createLogger } from '../../core/log.js';
import { RemoteError } from '../../core/rpc/client.js';
import { connectToRunningEngine } from '../running-engine.js';
import { loadMonitorTypes, ruleActionKinds } from '../../engine/monitor-registry.js';

const USAGE = `usage: panoptes rules validate FILE
       panoptes rules import FILE [--replace] [--skip-invalid]
       panoptes rules export [FILE]
validate  checks a rule file (a JSON array of rules) and prints each problem with its JSON path
import    adds the file's rules to the configuration (a rule with the same id is replaced; --replace drops all
          others). Nothing is imported when any rule is invalid, unless --skip-invalid.
export    writes the configured rules as a JSON array to FILE (or stdout)`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'validate') return validate(rest, io);
  if (sub === 'import') return importRules(rest, io);
  if (sub === 'export') return exportRules(rest, io);
  if (sub === '-h' || sub === '--help') throw new UsageError('', USAGE);
  throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required', USAGE);
}

/** Checked with the actions this build's monitor types contribute (`email`, `chat`, `mqtt`, …), as the engine checks them. */
async function readAndValidate(file: string, io: CliIO) {
  const raw = parseRulesFile(readFileSync(file, 'utf8'), file);
  const kinds = ruleActionKinds(await loadMonitorTypes(createLogger('rules', 'warn', (l) => io.stderr.write(l + '\n'))));
  const result = validateRules(raw, kinds);
  for (const e of result.errors) writeLine(io.stderr, `${file}: ${e.ruleId ? `rule "${e.ruleId}" ` : ''}${e.path}: ${e.message}`);
  return { raw, ...result };
}

async function validate(args: string[], io: CliIO): Promise<number> {
  const { positional } = parseFlags(args, {}, USAGE);
  if (positional.length !== 1) throw new UsageError('validate takes one FILE', USAGE);
  const { raw, rules, errors } = await readAndValidate(positional[0]!, io);
  writeLine(io.stdout, `${rules.length} of ${raw.length} rules valid${errors.length ? `, ${errors.length} problem(s)` : ''}`);
  return errors.length ? 1 : 0;
}

async function importRules(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { replace: 'boolean', 'skip-invalid': 'boolean' }, USAGE);
  if (positional.length !== 1) throw new UsageError('import takes one FILE', USAGE);
  const { raw, rules, errors } = await readAndValidate(positional[0]!, io);
  if (errors.length && !flags['skip-invalid']) {
    writeLine(io.stderr, 'nothing imported: fix the problems above, or pass --skip-invalid to import the valid rules only');
    return 1;
  }
  // Import what the user wrote (not zod's output), so the config keeps their exact rule text.
  const validIds = new Set(rules.map((r) => r.id));
  const incoming = raw.filter((r) => validIds.has((r as { id: string }).id)).filter((r, i, all) => all.findIndex((x) => (x as { id: string }).id === (r as { id: string }).id) === i);
  const merge = (current: { id: string }[]): unknown[] => {
    if (flags.replace) return incoming;
    const byId = new Map(incoming.map((r) => [(r as { id: string }).id, r]));
    const kept = current.map((r) => (byId.has(r.id) ? byId.get(r.id)! : r));
    const existing = new Set(current.map((r) => r.id));
    return [...kept, ...incoming.filter((r) => !existing.has((r as { id: string }).id))];
  };
  const engine = await connectToRunningEngine(io.dataDir);
  if (engine) {
    try {
      // Merged from the revision read here; if the configuration changes before the engine applies it, the engine
      // refuses it (nothing half-imported, nobody's change undone) and the user runs the command again.
      const { rules: current, revision } = await engine.client.call('rules.list', {});
      await engine.client.call('rules.replaceAll', { rules: merge(current as { id: string }[]), ifRevision: revision });
    } catch (err) {
      if (err instanceof RemoteError && err.error.code === 'conflict') {
        writeLine(io.stderr, `nothing imported: ${err.message}`);
        return 1;
      }
      throw err;
    } finally {
      engine.close();
    }
    writeLine(io.stdout, `imported ${incoming.length} rule(s) ${engine.via}`);
    return errors.length ? 1 : 0;
  }
  mkdirSync(io.dataDir, { recursive: true });
  const store = await ConfigStore.open(io.dataDir, createLogger('rules', 'warn', (l) => io.stderr.write(l + '\n')));
  await store.update((doc) => void (doc.rules = merge(doc.rules) as typeof doc.rules));
  writeLine(io.stdout, `imported ${incoming.length} rule(s) into ${store.file}`);
  return errors.length ? 1 : 0;
}

async function exportRules(args: string[], io: CliIO): Promise<number> {
  const { positional } = parseFlags(args, {}, USAGE);
  if (positional.length > 1) throw new UsageError('export takes at most one FILE', USAGE);
  // Exporting must not create a configuration where there is none.
  const engine = await connectToRunningEngine(io.dataDir);
  const rules = engine
    ? await engine.client.call('rules.list', {}).then((r) => r.rules).finally(() => engine.close())
    : existsSync(path.join(io.dataDir, 'config.json'))
    ? (await ConfigStore.open(io.dataDir, createLogger('rules', 'warn', (l) => io.stderr.write(l + '\n')))).current.rules
    : [];
  const text = JSON.stringify(rules, null, 2) + '\n';
  if (positional[0]) {
    writeFileSync(positional[0], text);
    writeLine(io.stdout, `exported ${rules.length} rule(s) to ${positional[0]}`);
  } else io.stdout.write(text);
  return 0;
}
