import type { Store, OutboxItem } from '../core/store/index.js';
import type { Logger } from '../core/log.js';
import { backoffDelay, errorText } from '../core/monitor-host.js';
import { actionKind } from './rule-processor.js';

export interface ActionContext {
  ruleId: string;
  eventId: string;
  signal: AbortSignal;
}

export interface ActionExecutor {
  /** Safe to run again after a crash left it half-done (a webhook, a mail); a notification is not. */
  retrySafe: boolean;
  maxAttempts?: number;
  run(action: Record<string, unknown>, ctx: ActionContext): Promise<void>;
}

/**
 * Runs outbox actions one at a time per kind-agnostic queue, marking each in the store before and after, so a
 * crash neither loses an action nor (for non-idempotent ones) repeats it.
 */
export class OutboxDispatcher {
  private running = false;
  private current: Promise<void> = Promise.resolve();
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly controller = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly executors: Map<string, ActionExecutor>,
    private readonly log: Logger,
  ) {
    const r = store.outbox.recoverInflight((a) => this.executors.get(actionKind(a))?.retrySafe ?? false);
    if (r.requeued || r.abandoned) log.info(`outbox after restart: ${r.requeued} retried, ${r.abandoned} not repeated`);
  }

  wake(): void {
    if (this.controller.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = this.drain().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.wake();
      } else this.arm();
    });
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const next = this.store.outbox.nextDue();
    if (next === null || this.controller.signal.aborted) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.min(next - Date.now(), 2 ** 31 - 1)));
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = this.store.outbox.due(Date.now(), 50);
      if (!due.length || this.controller.signal.aborted) return;
      for (const item of due) await this.runOne(item);
    }
  }

  private async runOne(item: OutboxItem): Promise<void> {
    const kind = actionKind(item.action);
    const exec = this.executors.get(kind);
    if (!exec) {
      this.store.outbox.markFailed(item, `no "${kind}" action is available in this Panoptes`);
      return;
    }
    this.store.outbox.markInflight(item);
    try {
      await exec.run(item.action, { ruleId: item.ruleId, eventId: item.eventId, signal: this.controller.signal });
      // Shutting down mid-action: leave it in flight; the next start decides whether it may be repeated.
      if (this.controller.signal.aborted) return;
      this.store.outbox.markDone(item);
    } catch (err) {
      if (this.controller.signal.aborted) return;
      const msg = errorText(err);
      const max = exec.maxAttempts ?? (exec.retrySafe ? 6 : 1);
      if (item.attempts + 1 < max && !(err as { permanent?: boolean }).permanent) {
        const at = Date.now() + backoffDelay(item.attempts + 1, 5_000, 30 * 60_000);
        this.store.outbox.retryLater(item, at, msg);
        this.log.warn(`${kind} action of rule ${item.ruleId} failed (attempt ${item.attempts + 1}/${max}), retrying: ${msg}`);
      } else {
        this.store.outbox.markFailed(item, msg);
        this.log.warn(`${kind} action of rule ${item.ruleId} failed for good: ${msg}`);
      }
    }
  }

  /** Stop taking actions; resolves when the one under way (if any) has returned. */
  async close(): Promise<void> {
    this.controller.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.current.catch(() => {});
  }
}

/** An error that retrying will not fix (a disabled feature, a bad address). */
export function permanentError(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}
