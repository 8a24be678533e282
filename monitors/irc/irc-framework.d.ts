// The part of irc-framework (which ships no types) that Panoptes uses.
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';

  export interface ConnectOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    password?: string;
    account?: { account: string; password: string };
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    version?: string;
    encoding?: string;
    /** A transport class (constructed with these options) instead of the built-in TCP/TLS one. */
    transport?: unknown;
  }

  export interface MessageEvent {
    nick: string;
    ident?: string;
    hostname?: string;
    target: string;
    message: string;
    type?: string;
    time?: number;
  }

  export class Client extends EventEmitter {
    constructor(options?: Partial<ConnectOptions>);
    user: { nick: string };
    connected: boolean;
    connect(options?: Partial<ConnectOptions>): void;
    join(channel: string, key?: string): void;
    say(target: string, text: string): void;
    changeNick(nick: string): void;
    quit(message?: string): void;
    raw(...args: string[]): void;
  }

  const irc: { Client: typeof Client };
  export default irc;
}

// The built-in TCP/TLS transport, subclassed by tls-transport.ts to verify against a private CA.
declare module 'irc-framework/src/transports/net.js' {
  import { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  export default class NetTransport extends EventEmitter {
    constructor(options: Record<string, unknown>);
    options: Record<string, unknown> & { host?: string; port?: number; tls?: boolean; ssl?: boolean; encoding?: string };
    socket: Socket | null;
    state: number;
    incoming_buffer: Buffer;
    requested_disconnect: boolean;
    connect(): void;
    disposeSocket(): void;
    setEncoding(encoding: string): boolean;
    _onSocketCreate(options: Record<string, unknown>, socket: Socket): void;
  }
}
