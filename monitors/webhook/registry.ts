// Running webhook monitors announce their hook here; the agent's HTTP server looks hooks up here. The registry is
// the only thing the two share, so the server needs no knowledge of monitors and the monitor none of HTTP.
import type { NewEvent } from '../../core/event.js';
import type { Hook } from './handler.js';

export interface RegisteredHook extends Hook {
  /**
   * The owning monitor instance's durable emit, so the event gets that instance as its source. With the sender's
   * idempotency key, a key already stored is not stored again: resolves `false` for such a repeat.
   */
  emit(event: NewEvent, idempotencyKey?: string): Promise<boolean | void>;
}

export class WebhookRegistry {
  private readonly hooks = new Map<string, RegisteredHook>();

  /** Returns the function that removes exactly this registration (a newer one for the same id stays). */
  register(hook: RegisteredHook): () => void {
    if (this.hooks.has(hook.id)) throw new Error(`another webhook monitor already uses the hook id "${hook.id}"`);
    this.hooks.set(hook.id, hook);
    return () => {
      if (this.hooks.get(hook.id) === hook) this.hooks.delete(hook.id);
    };
  }

  get(id: string): RegisteredHook | undefined {
    return this.hooks.get(id);
  }

  ids(): string[] {
    return [...this.hooks.keys()];
  }
}

/** The process-wide registry the webhook monitor and the agent's server share. */
export const webhookRegistry = new WebhookRegistry();
