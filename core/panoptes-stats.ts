// How the system monitor learns about Panoptes itself. The engine knows the store and the rule runner; a
// monitor may not import them (monitors import only core/). So the engine hands the numbers in, one of two ways:
//   1. as an extension of the MonitorContext: `ctx.panoptesStats()` (preferred: per host, easy to test), or
//   2. once at start-up: `setPanoptesStatsProvider(() => ({ ... }))`.
// Without either, `panoptes.health` still reports the process's own memory, and the rest as null.

export interface PanoptesStats {
  /** Total events stored so far (a counter: the monitor turns its growth into a rate). */
  eventsStored: number;
  /** How far the rules lag behind the store: now minus the receivedAt of the oldest event not yet processed, in ms (0 when caught up). */
  processingLagMs: number | null;
  /** Size of the database files on disk, in bytes. */
  storeBytes: number | null;
}

export type PanoptesStatsProvider = () => PanoptesStats | Promise<PanoptesStats>;

/** The optional MonitorContext extension the engine may add. */
export interface PanoptesStatsContext {
  panoptesStats?: PanoptesStatsProvider;
}

let registered: PanoptesStatsProvider | null = null;

export function setPanoptesStatsProvider(provider: PanoptesStatsProvider | null): void {
  registered = provider;
}

export function registeredPanoptesStatsProvider(): PanoptesStatsProvider | null {
  return registered;
}
