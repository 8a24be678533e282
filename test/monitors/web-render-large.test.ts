// A 50 MB page, rendered: the web monitor's rendered fetch must say "the page is larger than the 5 MiB a page may
// have" as the plain fetch does (web-large.test.ts), and promptly — not let the browser load the whole page and end
// at the check's timeout. Declared (Content-Length; also behind a redirect), and chunked without a length at a slow
// pace, over plain HTTP (cut by the checking proxy) and over HTTPS (the proxy sees only a tunnel: the browser's own
// count of the document's bytes, over the DevTools protocol, ends it); a small page that pulls 200 MiB of images (the
// cap on all a render may download — and past it every connection is closed, none left reading to its end, which an
// HTTPS tunnel's graceful close used to do); each also through the desktop app's path (the shell's offscreen window,
// played by Debian's Chromium answering its messages, test/helpers/chromium-answerer.ts).
// What shows the page was cut rather than read: the check's message, the check ending before the timeout the test
// gives it, and the server seeing its connection closed long before it sent 50 MiB.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import web from '../../monitors/web/index.js';
import { usePageRenderer } from '../../monitors/web/page-renderer.js';
import { ShellPageRenderer } from '../../monitors/web/shell-renderer.js';
import { answerWithChromium } from '../helpers/chromium-answerer.js';
import { createTestContext } from './web-test-context.js';
import { startTestServer, type Handler, type TestServer } from '../helpers/http-server.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';

const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
const MiB = 1024 * 1024;
const TIMEOUT_S = 60;

let server: TestServer;
/** The same pages over HTTPS (a certificate from a CA made for this run), and a Chromium told to accept it. */
let tls: https.Server;
let tlsOrigin = '';
let pki: TestPki;
let wrapperDir = '';
/** Bytes of body each request path got sent before it ended or its connection closed. */
const sent = new Map<string, number>();
/** Request paths whose answer has ended or whose connection closed. */
const serverClosed = new Set<string>();

/** Poll for `cond` (the machine is loaded: generous, no fixed sleeps). */
async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A page of paragraphs, as a long real page is (not one huge element, not millions of tiny ones).
const paragraph = `<p>${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(17)}</p>\n`;
const chunkOfPage = Buffer.from(paragraph.repeat(Math.ceil((256 * 1024) / paragraph.length))).subarray(0, 256 * 1024);

/** A 24-bit BMP of about 20 MiB: uncompressed, so any pixel bytes make a valid image the browser loads to its end. */
function bitmap(): Buffer {
  const width = 1024;
  const height = 6827;
  const pixels = width * 3 * height;
  const head = Buffer.alloc(54);
  head.write('BM', 0, 'latin1');
  head.writeUInt32LE(54 + pixels, 2);
  head.writeUInt32LE(54, 10);
  head.writeUInt32LE(40, 14);
  head.writeInt32LE(width, 18);
  head.writeInt32LE(height, 22);
  head.writeUInt16LE(1, 26);
  head.writeUInt16LE(24, 28);
  head.writeUInt32LE(pixels, 34);
  return Buffer.concat([head, Buffer.alloc(pixels, 0x5a)]);
}
const photo = bitmap();

/** Send `total` bytes of `body(offset)` in 256 KiB pieces, `gapMs` apart, honouring backpressure; stop when the client goes away. */
function stream(key: string, res: http.ServerResponse, total: number, gapMs: number, body: (offset: number) => Buffer): void {
  sent.set(key, 0);
  serverClosed.delete(key);
  let done = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
    serverClosed.add(key);
  });
  const next = () => {
    if (closed) return;
    if (done >= total) return void res.end();
    const piece = body(done).subarray(0, Math.min(256 * 1024, total - done));
    done += piece.length;
    sent.set(key, done);
    const go = () => (gapMs ? setTimeout(next, gapMs) : setImmediate(next));
    if (res.write(piece)) go();
    else res.once('drain', go);
  };
  next();
}

before(async () => {
  server = await startTestServer();
  const routes = new Map<string, Handler>();
  const route = (p: string, h: Handler) => {
    routes.set(p, h);
    server.route(p, h);
  };
  const head = '<!doctype html><html><head><title>Archive</title></head><body>';
  const page = (offset: number) => (offset === 0 ? Buffer.concat([Buffer.from(head), chunkOfPage]) : chunkOfPage);
  // 50 MiB, said up front: refused as soon as the answer's headers arrive.
  route('/declared', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(50 * MiB) });
    stream('/declared', r, 50 * MiB, 0, page);
  });
  // The watched address redirects to it: where the page went is the page too.
  route('/moved', (_q, r) => {
    r.writeHead(302, { location: '/declared' });
    r.end();
  });
  // 50 MiB, chunked, no length; 256 KiB every 300 ms (the whole page would take 60 s, as long as the check's
  // timeout): refused once more than 5 MiB came, whenever that is.
  route('/chunked', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    stream('/chunked', r, 50 * MiB, 300, page);
  });
  // A small page that loads ten 20 MiB pictures (200 MiB in all).
  route('/gallery', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(`${head}<h1>Gallery</h1>${Array.from({ length: 10 }, (_, i) => `<img src="/photo?${i}" width="100">`).join('')}</body></html>`);
  });
  route('/photo', (q, r) => {
    r.writeHead(200, { 'content-type': 'image/bmp', 'content-length': String(photo.length) });
    stream(`/photo${new URL(q.url!, 'http://x').search}`, r, photo.length, 0, (offset) => photo.subarray(offset));
  });
  pki = createTestPki();
  tls = https.createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile), allowHalfOpen: true }, (q, r) => {
    const h = routes.get(new URL(q.url ?? '/', 'http://x').pathname);
    if (h) void h(q, r);
    else r.writeHead(404).end();
  });
  // As nginx and most servers do, go on sending an answer after the client ended its side of the connection (a FIN
  // is not a reset; `allowHalfOpen` above, and the HTTP layer's own switch, which has no documented option): Node's
  // server otherwise drops the answer at the FIN, which hid a proxy that ended the server side of a tunnel gracefully
  // and read it on to its end.
  (tls as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  tlsOrigin = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  wrapperDir = mkdtempSync(path.join(tmpdir(), 'panoptes-chromium-'));
  writeFileSync(path.join(wrapperDir, 'chromium'), `#!/bin/sh\nexec ${CHROMIUM} --ignore-certificate-errors "$@"\n`);
  chmodSync(path.join(wrapperDir, 'chromium'), 0o755);
});
after(async () => {
  tls?.closeAllConnections();
  tls?.close();
  pki?.close();
  if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
  await server.close();
});

/** The image requests the server has seen since the last `forgetPhotos()`, and what it sent for them. */
const photoKeys = () => [...sent.keys()].filter((k) => k.startsWith('/photo'));
const photosSent = () => photoKeys().reduce((a, k) => a + sent.get(k)!, 0);
const forgetPhotos = () => photoKeys().forEach((k) => sent.delete(k));

/**
 * After a render cut at the cap, what the server sent for the images: once every image's connection has closed, it
 * must be far below the 200 MiB of the whole gallery. Counted as the server hands bytes to its sockets, so it includes
 * what sat in the kernel's buffers when the connections were cut (a few MiB a connection) — half the gallery leaves
 * room for that and none for a connection left to read its image to the end.
 */
async function assertImagesCut(): Promise<void> {
  await waitFor(() => photoKeys().length > 0 && photoKeys().every((k) => serverClosed.has(k)), 'every image connection to close', 30_000);
  assert.ok(photosSent() < 100 * MiB, `the images were cut off at the cap, not read to their end (sent ${photosSent()} bytes of ${photoKeys().length} images)`);
}

/** One rendered check of `path` (or of a whole URL); its error, and how long it took in seconds. */
async function check(where: string, config: Record<string, unknown> = {}): Promise<{ error: string | undefined; seconds: number; events: number }> {
  const t = createTestContext(web, { url: where.startsWith('/') ? server.url(where) : where, render: true, timeout: `${TIMEOUT_S}s`, ...config });
  await t.instance.start();
  const started = Date.now();
  await t.tick();
  const seconds = (Date.now() - started) / 1000;
  await t.stop();
  assert.ok(t.errors.length <= 1);
  return { error: t.errors[0], seconds, events: t.events.length };
}

/** Each renderer, made to use `executablePath` (the test CA's HTTPS pages need a Chromium told to accept them). */
const renderers: Array<[string, (executablePath?: string) => Record<string, unknown>]> = [
  // Headless, the watch's browser path is the Chromium that renders.
  ['Chromium (playwright-core)', (executablePath) => (usePageRenderer(null), executablePath ? { browserPath: executablePath } : {})],
  [
    'the desktop shell (offscreen window, played by Chromium)',
    (executablePath = CHROMIUM) => {
      // As the shell does: facts while it renders (progress) and its answer go to the engine; a cancel closes the window.
      const running = new Map<number, AbortController>();
      const shell: ShellPageRenderer = new ShellPageRenderer((msg) => {
        if (msg.type === 'render-cancel') return running.get(msg.id)?.abort();
        const stop = new AbortController();
        running.set(msg.id, stop);
        void answerWithChromium(structuredClone(msg), executablePath, (m) => shell.onMessage(structuredClone(m)), stop.signal).then((a) => {
          running.delete(msg.id);
          shell.onMessage(a);
        });
      });
      usePageRenderer(shell);
      return {};
    },
  ],
];

for (const [name, use] of renderers) {
  // An HTTPS page is a tunnel to the proxy: here the browser's own view of its document says how large it is.
  test(`${name}: over HTTPS, a 50 MiB page that says its size is refused with the plain fetch's message, before the timeout`, { skip, timeout: 240_000 }, async () => {
    const config = use(path.join(wrapperDir, 'chromium'));
    try {
      sent.delete('/declared');
      const r = await check(`${tlsOrigin}/declared`, config);
      assert.equal(r.error, 'the page is larger than the 5 MiB a page may have (it says 50 MiB); not read; the last version is kept');
      assert.equal(r.events, 0);
      assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
      await waitFor(() => serverClosed.has('/declared'), 'the browser to close its connection');
      assert.ok(sent.get('/declared')! < 50 * MiB, `the server was cut off (sent ${sent.get('/declared')} bytes)`);
    } finally {
      usePageRenderer(null);
    }
  });

  test(`${name}: over HTTPS, a 50 MiB page sent slowly without a length is refused once past 5 MiB, before the timeout`, { skip, timeout: 240_000 }, async () => {
    const config = use(path.join(wrapperDir, 'chromium'));
    try {
      sent.delete('/chunked');
      const r = await check(`${tlsOrigin}/chunked`, config);
      assert.equal(r.error, 'the page is larger than the 5 MiB a page may have; not read; the last version is kept');
      assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
      await waitFor(() => serverClosed.has('/chunked'), 'the browser to close its connection');
      assert.ok(sent.get('/chunked')! < 15 * MiB, `the server was cut off soon after 5 MiB (sent ${sent.get('/chunked')} bytes)`);
    } finally {
      usePageRenderer(null);
    }
  });

  test(`${name}: a 50 MiB page that says its size is refused with the plain fetch's message, before the timeout`, { skip, timeout: 240_000 }, async () => {
    use();
    try {
      const r = await check('/declared');
      assert.equal(r.error, 'the page is larger than the 5 MiB a page may have (it says 50 MiB); not read; the last version is kept');
      assert.equal(r.events, 0);
      assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
      assert.ok(sent.get('/declared')! < 50 * MiB, `the server was cut off (sent ${sent.get('/declared')} bytes)`);
      sent.delete('/declared');
      const moved = await check('/moved');
      assert.equal(moved.error, r.error, 'the same when the watched address redirects to the page');
      assert.ok(moved.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${moved.seconds} s)`);
      assert.ok(sent.get('/declared')! < 50 * MiB, `the server was cut off after the redirect (sent ${sent.get('/declared')} bytes)`);
    } finally {
      usePageRenderer(null);
    }
  });

  test(`${name}: a 50 MiB page sent slowly without a length is refused once past 5 MiB, before the timeout`, { skip, timeout: 240_000 }, async () => {
    use();
    try {
      const r = await check('/chunked');
      assert.equal(r.error, 'the page is larger than the 5 MiB a page may have; not read; the last version is kept');
      assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
      assert.ok(sent.get('/chunked')! < 10 * MiB, `the server was cut off soon after 5 MiB (sent ${sent.get('/chunked')} bytes)`);
    } finally {
      usePageRenderer(null);
    }
  });

  test(`${name}: a small page that pulls 200 MiB of images stops at the cap on all a render may download`, { skip, timeout: 240_000 }, async () => {
    use();
    try {
      forgetPhotos();
      const r = await check('/gallery');
      assert.equal(r.error, 'the page and what it loads came to more than the 25 MiB a rendered page may bring in; not read; the last version is kept');
      assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
      await assertImagesCut();
    } finally {
      usePageRenderer(null);
    }
  });
}

// An HTTPS page reaches the browser through a tunnel the proxy cannot look into: which bytes are the page's document
// is not to be seen there (the browser says it, tested above), and the cap on all a render brings in holds there too.
test('over HTTPS, a page pulling 200 MiB of images stops at the cap on all a render may download', { skip, timeout: 240_000 }, async () => {
  forgetPhotos();
  const r = await check(`${tlsOrigin}/gallery`, { browserPath: path.join(wrapperDir, 'chromium') });
  assert.equal(r.error, 'the page and what it loads came to more than the 25 MiB a rendered page may bring in; not read; the last version is kept');
  assert.ok(r.seconds < TIMEOUT_S, `the check ended before its ${TIMEOUT_S} s timeout (took ${r.seconds} s)`);
  await assertImagesCut();
});
