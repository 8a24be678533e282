import path from 'node:path';
import { openDatabase, openDatabaseReadOnly, withoutWaitingForDisk, type Db, type OpenOptions } from './database.js';
import { EventStore } from './event-store.js';
import { MonitorStateStore } from './monitor-state-store.js';
import { CursorStore } from './cursor-store.js';
import { OutboxStore } from './outbox-store.js';
import { FlagTable, KvTable, TraceTable } from './misc-stores.js';
import { NotificationTable } from './notification-store.js';
import { VersionStore } from './version-store.js';
import { RuleStateStore } from './rule-state-store.js';

export { CorruptDatabaseError, LostDatabaseError, type OpenOptions } from './database.js';
export type { Db } from './database.js';
export { EventStore, toFtsQuery, stripSeq } from './event-store.js';
export { memoryState } from './monitor-state-store.js';
export type { AddedTrace } from './misc-stores.js';
export { VersionStore, DEFAULT_VERSION_LIMITS, type VersionRow } from './version-store.js';
export type { OutboxItem } from './outbox-store.js';
export type { RuleStateDelta, WindowEntryRow } from './rule-state-store.js';
export { toPayload, type NoticeRow, type FateRow, type DeliveryRow } from './notification-store.js';

export interface Store {
  db: Db;
  file: string;
  events: EventStore;
  monitorState: MonitorStateStore;
  cursors: CursorStore;
  outbox: OutboxStore;
  flags: FlagTable;
  traces: TraceTable;
  notifications: NotificationTable;
  kv: KvTable;
  versions: VersionStore;
  /** The rules' temporal state, saved incrementally with each processing batch. */
  ruleStates: RuleStateStore;
  /** Run `fn` in one write transaction: durable (on disk) when it returns. */
  tx<T>(fn: () => T): T;
  /** The same for data derived from durable rows: atomic, not waited for on disk (see `withoutWaitingForDisk`). */
  txDerived<T>(fn: () => T): T;
  /** Inside a transaction: `fn` in a savepoint, so that if it throws only its own writes are undone. */
  savepoint<T>(fn: () => T): T;
  close(): void;
}

export function openStore(dataDir: string | ':memory:', opts: OpenOptions = {}): Store {
  const file = dataDir === ':memory:' ? ':memory:' : path.join(dataDir, 'panoptes.db');
  const db = openDatabase(file, opts);
  // One transaction function for every call (better-sqlite3 builds a wrapper per db.transaction() call).
  const inTransaction = db.transaction((fn: () => unknown) => fn());
  const traces = new TraceTable(db);
  return {
    db,
    file,
    events: new EventStore(db),
    monitorState: new MonitorStateStore(db),
    cursors: new CursorStore(db),
    outbox: new OutboxStore(db),
    flags: new FlagTable(db),
    traces,
    notifications: new NotificationTable(db),
    kv: new KvTable(db),
    versions: new VersionStore(db),
    ruleStates: new RuleStateStore(db),
    tx: <T>(fn: () => T) => inTransaction(fn) as T,
    txDerived: <T>(fn: () => T) => withoutWaitingForDisk(db, () => inTransaction(fn) as T),
    savepoint: <T>(fn: () => T) => {
      if (!db.inTransaction) throw new Error('a savepoint needs a transaction under way');
      return inTransaction(fn) as T; // better-sqlite3 runs a transaction function called inside another as a savepoint
    },
    close: () => {
      if (!db.open) return;
      try {
        traces.write(); // what the rule processor kept and had not written yet
      } finally {
        db.close();
      }
    },
  };
}

/** The events of a store another connection (the engine) has open, read-only: for reading history off its thread. */
export function openEventsReadOnly(file: string): { events: EventStore; close(): void } {
  const db = openDatabaseReadOnly(file);
  return { events: new EventStore(db), close: () => db.close() };
}
