// A broker inside this Panoptes (aedes), for two machines and no broker of their own: the agent forwards straight
// to the desktop's port. Off by default. Sessions live in memory, i.e. as long as this process, which is also as
// long as the receiver that consumes them.
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../core/log.js';

export interface EmbeddedBroker {
  port: number;
  host: string;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  log: Logger;
  /** When set, clients must log in with these; otherwise anyone who can reach the port may publish. */
  credentials?: { username: string; password: string } | undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  // Loaded when the broker starts: only a desktop that receives from agents runs one.
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const c = o.credentials;
      if (!c) return done(null, true);
      const ok = username !== undefined && password !== undefined && same(username, c.username) && same(password.toString('utf8'), c.password);
      if (ok) return done(null, true);
      const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
      done(err, false);
    },
  });
  aedes.on('clientError', (client, err) => o.log.debug(`embedded broker: client ${client?.id ?? '?'}: ${err.message}`));
  const server = net.createServer(aedes.handle as unknown as (socket: net.Socket) => void);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  if (!o.credentials && o.host !== '127.0.0.1' && o.host !== '::1' && o.host !== 'localhost') {
    o.log.warn(`the embedded MQTT broker on ${o.host}:${port} accepts anyone who can reach it; set a user name and password for it`);
  }
  o.log.info(`embedded MQTT broker listening on ${o.host}:${port}`);
  return {
    port,
    host: o.host,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
