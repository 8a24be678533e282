// Two Panoptes instances and a real broker: what the forwarding tests share. The figures a user cares about
// (sent, received, lost, duplicated, reordered) are computed from the two stores, not from the code under test.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PanoptesEvent } from '../../core/event.js';
import type { Store } from '../../core/store/index.js';

export function writeConfig(dir: string, doc: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(doc, null, 2));
}

/** Every event in a store's log, oldest first (log order, which is arrival order). */
export function logOf(store: Store, keep: (e: PanoptesEvent) => boolean = () => true): PanoptesEvent[] {
  const out: PanoptesEvent[] = [];
  let seq = 0;
  for (;;) {
    const batch = store.events.readAfter(seq, 1_000);
    if (!batch.length) return out;
    for (const e of batch) if (keep(e)) out.push(e);
    seq = batch[batch.length - 1]!.seq;
  }
}

export interface Figures {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/** Compare what one side sent (in its order) with what the other side stored (in its order). */
export function figures(sentIds: string[], receivedIds: string[]): Figures {
  const pos = new Map(sentIds.map((id, i) => [id, i]));
  const seen = new Set<string>();
  let duplicated = 0;
  let reordered = 0;
  let last = -1;
  for (const id of receivedIds) {
    if (seen.has(id)) {
      duplicated++;
      continue;
    }
    seen.add(id);
    const p = pos.get(id);
    if (p === undefined) continue;
    if (p < last) reordered++;
    last = Math.max(last, p);
  }
  const lost = sentIds.filter((id) => !seen.has(id)).length;
  return { sent: sentIds.length, received: receivedIds.length, lost, duplicated, reordered };
}

export function printFigures(what: string, f: Figures, extra = ''): void {
  console.log(`[forwarding] ${what}: sent ${f.sent}, received ${f.received}, lost ${f.lost}, duplicated ${f.duplicated}, reordered ${f.reordered}${extra ? `; ${extra}` : ''}`);
}
