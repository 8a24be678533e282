/** Durations as users write them in rules and settings: "45s", "10m", "2h", "1d" (also "500ms", "1w"). */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(String(text));
  if (!m) throw new Error(`"${text}" is not a duration; write it like "45s", "10m", "2h" or "1d"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

export function isDuration(text: unknown): boolean {
  try {
    parseDuration(String(text));
    return true;
  } catch {
    return false;
  }
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
