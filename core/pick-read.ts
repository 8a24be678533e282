// Reading a rendered page for the picker, over the Chrome DevTools Protocol, whichever browser rendered it: Chromium
// driven by playwright-core (render.ts hands it a CDP session) or the desktop app's offscreen window
// (electron/offscreen-renderer.ts hands it webContents.debugger). No Electron or Playwright import, so both run this
// very code. It only executes: the limits come from the engine (pick.ts), which also words what comes back.
import type { PickLimits } from './shell-messages.js';
import { collectElements } from './pick-page-script.js';

/** One CDP command: method and params in, the result object out (rejects on a protocol error). */
export type CdpSend = (method: string, params?: Record<string, unknown>) => Promise<unknown>;

/** What the reading found, facts only: element count, the document's size in UTF-8 bytes, the collected elements (JSON) and a JPEG of the page's top. */
export type PickFacts = { nodes: number; htmlBytes: number; collected: string | null; screenshot: Uint8Array | null };

/** The document serialized as Playwright's page.content() does, measured in UTF-8 bytes (the HTML itself never leaves the page). */
const HTML_BYTES = `new Blob([(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + (document.documentElement ? document.documentElement.outerHTML : '')]).size`;

/**
 * Stops the page's scripts (what is read and what is photographed is then the same page), counts its elements and
 * measures it (stopping there when over the limits), runs collectElements in an isolated world (the DOM as built,
 * not the page's variables or patched prototypes), and photographs the top of the page as JPEG. `leftMs`: what is
 * left of the render's timeout when reading starts.
 */
export async function readForPick(send: CdpSend, limits: PickLimits, leftMs: number): Promise<PickFacts> {
  const { frameTree } = (await send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } };
  const { executionContextId } = (await send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: 'panoptes-pick' })) as { executionContextId: number };
  await send('Emulation.setScriptExecutionDisabled', { value: true });
  const evaluate = async (expression: string): Promise<unknown> => {
    const r = (await send('Runtime.evaluate', { expression, contextId: executionContextId, returnByValue: true, awaitPromise: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`could not read the page's elements: ${r.exceptionDetails.exception?.description?.split('\n')[0] ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  const nodes = Number(await evaluate('document.getElementsByTagName("*").length'));
  if (!(nodes <= limits.maxNodes)) return { nodes, htmlBytes: 0, collected: null, screenshot: null };
  const htmlBytes = Number(await evaluate(HTML_BYTES));
  if (!(htmlBytes <= limits.maxBytes)) return { nodes, htmlBytes, collected: null, screenshot: null };
  const opts = { maxElements: limits.maxElements, maxHeight: limits.maxHeight, maxWidth: limits.maxWidth, maxText: limits.maxText, budgetMs: Math.max(1_000, leftMs - limits.reserveMs) };
  const raw = (await evaluate(`(${collectElements.toString()})(${JSON.stringify(opts)})`)) as { width?: unknown; height?: unknown } | null;
  const width = Math.max(1, Math.min(Number(raw?.width) || 1, limits.maxWidth));
  const height = Math.max(1, Math.min(Number(raw?.height) || 1, limits.maxHeight));
  // JPEG: a long page as PNG is megabytes, and this picture is only looked at once. Beyond the viewport: the top
  // `height` pixels of the page, not the window's 900.
  const shot = (await send('Page.captureScreenshot', { format: 'jpeg', quality: 80, captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } })) as { data: string };
  return { nodes, htmlBytes, collected: JSON.stringify(raw ?? null), screenshot: new Uint8Array(Buffer.from(shot.data, 'base64')) };
}
