/**
 * Idle time relayed from the desktop shell. In the desktop app the engine runs in a utilityProcess, where neither
 * the X screensaver (absent on Wayland) nor Electron's powerMonitor can be read; the main process can read
 * `powerMonitor.getSystemIdleTime()` on every OS, so it samples that while an idle monitor runs and posts the
 * samples here. The idle monitor reads them through an ordinary probe, and the same state machine decides.
 *
 * The OS reports whole seconds, so successive readings of one quiet stretch put the last input up to a second
 * apart; left as is, that jitter would look like fresh input to the machine. `LastInputEstimate` narrows the
 * readings to one instant instead, and only a reading that cannot be the same input moves it.
 */
import type { IdleProbe } from './probe.js';

export type { IdleSampleMessage, IdleWatchMessage } from '../../core/shell-messages.js';
import type { IdleSampleMessage, IdleWatchMessage } from '../../core/shell-messages.js';

export function isIdleSample(msg: unknown): msg is IdleSampleMessage {
  const m = msg as Partial<IdleSampleMessage> | null;
  return !!m && m.type === 'idle-sample' && Number.isFinite(m.at) && Number.isFinite(m.idleSeconds) && (m.idleSeconds as number) >= 0;
}

/** Readings closer than this to an earlier interval are taken as the same input (the call itself takes time). */
const JITTER_MS = 20;

export class LastInputEstimate {
  private lo = 0;
  private hi = 0;
  private known = false;

  constructor(private readonly quantumMs = 1000) {}

  /**
   * A reading of whole seconds `s` at `at` means the last input was in (at − (s+1)·q, at − s·q]. While readings
   * overlap, they describe the same input and the interval only narrows; one that does not overlap is new input.
   * Returns the latest instant the last input can have been.
   */
  update(at: number, idleSeconds: number): number {
    const hi = at - Math.floor(idleSeconds) * this.quantumMs;
    const lo = hi - this.quantumMs;
    if (this.known && lo <= this.hi + JITTER_MS && hi >= this.lo - JITTER_MS) {
      this.lo = Math.max(this.lo, lo);
      this.hi = Math.max(this.lo, Math.min(this.hi, hi));
    } else {
      this.lo = lo;
      this.hi = hi;
      this.known = true;
    }
    return this.hi;
  }
}

export type RelayedProbe = IdleProbe & { close(): void };

/** The engine's end: hands out probes to idle monitors and tells the shell how often to sample while any exist. */
export class IdleRelay {
  private readonly estimate = new LastInputEstimate();
  private lastInput: number | null = null;
  private readonly watchers = new Map<number, number>();
  private nextId = 1;
  private announced: number | null = null;

  constructor(
    private readonly send: (msg: IdleWatchMessage) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** For `createIdleDefinition`: one probe per running idle monitor. */
  readonly probeFactory = (opts: { pollMs?: number } = {}): RelayedProbe => {
    const id = this.nextId++;
    this.watchers.set(id, Math.max(200, opts.pollMs ?? 5_000));
    this.announce();
    const probe = (() => {
      // Before the first sample nothing is known: report activity rather than invent an idle period.
      if (this.lastInput === null) return 0;
      return Math.max(0, this.now() - this.lastInput);
    }) as RelayedProbe;
    probe.close = () => {
      if (this.watchers.delete(id)) this.announce();
    };
    return probe;
  };

  /** A message from the shell; false when it is not an idle sample (so the caller can route it elsewhere). */
  onMessage(msg: unknown): boolean {
    if (!isIdleSample(msg)) return false;
    this.lastInput = this.estimate.update(msg.at, msg.idleSeconds);
    return true;
  }

  /** The sampling interval the shell was last asked for (null: not sampling). */
  get intervalMs(): number | null {
    return this.announced;
  }

  private announce(): void {
    const next = this.watchers.size ? Math.min(...this.watchers.values()) : null;
    if (next === this.announced) return;
    this.announced = next;
    this.send({ type: 'idle-watch', intervalMs: next });
  }
}
