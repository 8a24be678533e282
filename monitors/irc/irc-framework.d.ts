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
