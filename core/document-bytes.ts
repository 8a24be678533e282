// How much of the page's own document a browser has taken in while it loads, over the Chrome DevTools Protocol,
// whichever browser renders: Chromium driven by playwright-core (monitors/web/render.ts, a CDP session) or the desktop
// app's offscreen window (electron/offscreen-renderer.ts, webContents.debugger). The engine's checking proxy counts a
// plain-HTTP document itself, but an HTTPS one reaches the browser inside a tunnel the proxy cannot look into; only
// the browser knows which bytes are the document. Facts only: the engine compares them with the page limit
// (monitors/web/render.ts documentOverLimit) and ends the render.
import type { CdpSend } from './pick-read.js';
import type { RenderProgressMessage } from './shell-messages.js';
import { headerOf } from './header-value.js';

/** The main frame's document so far: bytes taken in (the larger of as sent and as decoded), and the size its headers declared. */
export interface DocumentBytes {
  bytes: number;
  declared: number | null;
}

/** One CDP event as both browsers deliver it: method and params. */
export type CdpEventHandler = (method: string, params: unknown) => void;

/**
 * Turns on the Network domain and returns the handler to feed the session's events to; `report` is called with the
 * main frame's current document each time it grows or its headers arrive (each navigation of the main frame — the
 * page, a redirect's target, a page a step opens — is counted from zero). Call before navigating.
 */
export async function followDocumentBytes(send: CdpSend, report: (d: DocumentBytes) => void): Promise<CdpEventHandler> {
  // The main frame keeps its id across navigations; only its Document requests are the page's own.
  const { frameTree } = (await send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } };
  const mainFrame = frameTree.frame.id;
  let current: { requestId: string; sent: number; decoded: number; declared: number | null } | null = null;
  const say = () => current && report({ bytes: Math.max(current.sent, current.decoded), declared: current.declared });
  const handler: CdpEventHandler = (method, raw) => {
    const p = raw as Record<string, unknown>;
    if (method === 'Network.requestWillBeSent') {
      // A redirect comes again with the same requestId: the document is where it leads, counted afresh.
      if (p.type === 'Document' && p.frameId === mainFrame) current = { requestId: String(p.requestId), sent: 0, decoded: 0, declared: null };
      return;
    }
    if (!current || p.requestId !== current.requestId) return;
    if (method === 'Network.responseReceived') {
      const length = headerOf((p.response as { headers?: Record<string, unknown> } | undefined)?.headers, 'content-length');
      const declared = length !== null && /^\d+$/.test(length.trim()) ? Number(length.trim()) : null;
      current.declared = declared;
      say();
    } else if (method === 'Network.dataReceived') {
      current.decoded += Number(p.dataLength) || 0;
      current.sent += Number(p.encodedDataLength) || 0;
      say();
    }
  };
  await send('Network.enable');
  return handler;
}

/** How far the document grows between two reports from the shell (a message per network read would be hundreds). */
export const REPORT_STEP_BYTES = 256 * 1024;

/**
 * The shell's reporter for one render: `render-progress` messages (core/shell-messages.ts) when the document's
 * headers arrive and each time it grew by REPORT_STEP_BYTES since the last report.
 */
export function renderProgressReporter(id: number, post: (msg: RenderProgressMessage) => void): (d: DocumentBytes) => void {
  let lastBytes = -1;
  let lastDeclared: number | null = null;
  return (d) => {
    const fresh = d.bytes < lastBytes; // a new navigation, counted from zero
    if (!fresh && d.declared === lastDeclared && lastBytes >= 0 && d.bytes - lastBytes < REPORT_STEP_BYTES) return;
    lastBytes = d.bytes;
    lastDeclared = d.declared;
    post({ type: 'render-progress', id, documentBytes: d.bytes, declaredBytes: d.declared });
  };
}
