// The engine's side of rendering in the desktop app when the shell does not answer as it should: a shell that never
// answers (its window's process died) fails the check as a timeout and is told to stop; a check stopped meanwhile
// tells the shell to stop too; the checking proxy started for the render is closed either way (no browser here: the
// shell's answers are what is tested, so none is needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ShellPageRenderer } from '../../monitors/web/shell-renderer.js';
import type { RenderCancelMessage, RenderRequestMessage } from '../../core/shell-messages.js';

const options = (signal: AbortSignal, timeoutMs = 500) => ({ steps: [], timeoutMs, maxBytes: 1024, signal });

/** Whether something still listens at the proxy's address. */
const listening = (server: string) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(server);
    const s = net.connect(Number(u.port), u.hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

test('a shell that never answers: the check fails as a timeout, the shell is told to stop, the proxy is closed', { timeout: 30_000 }, async () => {
  const sent: Array<RenderRequestMessage | RenderCancelMessage> = [];
  const renderer = new ShellPageRenderer((m) => void sent.push(m));
  await assert.rejects(renderer.render('http://127.0.0.1:9/page', options(new AbortController().signal)), {
    name: 'RenderError',
    message: "http://127.0.0.1:9/page did not finish loading within 1 s (the check's timeout)",
  });
  assert.equal(sent[0]?.type, 'render-request');
  const req = sent[0] as RenderRequestMessage;
  assert.deepEqual(sent[1], { type: 'render-cancel', id: req.id });
  assert.equal(await listening(req.proxy.server), false, 'the checking proxy is closed');
  // A late answer for that render is taken and dropped.
  assert.equal(renderer.onMessage({ type: 'render-answer', id: req.id, ok: true, url: 'http://x/', html: '', screenshot: new Uint8Array(), status: 200, refused: null, retryAfter: null }), true);
  assert.equal(renderer.onMessage({ type: 'render-answer', id: req.id }), false, 'a malformed answer is not a render answer');
});

test('a check stopped while the shell renders tells the shell to stop', { timeout: 30_000 }, async () => {
  const sent: Array<RenderRequestMessage | RenderCancelMessage> = [];
  const renderer = new ShellPageRenderer((m) => void sent.push(m));
  const stop = new AbortController();
  const rendering = renderer.render('http://127.0.0.1:9/page', options(stop.signal, 60_000));
  while (!sent.length) await new Promise((r) => setTimeout(r, 10));
  stop.abort(new Error('stopped'));
  await assert.rejects(rendering, /stopped/);
  const req = sent[0] as RenderRequestMessage;
  assert.deepEqual(sent[1], { type: 'render-cancel', id: req.id });
  assert.equal(await listening(req.proxy.server), false);
});
