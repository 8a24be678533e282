/**
 * What the offscreen render window (offscreen-renderer.ts) runs in the page, as script text for
 * `webContents.executeJavaScript`: the steps (wait for a selector, click, type) and reading the document. No
 * Electron import, so the contract test runs the very same scripts in Debian's Chromium
 * (test/monitors/web-renderer-contract.test.ts). Selectors and text go in as JSON, never spliced into code.
 */
import type { RenderRequestMessage, RenderStepSpec } from '../core/shell-messages.js';

/** How often a step looks for its element. */
const POLL_MS = 100;

/**
 * A step's script: resolves true when done, false when its element did not appear within `waitMs`; an invalid
 * selector rejects with the browser's own SyntaxError ("'##' is not a valid selector"). `sleep` steps are the
 * shell's (a timer), not the page's.
 */
export function stepScript(step: Exclude<RenderStepSpec, { kind: 'sleep' }>, waitMs: number): string {
  const act =
    step.kind === 'click'
      ? 'el.scrollIntoView({ block: "center" }); el.click();'
      : step.kind === 'type'
        ? `el.focus(); el.value = ${JSON.stringify(step.text)}; el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true }));`
        : '';
  return `(async () => {
  const selector = ${JSON.stringify(step.selector)};
  const deadline = Date.now() + ${Math.max(0, Math.floor(waitMs))};
  for (;;) {
    const el = document.querySelector(selector);
    if (el) { ${act} return true; }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, ${POLL_MS}));
  }
})()`;
}

/** The document as serialized HTML, doctype included (what Playwright's page.content() gives for Chromium). */
export const READ_HTML = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + (document.documentElement ? document.documentElement.outerHTML : '')`;

/** The engine's request, checked: it is our own process, but a malformed message must not reach loadURL. */
export function isRenderRequest(msg: unknown): msg is RenderRequestMessage {
  const m = msg as Partial<RenderRequestMessage> | null;
  if (!m || m.type !== 'render-request' || typeof m.id !== 'number' || typeof m.url !== 'string' || !/^https?:\/\//i.test(m.url)) return false;
  if (typeof m.timeoutMs !== 'number' || !(m.timeoutMs > 0) || typeof m.maxBytes !== 'number' || !Array.isArray(m.steps)) return false;
  if (m.pick != null && !isPickLimits(m.pick)) return false;
  const p = m.proxy;
  // Only the engine's own proxy on loopback: the window must never be pointed at another one.
  return !!p && typeof p.server === 'string' && /^http:\/\/127\.0\.0\.1:\d+$/.test(p.server) && typeof p.username === 'string' && typeof p.password === 'string';
}

function isPickLimits(p: unknown): boolean {
  const l = p as Record<string, unknown>;
  return typeof l === 'object' && ['maxNodes', 'maxBytes', 'maxElements', 'maxHeight', 'maxWidth', 'maxText', 'reserveMs'].every((k) => typeof l[k] === 'number' && Number.isFinite(l[k]) && (l[k] as number) >= 0);
}
