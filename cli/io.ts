export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The data folder: --data, else PANOPTES_DATA, else the OS's usual app-data place. */
  dataDir: string;
}

export class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

export interface FlagSpec {
  [name: string]: 'string' | 'boolean' | 'number';
}

/**
 * Strict flag parsing: `--name value`, `--name=value`, booleans as `--name`. Anything unknown is a usage error
 * (exit 2), never silently ignored.
 */
export function parseFlags(args: string[], spec: FlagSpec, usage: string): { flags: Record<string, string | number | boolean>; positional: string[] } {
  const flags: Record<string, string | number | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') throw new UsageError('', usage);
    if (!a.startsWith('--')) {
      if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option ${a}`, usage);
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`, usage);
    if (kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`, usage);
      flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`, usage);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} takes a number, got "${value}"`, usage);
      flags[name] = n;
    } else flags[name] = value;
  }
  return { flags, positional };
}

export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  stream.write(line + '\n');
}
