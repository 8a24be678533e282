/**
 * Events as the store hands them over: parsed from their JSON a chunk at a time (untimed), then handled (timed), in
 * order and with engine time moving forward one step per event. Shared by the rules and floor benchmarks.
 */
import { performance } from 'node:perf_hooks';
import type { PanoptesEvent } from '../../core/event.js';

export const CHUNK = 250;

export function eventStream(lines: string[], t0: number, stepMs: number, run: (e: PanoptesEvent, now: number) => number) {
  const batch: PanoptesEvent[] = new Array(CHUNK);
  const st = {
    /** Events handled so far. */
    n: 0,
    /** What `run` returned, summed. */
    fired: 0,
    /** The next chunk, freshly parsed (not yet counted as handled). */
    parse(): PanoptesEvent[] {
      for (let k = 0; k < CHUNK; k++) batch[k] = JSON.parse(lines[(st.n + k) % lines.length]!) as PanoptesEvent;
      return batch;
    },
    /** Parse a chunk, then handle it; returns the handling time in ms. */
    chunk(): number {
      st.parse();
      const start = performance.now();
      for (let k = 0; k < CHUNK; k++) {
        st.fired += run(batch[k]!, t0 + st.n * stepMs);
        st.n++;
      }
      return performance.now() - start;
    },
    /** Events per second of handling over about `ms` of wall time. */
    round(ms: number): number {
      const roundStart = performance.now();
      let busy = 0;
      let events = 0;
      while (performance.now() - roundStart < ms) {
        busy += st.chunk();
        events += CHUNK;
      }
      return events / (busy / 1000);
    },
  };
  return st;
}
