// The rendered fetch's checking proxy (monitors/web/checking-proxy.ts) on its own, spoken to as Chromium speaks to it:
// only its own browser (the credentials) may use it; plain HTTP is forwarded and HTTPS/WebSocket tunnelled (CONNECT)
// to exactly the addresses it resolved and checked; private addresses are refused for a public page, in every
// spelling, and allowed for a page that is itself private. 127.0.0.2 counts as public here (the tests' policy).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { isPrivateAddress, systemAddressPolicy, type AddressPolicy } from '../../base/address-rule.js';
import { REFUSED_HEADER, startCheckingProxy, type CheckingProxy } from '../../monitors/web/checking-proxy.js';
import { waitFor } from '../helpers/tmp.js';

const servers: http.Server[] = [];
let port = 0;
const seen: string[] = [];
const policy: AddressPolicy = {
  lookup: async (name) => (name === 'www.public.test' ? ['127.0.0.2'] : systemAddressPolicy.lookup(name)),
  isPrivateAddress: (a) => a !== '127.0.0.2' && isPrivateAddress(a),
};

before(async () => {
  for (const host of ['127.0.0.1', '127.0.0.2']) {
    const s = http.createServer((req, res) => {
      seen.push(`${req.socket.localAddress} ${req.url}`);
      res.end('hello');
    });
    port = await new Promise<number>((resolve) => s.listen(port, host, () => resolve((s.address() as AddressInfo).port)));
    servers.push(s);
  }
});
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

const auth = (p: CheckingProxy, password = p.password) => 'Basic ' + Buffer.from(`${p.username}:${password}`).toString('base64');

/** A plain-HTTP request through the proxy, as a browser sends it (absolute URL). */
function viaProxy(p: CheckingProxy, url: string, authorization?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const proxyUrl = new URL(p.server);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, path: url, headers: { host: new URL(url).host, ...(authorization ? { 'proxy-authorization': authorization } : {}) }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A CONNECT through the proxy: its status line, and whether the tunnel then reaches the server. */
function connect(p: CheckingProxy, target: string, authorization?: string): Promise<string> {
  const proxyUrl = new URL(p.server);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, method: 'CONNECT', path: target, headers: authorization ? { 'proxy-authorization': authorization } : {}, agent: false });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return resolve(String(res.statusCode));
      }
      socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('end', () => resolve(`200 ${text.split('\r\n')[0]}`));
      socket.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('only its own browser may use it: no or wrong credentials get 407, and nothing is reached', async () => {
  const p = await startCheckingProxy({ allowPrivate: true, policy, blocked: [] });
  try {
    seen.length = 0;
    assert.equal(new URL(p.server).hostname, '127.0.0.1');
    const none = await viaProxy(p, `http://127.0.0.1:${port}/a`);
    assert.equal(none.status, 407);
    assert.match(String(none.headers['proxy-authenticate']), /^Basic /);
    assert.equal((await viaProxy(p, `http://127.0.0.1:${port}/b`, auth(p, 'guess'))).status, 407);
    assert.equal(await connect(p, `127.0.0.1:${port}`), '407');
    assert.deepEqual(seen, []);
    assert.equal((await viaProxy(p, `http://127.0.0.1:${port}/c`, auth(p))).body, 'hello');
    assert.deepEqual(seen, ['127.0.0.1 /c']);
  } finally {
    await p.close();
  }
});

test('a public page: private addresses refused in every spelling, by forward and by tunnel; public ones reached at the address checked', async () => {
  const blocked: string[] = [];
  const p = await startCheckingProxy({ allowPrivate: false, policy, blocked });
  try {
    seen.length = 0;
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '[::ffff:7f00:1]', '0.0.0.0']) {
      const r = await viaProxy(p, `http://${host}:${port}/leak`, auth(p));
      assert.equal(r.status, 403, host);
      assert.match(String(r.headers[REFUSED_HEADER]), /on this machine or the local network/, host);
      assert.equal(await connect(p, `${host}:${port}`, auth(p)), '403', host);
    }
    assert.deepEqual(seen, [], 'nothing private was reached');
    assert.equal(blocked.length, 10);
    assert.ok(blocked.includes(`http://127.0.0.1:${port}/leak`) && blocked.includes(`127.0.0.1:${port}`), blocked.join(', '));
    // The public name goes to the address the policy gave (the system resolver does not even know it).
    assert.equal((await viaProxy(p, `http://www.public.test:${port}/page`, auth(p))).body, 'hello');
    assert.equal(await connect(p, `www.public.test:${port}`, auth(p)), '200 HTTP/1.1 200 OK');
    assert.deepEqual(seen, ['127.0.0.2 /page', '127.0.0.2 /tunnelled']);
    const unknown = await viaProxy(p, `http://no-such-host.invalid:${port}/`, auth(p));
    assert.equal(unknown.status, 502);
    assert.equal(unknown.headers[REFUSED_HEADER], 'no-such-host.invalid: not a known host name');
  } finally {
    await p.close();
  }
});

test('a private page may reach private addresses through it (the user chose that address)', async () => {
  const p = await startCheckingProxy({ allowPrivate: true, policy, blocked: [] });
  try {
    seen.length = 0;
    assert.equal((await viaProxy(p, `http://localhost:${port}/x`, auth(p))).body, 'hello');
    assert.equal(await connect(p, `127.0.0.1:${port}`, auth(p)), '200 HTTP/1.1 200 OK');
    assert.deepEqual(seen, ['127.0.0.1 /x', '127.0.0.1 /tunnelled']);
  } finally {
    await p.close();
  }
});

test('closing it ends open tunnels', async () => {
  const p = await startCheckingProxy({ allowPrivate: true, policy, blocked: [] });
  const proxyUrl = new URL(p.server);
  const closed = await new Promise<boolean>((resolve, reject) => {
    const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, method: 'CONNECT', path: `127.0.0.1:${port}`, headers: { 'proxy-authorization': auth(p) }, agent: false });
    req.on('connect', (_res, socket: net.Socket) => {
      socket.on('close', () => resolve(true));
      socket.on('error', () => {});
      void p.close();
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(closed, true);
});

// A server that goes on sending after the client ended its side (a FIN is not a reset; nginx does this): closing
// the proxy, or passing a size limit, must cut the server's side of the tunnel too. proxy-chain ends that side
// gracefully when the browser's side closes and reads on to the end of what comes, so such a stream was downloaded,
// and dropped, for as long as the server sent it.
async function endlessServer(): Promise<{ port: number; readonly closedAfter: number | undefined; close(): void }> {
  let sent = 0;
  /** What it had sent when its connection closed. */
  let closedAfter: number | undefined;
  const piece = Buffer.alloc(256 * 1024, 0x61);
  const sockets = new Set<net.Socket>();
  const s = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => (closedAfter = sent));
    const more = () => {
      while (!socket.destroyed && socket.write(piece)) sent += piece.length;
      if (!socket.destroyed) socket.once('drain', more);
    };
    more();
  });
  const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  return {
    port,
    get closedAfter() {
      return closedAfter;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      s.close();
    },
  };
}

/** A tunnel through `p` to `port`, read until `bytes` came; then `cut()`; the server must see its connection close. */
async function cutTunnel(p: CheckingProxy, port: number, bytes: number, cut: () => void): Promise<void> {
  const proxyUrl = new URL(p.server);
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, method: 'CONNECT', path: `127.0.0.1:${port}`, headers: { 'proxy-authorization': auth(p) }, agent: false });
    req.on('connect', (_res, socket: net.Socket) => {
      let got = 0;
      socket.on('error', () => {});
      socket.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= bytes && got - c.length < bytes) {
          cut();
          resolve();
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test("closing it cuts the server's side of a tunnel too, even from a server that goes on sending after a FIN", async () => {
  const server = await endlessServer();
  const p = await startCheckingProxy({ allowPrivate: true, policy, blocked: [] });
  try {
    await cutTunnel(p, server.port, 1024 * 1024, () => void p.close());
    const sent = await waitFor(() => server.closedAfter, "the server's connection to close", 5_000);
    assert.ok(sent < 64 * 1024 * 1024, `the server was cut soon after the close (sent ${sent} bytes)`);
  } finally {
    server.close();
  }
});

test("passing the size cap cuts the server's side of a tunnel too", async () => {
  const server = await endlessServer();
  const p = await startCheckingProxy({ allowPrivate: true, policy, blocked: [], limits: { pageUrl: 'https://127.0.0.1/', maxPageBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 } });
  try {
    await cutTunnel(p, server.port, 1, () => {});
    assert.deepEqual(await waitFor(() => p.over, 'the cap to be passed', 5_000), { kind: 'total', limit: 4 * 1024 * 1024 });
    const sent = await waitFor(() => server.closedAfter, "the server's connection to close", 5_000);
    assert.ok(sent < 64 * 1024 * 1024, `the server was cut soon after the cap (sent ${sent} bytes)`);
  } finally {
    server.close();
    await p.close();
  }
});
