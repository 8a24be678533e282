// The rendered fetch behind its interface (monitors/web/page-renderer.ts): whichever browser renders — Chromium
// driven by playwright-core (headless), or the desktop app's offscreen window reached through the shell
// (shell-renderer.ts ⇄ electron/offscreen-renderer.ts) — the engine gets the same things back and says the same
// things: the page as built by its script after the steps, a screenshot, the URL after redirects, and the same address
// rule and messages. The shell's side is played by Debian's Chromium answering the very messages the Electron window
// answers, with its step scripts (test/helpers/chromium-answerer.ts); the Electron window itself is exercised by
// test/electron/offscreen-render.test.ts where the runtime exists.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { chromiumRenderer, type PageRenderer } from '../../monitors/web/page-renderer.js';
import { ShellPageRenderer } from '../../monitors/web/shell-renderer.js';
import { parseStep, type RenderStep } from '../../monitors/web/render.js';
import type { RenderRequestMessage } from '../../core/shell-messages.js';
import { noChromium as skip, startPublicAddress, type PublicAddress } from '../helpers/public-address.js';
import { answerWithChromium } from '../helpers/chromium-answerer.js';

let site: PublicAddress;
let port = 0;

const wallPage = `<!doctype html><html><body>
  <div id="wall">We use cookies <button id="accept">Accept</button></div><p id="t"></p>
  <script>
    document.getElementById('accept').onclick = () => setTimeout(() => {
      document.getElementById('wall').remove();
      const t = document.getElementById('t');
      t.textContent = 'Built by script: 42 in stock';
      t.className = 'ready';
    }, 200);
  </script></body></html>`;

const respond = (p: string, res: http.ServerResponse) => {
  if (p === '/wall') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(wallPage);
  } else if (p === '/moved') {
    res.writeHead(302, { location: `http://www.public.test:${port}/wall` });
    res.end();
  } else if (p === '/leak-moved') {
    res.writeHead(302, { location: `http://127.0.0.1:${port}/leak/moved` });
    res.end();
  } else if (p === '/missing') {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<p>gone</p>');
  } else {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<p id="t">internal</p>');
  }
};

before(async () => {
  site = await startPublicAddress({ respond, publicSuffixes: ['.public.test'], browserRules: 'MAP *.public.test 127.0.0.2' });
  port = site.port;
});
after(() => site.close());

const steps = (...lines: string[]) => lines.map((l) => parseStep(l) as RenderStep);

/** The desktop app's path, its shell played by Chromium; each request answered as the app would, over a clone. */
function shellRenderer(): { renderer: ShellPageRenderer; requests: RenderRequestMessage[] } {
  const requests: RenderRequestMessage[] = [];
  const renderer: ShellPageRenderer = new ShellPageRenderer((msg) => {
    if (msg.type !== 'render-request') return;
    requests.push(structuredClone(msg));
    void answerWithChromium(structuredClone(msg), site.wrapper).then((a) => renderer.onMessage(a));
  });
  return { renderer, requests };
}

const kinds: Array<[string, () => { renderer: PageRenderer; browserPath?: string; requests?: RenderRequestMessage[] }]> = [
  ['Chromium (playwright-core)', () => ({ renderer: chromiumRenderer, browserPath: site.wrapper })],
  ['the desktop shell (offscreen window, played by Chromium)', () => shellRenderer()],
];

async function render(kind: (typeof kinds)[number][1], url: string, stepLines: string[] = [], timeoutMs = 60_000) {
  const { renderer, browserPath, requests } = kind();
  const options = { steps: steps(...stepLines), timeoutMs, maxBytes: 5 * 1024 * 1024, signal: new AbortController().signal, ...(browserPath ? { browserPath } : {}) };
  try {
    return { rendered: await renderer.render(url, options), error: null, requests };
  } catch (err) {
    return { rendered: null, error: err as Error, requests };
  }
}

for (const [name, kind] of kinds) {
  test(`${name}: the page as its script builds it after the steps, a screenshot, and the URL after redirects`, { skip, timeout: 180_000 }, async () => {
    const r = await render(kind, `http://www.public.test:${port}/moved`, ['click:#accept', 'wait:#t.ready']);
    assert.equal(r.error, null, r.error?.message);
    assert.match(r.rendered!.html, /<p id="t" class="ready">Built by script: 42 in stock<\/p>/);
    assert.doesNotMatch(r.rendered!.html, /We use cookies/, 'the cookie wall was clicked away');
    assert.equal(r.rendered!.url, `http://www.public.test:${port}/wall`);
    assert.deepEqual([...r.rendered!.screenshot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    if (r.requests) {
      // The shell is told where the engine's proxy is and how to pass it — never the rule itself, which stays here.
      assert.equal(r.requests.length, 1);
      assert.match(r.requests[0]!.proxy.server, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(r.requests[0]!.steps, [{ kind: 'click', selector: '#accept' }, { kind: 'wait', selector: '#t.ready' }]);
    }
  });

  test(`${name}: a public page redirected into this machine is refused, and the check says why`, { skip, timeout: 180_000 }, async () => {
    site.seen.length = 0;
    const r = await render(kind, `http://www.public.test:${port}/leak-moved`);
    assert.deepEqual(site.seen.filter((s) => s.includes('/leak/')), [], 'the redirect into loopback was followed');
    assert.equal(r.rendered, null);
    assert.equal(r.error?.message, `http://www.public.test:${port}/leak-moved: 127.0.0.1 is on this machine or the local network, which a page on a public address may not reach`);
  });

  test(`${name}: a step whose element never comes names the step when the timeout runs out`, { skip, timeout: 180_000 }, async () => {
    const r = await render(kind, `http://www.public.test:${port}/wall`, ['wait:#never'], 20_000);
    assert.equal(r.error?.message, `step 1 (wait:#never): not done within the check's timeout (20 s); is the selector right?`);
  });

  test(`${name}: an invalid selector in a step fails with the step named`, { skip, timeout: 180_000 }, async () => {
    const r = await render(kind, `http://www.public.test:${port}/wall`, ['click:##accept']);
    assert.match(r.error?.message ?? '', /^step 1 \(click:##accept\): .*(not a valid selector|Unexpected token)/);
  });

  test(`${name}: an HTTP error is no page`, { skip, timeout: 180_000 }, async () => {
    const r = await render(kind, `http://www.public.test:${port}/missing`);
    assert.equal(r.error?.message, `http://www.public.test:${port}/missing answered HTTP 404; not treated as a change`);
  });
}
