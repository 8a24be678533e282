// One IRC connection: register (taking "nick_" when the nick is in use, and reclaiming it later), join the
// channels, and when the link drops — server gone, ping timeout, kicked off — reconnect with backoff and rejoin.
import type { Client, MessageEvent } from 'irc-framework';
import { ircPort, type IrcConfig } from './settings.js';
import { backoffDelay } from '../../base/backoff.js';
import { reconnectLoop } from '../../base/reconnect.js';
import { CertificateError, certificateProblem, readCaFile } from '../../base/tls.js';

export interface SessionHooks {
  onReady(joined: string[], nick: string): void;
  onDown(error: Error, retryInMs: number): void;
  onMessage(event: MessageEvent, isAction: boolean): void;
}

const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 5 * 60_000;
const REGISTER_TIMEOUT_MS = 30_000;
const RECLAIM_NICK_MS = 60_000;
/** A refused certificate does not fix itself: retry slowly instead of knocking every second. */
const CERT_RETRY_BASE_MS = 5 * 60_000;
const CERT_RETRY_CAP_MS = 60 * 60_000;


/** irc-framework, loaded by the first connection, not with the engine (#22: idle memory). */
let irc: typeof import('irc-framework').default | undefined;

/** Build a client and connect it; resolves once registered (with the nick it got), rejects on failure. */
export async function connectClient(config: IrcConfig, secrets: Readonly<Record<string, string>>, signal: AbortSignal, nick = config.nick): Promise<Client> {
  const { Client } = (irc ??= (await import('irc-framework')).default);
  const { verifyingTransport } = await import('./tls-transport.js');
  // Read before anything connects, so a missing CA file is reported as such.
  const ca = config.tls ? readCaFile(config.ca) : undefined;
  const where = `${config.host}:${ircPort(config)}`;
  // A refused certificate arrives as a socket error/close; say so instead of "connection closed".
  const socketFailure = (what: string, err?: Error) => certificateProblem(err, where, config.ca) ?? new Error(`${what}${err?.message ? `: ${err.message}` : ''}`);
  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let attempt = 0;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      try {
        client.quit();
      } catch {
        /* not connected */
      }
      client.removeAllListeners();
      reject(err);
    };
    const onAbort = () => fail(new Error('stopped'));
    const timer = setTimeout(() => fail(new Error(`no registration with ${config.host} within ${REGISTER_TIMEOUT_MS / 1000} s`)), REGISTER_TIMEOUT_MS);
    signal.addEventListener('abort', onAbort, { once: true });
    // Nick collision while registering: try nick_, nick__, then nick + digits.
    client.on('nick in use', () => {
      if (settled) return;
      attempt++;
      const alt = attempt <= 2 ? config.nick + '_'.repeat(attempt) : `${config.nick.slice(0, 24)}${Math.floor(Math.random() * 10_000)}`;
      client.changeNick(alt);
    });
    client.on('irc error', (e: { error?: string; reason?: string }) => {
      if (!settled && e?.error === 'password_mismatch') fail(new Error(`server password rejected by ${config.host}`));
    });
    client.on('sasl failed', () => fail(new Error(`SASL login failed for "${config.saslAccount}"`)));
    client.on('socket close', (err?: Error) => fail(socketFailure(`connection to ${where} closed`, err)));
    client.on('socket error', (err?: Error) => fail(socketFailure(`cannot connect to ${where}`, err)));
    client.once('registered', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      client.removeAllListeners('socket error');
      client.removeAllListeners('socket close');
      client.removeAllListeners('nick in use');
      resolve(client);
    });
    const password = secrets.password;
    const saslPassword = secrets.saslPassword;
    client.connect({
      host: config.host,
      port: ircPort(config),
      tls: config.tls,
      transport: verifyingTransport(ca),
      nick,
      username: config.username ?? config.nick,
      gecos: config.realname ?? 'Panoptes',
      password: password || undefined,
      account: config.saslAccount && saslPassword ? { account: config.saslAccount, password: saslPassword } : undefined,
      auto_reconnect: false, // we reconnect ourselves, with backoff and health
      ping_interval: 30,
      ping_timeout: 90,
      version: 'Panoptes',
    });
  });
}

/** Live connections by network name, so the "chat" action can post through a connection that is already up. */
export const liveConnections = new Map<string, IrcSession>();

export class IrcSession {
  private client: Client | null = null;
  private readonly joined = new Set<string>();
  private reclaimTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: IrcConfig,
    private readonly secrets: Readonly<Record<string, string>>,
    private readonly hooks: SessionHooks,
    private readonly signal: AbortSignal,
  ) {}

  get nick(): string {
    return this.client?.user.nick ?? this.config.nick;
  }

  isJoined(channel: string): boolean {
    return this.joined.has(channel.toLowerCase());
  }

  /** Post through this connection, joining the channel first if needed (many channels refuse outside messages). */
  async say(target: string, text: string): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`not connected to ${this.config.host} right now`);
    if (/^[#&+!]/.test(target) && !this.isJoined(target)) await this.joinAndWait(client, target);
    for (const line of text.split(/\r?\n/).filter(Boolean)) client.say(target, line);
  }

  private joinAndWait(client: Client, channel: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => (client.off('join', onJoin), reject(new Error(`could not join ${channel}`))), 15_000);
      const onJoin = (e: { nick: string; channel: string }) => {
        if (e.nick === client.user.nick && e.channel.toLowerCase() === channel.toLowerCase()) {
          clearTimeout(t);
          client.off('join', onJoin);
          resolve();
        }
      };
      client.on('join', onJoin);
      client.join(channel);
    });
  }

  run(): Promise<void> {
    return reconnectLoop(
      async (signal, up) => {
        const client = await connectClient(this.config, this.secrets, signal);
        if (signal.aborted) {
          client.quit('Panoptes stopping');
          return;
        }
        return this.serve(client, up);
      },
      {
        signal: this.signal,
        baseMs: RETRY_BASE_MS,
        capMs: RETRY_CAP_MS,
        delayFor: (failure, failures) => (failure instanceof CertificateError ? backoffDelay(failures, CERT_RETRY_BASE_MS, CERT_RETRY_CAP_MS) : undefined),
        onDown: (failure, delay) => this.hooks.onDown(failure, delay),
      },
    );
  }

  /** Runs one registered connection until it drops; returns why. */
  private serve(client: Client, up: () => void): Promise<Error> {
    this.client = client;
    this.joined.clear();
    return new Promise<Error>((resolve) => {
      let done = false;
      const finish = (err: Error) => {
        if (done) return;
        done = true;
        if (this.reclaimTimer) clearInterval(this.reclaimTimer);
        this.reclaimTimer = null;
        this.signal.removeEventListener('abort', onAbort);
        this.client = null;
        this.joined.clear();
        client.removeAllListeners();
        resolve(err);
      };
      const onAbort = () => {
        try {
          client.quit('Panoptes stopping');
        } catch {
          /* already down */
        }
        finish(new Error('stopped'));
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      client.on('socket close', (err?: Error) => finish(new Error(`disconnected from ${this.config.host}${err?.message ? `: ${err.message}` : ''}`)));
      client.on('close', () => finish(new Error(`disconnected from ${this.config.host}`)));
      client.on('privmsg', (e: MessageEvent) => this.hooks.onMessage(e, false));
      client.on('action', (e: MessageEvent) => this.hooks.onMessage(e, true));
      client.on('join', (e: { nick: string; channel: string }) => {
        if (e.nick !== client.user.nick) return;
        this.joined.add(e.channel.toLowerCase());
        if (this.config.channels.every((c) => this.isJoined(c))) this.ready();
      });
      client.on('kick', (e: { kicked: string; channel: string }) => {
        if (e.kicked !== client.user.nick) return;
        this.joined.delete(e.channel.toLowerCase());
        // Kicked from a watched channel: try to get back in a little later.
        setTimeout(() => !done && client.join(e.channel), 10_000).unref();
      });
      client.on('nick in use', () => {
        /* a reclaim attempt failed: keep the alternative nick and try again later */
      });
      if (client.user.nick !== this.config.nick) {
        this.reclaimTimer = setInterval(() => client.user.nick !== this.config.nick && client.changeNick(this.config.nick), RECLAIM_NICK_MS);
        this.reclaimTimer.unref();
      }
      up();
      if (!this.config.channels.length) this.ready();
      for (const ch of this.config.channels) client.join(ch);
    });
  }

  private ready(): void {
    this.hooks.onReady([...this.joined], this.nick);
  }
}
