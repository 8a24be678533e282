import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#4f7cff', '#e0676b', '#3fb68b', '#d4a22b', '#a86bd9', '#3aa6c4', '#d9792f', '#7a8599'];

/** True while the page shows the dark theme (the OS preference, or the user's pinned choice), updated live. */
export function useDarkTheme(): boolean {
  const read = () => {
    const pinned = document.documentElement.dataset.theme;
    return pinned === 'dark' || (pinned !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches);
  };
  const [dark, setDark] = useState(read);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const update = () => setDark(read());
    mq.addEventListener('change', update);
    const mo = new MutationObserver(update);
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      mq.removeEventListener('change', update);
      mo.disconnect();
    };
  }, []);
  return dark;
}

/** The newest value of a series (its last non-empty one). */
function latest(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

/** A point's time in the legend, in the reader's locale. */
function when(seconds: number | null): string {
  return seconds === null ? '—' : new Date(seconds * 1000).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/**
 * A time-series line chart (uPlot: small, fast, canvas). Canvas colours cannot follow CSS variables, so the
 * chart is rebuilt when the theme changes, to keep axes and grid readable in both.
 */
export function TimeChart({ x, series, height = 220, yLabel, label, format }: { x: number[]; series: ChartSeries[]; height?: number; yLabel?: string; label: string; format?: (v: number) => string }) {
  const ref = useRef<HTMLDivElement>(null);
  const dark = useDarkTheme();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const line = dark ? '#2a3140' : '#e5e7eb';
    const axis = { stroke: dark ? '#aab2c0' : '#4b5563', grid: { stroke: line }, ticks: { stroke: line } };
    const valueAxis = { ...axis, ...(yLabel ? { label: yLabel } : {}), ...(format ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => format(v)) } : {}), size: 60 };
    // Away from the chart the legend shows the latest values (uPlot's own default is "--" until a hover, and the
    // legend's height jumped when values came).
    const shown = (v: number | null) => (v === null ? '—' : format ? format(v) : String(Math.round(v * 100) / 100));
    const plot = new uPlot(
      {
        width: el.clientWidth || 600,
        height,
        series: [
          { value: (_u: uPlot, v: number | null, _s: number, idx: number | null) => when(idx === null ? (x[x.length - 1] ?? null) : v) },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: true,
            points: { show: x.length < 60 },
            value: (_u: uPlot, v: number | null, _s: number, idx: number | null) => shown(idx === null ? latest(s.values) : v),
          })),
        ],
        axes: [axis, valueAxis],
        // One sample (or several at one time) would leave uPlot's time scale without a width, which it widens to
        // years ("2027–2029" under a day's chart): an hour either side instead.
        scales: { x: { time: true, range: (_u: uPlot, min: number, max: number): [number, number] => (min === max ? [min - 3600, max + 3600] : [min, max]) } },
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, height, yLabel, format, dark]);
  return <div ref={ref} className="chart" role="img" aria-label={label} />;
}
