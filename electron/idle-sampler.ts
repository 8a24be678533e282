/**
 * The shell's end of the idle relay (monitors/idle/relay.ts): while the engine has an idle monitor running it asks
 * for samples, and this reads the OS idle time (Electron's powerMonitor, given as `read`) at that pace and posts it.
 * Nothing is polled while no idle monitor runs. No Electron import, so tests drive it with plain timers.
 */
import type { IdleSampleMessage, IdleWatchMessage } from '../core/shell-messages.js';

const MIN_INTERVAL_MS = 200;
const MAX_INTERVAL_MS = 60_000;

export function isIdleWatch(msg: unknown): msg is IdleWatchMessage {
  const m = msg as Partial<IdleWatchMessage> | null;
  return !!m && m.type === 'idle-watch' && (m.intervalMs === null || (typeof m.intervalMs === 'number' && Number.isFinite(m.intervalMs)));
}

export class IdleSampler {
  private timer: NodeJS.Timeout | null = null;
  private interval: number | null = null;

  constructor(
    /** Seconds without input, as the OS says (powerMonitor.getSystemIdleTime). */
    private readonly read: () => number,
    private readonly post: (msg: IdleSampleMessage) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Handles an `idle-watch` message; false for anything else. */
  onMessage(msg: unknown): boolean {
    if (!isIdleWatch(msg)) return false;
    this.stop();
    if (msg.intervalMs === null) return true;
    this.interval = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, msg.intervalMs));
    this.sample(); // the monitor should not wait a whole interval for its first reading
    this.timer = setInterval(() => this.sample(), this.interval);
    return true;
  }

  get intervalMs(): number | null {
    return this.interval;
  }

  /** The engine went away (or the app quits): stop reading. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.interval = null;
  }

  private sample(): void {
    let idleSeconds: number;
    try {
      idleSeconds = this.read();
    } catch {
      return; // a platform that cannot tell this once: the next tick tries again
    }
    if (Number.isFinite(idleSeconds) && idleSeconds >= 0) this.post({ type: 'idle-sample', at: this.now(), idleSeconds });
  }
}
