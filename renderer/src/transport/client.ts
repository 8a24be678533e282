import type { Method, ParamsOf, ProtocolError, Pushes, ResultOf, Topic, ValidationIssue, WireMessage } from '../../../core/protocol.js';
import type { CloseReason, Connector, Link } from './links.js';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'rejected';

/** A failed request, carrying the service's error code and (for `invalid`) the issues with their paths. */
export class RequestError extends Error {
  readonly code: ProtocolError['code'];
  readonly issues: ValidationIssue[];
  constructor(err: ProtocolError) {
    super(err.message);
    this.code = err.code;
    this.issues = err.issues ?? [];
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const REQUEST_TIMEOUT_MS = 60_000;
// The agent is on this machine: after a restart the page should be back within seconds, not a quarter minute.
const MAX_BACKOFF_MS = 5_000;

/**
 * The renderer's one way to the engine: typed requests, push subscriptions and the connection state.
 * It reconnects with exponential backoff when the link drops; listeners of `onStatus` re-fetch on `open`.
 */
export class PanoptesClient {
  private link: Link | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private pushListeners = new Map<Topic, Set<(data: never) => void>>();
  private statusListeners = new Set<(s: ConnectionStatus) => void>();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  status: ConnectionStatus = 'connecting';
  /** Increments on every successful (re)connection, so views know when to re-fetch. */
  generation = 0;

  constructor(private readonly connector: Connector, private readonly reconnects = true) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.link?.close();
    this.link = null;
    this.failPending('client stopped');
  }

  /** Try again now (after a rejected token the user may have fixed, or to skip the backoff wait). */
  retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.link?.close();
    this.attempt = 0;
    this.setStatus('connecting');
    this.open();
  }

  request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return new Promise((resolve, reject) => {
      if (!this.link || this.status !== 'open') {
        reject(new RequestError({ code: 'unavailable', message: 'Not connected to the Panoptes engine' }));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError({ code: 'unavailable', message: `${method} timed out` }));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.link.send({ kind: 'req', id, method, params });
    });
  }

  on<T extends Topic>(topic: T, fn: (data: Pushes[T]) => void): () => void {
    let set = this.pushListeners.get(topic);
    if (!set) this.pushListeners.set(topic, (set = new Set()));
    set.add(fn as (data: never) => void);
    return () => set.delete(fn as (data: never) => void);
  }

  onStatus(fn: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  private open(): void {
    if (this.stopped) return;
    this.link = this.connector({
      onOpen: () => {
        this.attempt = 0;
        this.generation++;
        this.setStatus('open');
      },
      onMessage: (msg) => this.dispatch(msg),
      onClose: (reason) => this.closed(reason),
    });
  }

  private closed(reason: CloseReason): void {
    // A MessagePort link stays the same object and re-opens by itself when a new port arrives.
    if (this.reconnects) this.link = null;
    this.failPending('Connection to the Panoptes engine was lost');
    if (this.stopped) return;
    if (reason === 'rejected') {
      this.setStatus('rejected');
      return;
    }
    this.setStatus('reconnecting');
    if (!this.reconnects) return;
    // Exponential backoff with jitter, so many tabs do not hammer an agent that is restarting.
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++);
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  private dispatch(msg: WireMessage): void {
    if (msg.kind === 'res') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new RequestError(msg.error));
    } else if (msg.kind === 'push') {
      const set = this.pushListeners.get(msg.topic);
      if (!set) return;
      for (const fn of [...set]) {
        try {
          (fn as (d: unknown) => void)(msg.data);
        } catch (err) {
          console.error('push listener failed', msg.topic, err);
        }
      }
    }
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError({ code: 'unavailable', message }));
      this.pending.delete(id);
    }
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const fn of [...this.statusListeners]) fn(s);
  }
}
