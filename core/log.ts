/** A small structured logger. Secrets never reach it: monitors get their secrets separately from config. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(scope = 'panoptes', level: LogLevel = (process.env.PANOPTES_LOG as LogLevel) || 'info', sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const min = ORDER[level] ?? 20;
  const write = (lvl: LogLevel, msg: string, data?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = data && Object.keys(data).length ? ' ' + safeJson(data) : '';
    sink(`${new Date().toISOString()} ${lvl.padEnd(5)} [${scope}] ${msg}${extra}`);
  };
  return {
    debug: (m, d) => write('debug', m, d),
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warn', m, d),
    error: (m, d) => write('error', m, d),
    child: (s) => createLogger(`${scope}:${s}`, level, sink),
  };
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {}, child() { return silentLogger; },
};

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, val) => (val instanceof Error ? val.message : val));
  } catch {
    return '[unserializable]';
  }
}
