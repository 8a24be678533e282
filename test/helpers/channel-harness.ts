// Run a channel plug-in the way the engine does: its config validated by its own schema (settings and secrets
// together, as the engine fills them in), a bounded fetch, and a notification like the center makes.
import http from 'node:http';
import type { ChannelDefinition, OutgoingNotification } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { boundedFetch } from '../../base/http.js';
import { parseChannelConfig, splitChannelSecrets } from '../../core/channel-config.js';
import { silentLogger } from '../../core/log.js';

export function notification(over: Partial<OutgoingNotification> = {}): OutgoingNotification {
  return {
    id: 'n-1',
    idempotencyKey: 'notif-01HX:ntfy:phone',
    title: 'Build failed',
    body: 'main is red <b>again</b> & again',
    url: 'https://ci.example.org/run/42',
    priority: 'high',
    kind: 'single',
    count: 1,
    at: '2026-12-06T12:00:00.000Z',
    ...over,
  };
}

export async function sendWith<C>(def: ChannelDefinition<C>, config: Record<string, unknown>, m: OutgoingNotification = notification()): Promise<void> {
  const parsed = parseChannelConfig(def, config);
  const { secrets } = splitChannelSecrets(def, config);
  const controller = new AbortController();
  await def.send(m, {
    config: parsed,
    secrets: Object.fromEntries(Object.entries(secrets).filter(([, v]) => v != null)) as Record<string, string>,
    signal: controller.signal,
    log: silentLogger,
    fetch: (url, options) => boundedFetch(url, options, controller.signal),
  });
}

/** The ChannelError a send fails with (fails the test if it succeeds or throws something else). */
export async function sendError<C>(def: ChannelDefinition<C>, config: Record<string, unknown>, m?: OutgoingNotification): Promise<ChannelError> {
  try {
    await sendWith(def, config, m);
  } catch (err) {
    if (err instanceof ChannelError) return err;
    throw err;
  }
  throw new Error('the send succeeded');
}

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeService {
  origin: string;
  received: Received[];
  /** Answer the next requests with these instead of the service's happy answer. */
  answers: ((req: Received, res: http.ServerResponse) => void)[];
  close(): Promise<void>;
}

/** A local HTTP server playing a notification service: `ok` gives its normal answer; queued `answers` go first. */
export async function fakeService(ok: (req: Received, res: http.ServerResponse) => void): Promise<FakeService> {
  const received: Received[] = [];
  const answers: FakeService['answers'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      (answers.shift() ?? ok)(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function text(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
}
