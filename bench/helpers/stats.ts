/** Small statistics and markdown-table helpers shared by the UI bench. */

export const quantile = (xs: number[], q: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
};
export const median = (xs: number[]) => quantile(xs, 0.5);

/** One display refresh at 60 Hz. */
export const FRAME_MS = 1000 / 60;

export interface FrameStats {
  frames: number;
  seconds: number;
  fps: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
  /** Refreshes that passed without a new frame: a 50 ms gap is 2 dropped frames. */
  dropped: number;
  /** Dropped frames as a share of the refreshes in the measured time. */
  droppedShare: number;
}

export function frameStats(deltas: number[]): FrameStats {
  const total = deltas.reduce((a, b) => a + b, 0);
  const dropped = deltas.reduce((n, d) => n + Math.max(0, Math.round(d / FRAME_MS) - 1), 0);
  return {
    frames: deltas.length,
    seconds: total / 1000,
    fps: deltas.length / (total / 1000),
    median: median(deltas),
    p95: quantile(deltas, 0.95),
    p99: quantile(deltas, 0.99),
    max: Math.max(...deltas),
    dropped,
    droppedShare: dropped / Math.max(1, Math.round(total / FRAME_MS)),
  };
}

export function table(rows: (string | number)[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  rows.forEach((r, i) => {
    console.log('| ' + r.map((v, c) => String(v).padEnd(widths[c]!)).join(' | ') + ' |');
    if (i === 0) console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  });
}

export const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a');
export const count = (x: number) => x.toLocaleString('en-US');
