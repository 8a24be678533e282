// The rules processor on a real store in a folder, as the window-persistence tests drive it: events appended and
// processed batch by batch, and how much each batch made the write-ahead log grow (automatic checkpoints off, so the
// log only grows: its growth is what the batch wrote).
import { statSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../core/store/index.js';
import { FlagManager } from '../../core/flags.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { RuleEngine, type Rule } from '../../rules/index.js';
import { RuleProcessor } from '../../engine/rule-processor.js';
import type { PanoptesEvent } from '../../core/event.js';
import { waitFor } from '../helpers/tmp.js';

/** `clock`: what the rules see as now (a test moves it to make deadlines fall due and windows expire). */
export function openRules(dir: string, set: Rule[], clock: Clock = systemClock) {
  const store = openStore(dir);
  store.db.pragma('wal_autocheckpoint = 0');
  const engine = new RuleEngine();
  engine.setRules(set);
  const flags = new FlagManager(store, clock, () => {});
  return { store, engine, processor: new RuleProcessor(store, engine, flags, clock, silentLogger, () => {}) };
}
export type RulesOnStore = ReturnType<typeof openRules>;

/** Stores the events as one batch and waits until the processor has processed them. */
export async function feed(s: RulesOnStore, events: PanoptesEvent[]): Promise<void> {
  s.store.tx(() => s.store.events.append(events));
  const to = s.store.events.maxSeq();
  s.processor.wake();
  await waitFor(() => s.processor.cursor === to, 'the batch processed', 60_000);
}

/** Bytes the write-ahead log grew by in each of `n` one-event batches. */
export async function walGrowth(s: RulesOnStore, dir: string, make: () => PanoptesEvent, n = 5): Promise<number[]> {
  const wal = path.join(dir, 'panoptes.db-wal');
  const grew: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = statSync(wal).size;
    await feed(s, [make()]);
    grew.push(statSync(wal).size - before);
  }
  return grew;
}

export function closeRules(s: RulesOnStore): void {
  s.processor.close();
  s.store.close();
}
