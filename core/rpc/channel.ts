import type { WireMessage } from '../protocol.js';

/** Any duplex message channel the protocol can ride on: a WebSocket, an Electron MessagePort, an in-process pair. */
export interface Channel {
  send(message: WireMessage): void;
  onMessage(listener: (message: WireMessage) => void): void;
  onClose(listener: () => void): void;
  close(): void;
}

/** Two connected in-process channels (tests, the CLI talking to an engine in the same process). */
export function channelPair(): [Channel, Channel] {
  const make = () => ({ listeners: [] as ((m: WireMessage) => void)[], closers: [] as (() => void)[], closed: false });
  const a = make();
  const b = make();
  const side = (self: typeof a, other: typeof a): Channel => ({
    send: (m) => {
      if (self.closed) return;
      const copy = structuredClone(m);
      queueMicrotask(() => other.listeners.forEach((l) => l(copy)));
    },
    onMessage: (l) => void self.listeners.push(l),
    onClose: (l) => void self.closers.push(l),
    close: () => {
      if (self.closed) return;
      self.closed = other.closed = true;
      [...self.closers, ...other.closers].forEach((c) => c());
    },
  });
  return [side(a, b), side(b, a)];
}
