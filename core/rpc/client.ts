import type { Channel } from './channel.js';
import type { Method, ParamsOf, ProtocolError, Pushes, ResultOf, Topic, WireMessage } from '../protocol.js';

export class RemoteError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
    this.name = 'RemoteError';
  }
}

/** A typed client for the protocol over any channel (the CLI uses it over a WebSocket). */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<Topic, Set<(data: unknown) => void>>();

  constructor(private readonly channel: Channel) {
    channel.onMessage((msg: WireMessage) => {
      if (msg.kind === 'res') {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new RemoteError(msg.error));
      } else if (msg.kind === 'push') {
        this.listeners.get(msg.topic)?.forEach((l) => l(msg.data));
      }
    });
    channel.onClose(() => {
      for (const p of this.pending.values()) p.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send({ kind: 'req', id, method, params });
    });
  }

  on<T extends Topic>(topic: T, listener: (data: Pushes[T]) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener as (d: unknown) => void);
    return () => set!.delete(listener as (d: unknown) => void);
  }

  /** The connection ended (the other side stopped, or `close`). */
  onClose(listener: () => void): void {
    this.channel.onClose(listener);
  }

  close(): void {
    this.channel.close();
  }
}
