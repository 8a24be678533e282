import type { ConfigStore } from '../../core/config/config-store.js';
import type { PanoptesEvent, NewEvent, StoredEvent } from '../../core/event.js';
import type { Logger } from '../../core/log.js';
import type { SecretStore } from '../../core/secrets.js';
import type { Store } from '../../core/store/index.js';
import type { AgentInventory } from './wire.js';
import type { ConfigDocument } from '../../core/config/schema.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import type { ActionKinds } from '../../rules/index.js';
import type { ParamsOf, ResultOf } from '../../core/protocol.js';

/**
 * What forwarding needs of the engine it runs in: its settings and secrets, the store, its name, and the event
 * stream in both directions. Narrow on purpose, so forwarding can be started and tested without a whole engine.
 */
export interface ForwardingHost {
  readonly config: ConfigStore;
  readonly secrets: SecretStore;
  readonly store: Store;
  readonly agentId: string;
  readonly log: Logger;
  onEvent(listener: (e: PanoptesEvent) => void): () => void;
  /** Take in an event made on another machine; a redelivered id is dropped. */
  ingest(event: PanoptesEvent): Promise<StoredEvent | null>;
  /** Store an event of this instance's own (peer online/offline). */
  emit(source: string, event: NewEvent): Promise<StoredEvent | null>;
  /** What this instance tells about itself in its retained status (monitors with health, last event, paused). */
  inventory?(): AgentInventory;
  /** The data folder (the desktop's fleet key lives there). */
  readonly dataDir: string;
  /** What a configuration sent by the desktop is checked against: the monitor types and rule actions of this build. */
  readonly definitions: ReadonlyMap<string, MonitorDefinition>;
  readonly actionKinds: ActionKinds;
  /** The configuration was changed (by a change from the desktop): bring monitors and rules in line. */
  configChanged(before: ConfigDocument, after: ConfigDocument): void;
  /** All monitors paused (the tray's "Pause all monitors"; also asked by the desktop of an agent). */
  readonly paused?: boolean;
  setPaused?(paused: boolean): Promise<void>;
  /** This engine's own protocol requests: the desktop's questions ("Test now", recent events, health) run through them. */
  request?<M extends 'monitors.test' | 'monitors.checkNow' | 'events.list' | 'monitors.list'>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
}
