// The engine's end of rendering in the desktop app's offscreen window (electron/offscreen-renderer.ts is the other
// end). The decisions stay here: whether the watched address is private (then the page may reach private addresses
// too), the checking proxy every connection of the window must go through (checking-proxy.ts, started here, so the
// address rule and its DNS pinning are the same as for Chromium), and what a failure is called. The shell is sent the
// URL, the steps, the timeout and the proxy's address and one-render credentials, and answers facts: final URL, HTML,
// screenshot, the document's status and refusal header, or where it failed and the browser's error code.
import { currentAddressPolicy, isPrivateHost, type AddressPolicy } from '../../base/address-rule.js';
import type { PickAnswer, RenderAnswerMessage, RenderCancelMessage, RenderProgressMessage, RenderRequestMessage } from '../../core/shell-messages.js';
import { startCheckingProxy, type CheckingProxy, type OverLimit } from './checking-proxy.js';
import type { PageRenderer } from './page-renderer.js';
import { describe, documentOverLimit, hostOf, overLimitMessage, proxyFailure, RenderError, renderTimeoutMessage, sizeLimits, stepText, type Rendered, type RenderOptions } from './render.js';
import { pageTooLarge } from './readable-error.js';

/** Time the shell gets beyond the check's timeout to say so itself, before its silence counts as the timeout. */
const GRACE_MS = 5_000;

export function isRenderAnswer(msg: unknown): msg is RenderAnswerMessage {
  const m = msg as Partial<RenderAnswerMessage> | null;
  if (!m || m.type !== 'render-answer' || typeof m.id !== 'number') return false;
  if (m.ok === true) return typeof m.url === 'string' && typeof m.html === 'string' && m.screenshot instanceof Uint8Array && (m.pick == null || isPickAnswer(m.pick));
  return m.ok === false && typeof m.error === 'string' && typeof m.stepIndex === 'number' && ['launch', 'load', 'step', 'read'].includes(m.phase as string);
}

export function isRenderProgress(msg: unknown): msg is RenderProgressMessage {
  const m = msg as Partial<RenderProgressMessage> | null;
  return !!m && m.type === 'render-progress' && typeof m.id === 'number' && typeof m.documentBytes === 'number' && Number.isFinite(m.documentBytes) && (m.declaredBytes === null || (typeof m.declaredBytes === 'number' && Number.isFinite(m.declaredBytes)));
}

function isPickAnswer(p: unknown): boolean {
  const a = p as Partial<PickAnswer>;
  return typeof a === 'object' && typeof a.nodes === 'number' && typeof a.htmlBytes === 'number' && (a.collected === null || typeof a.collected === 'string') && (a.screenshot === null || a.screenshot instanceof Uint8Array);
}

export class ShellPageRenderer implements PageRenderer {
  private nextId = 1;
  private readonly pending = new Map<number, (answer: RenderAnswerMessage) => void>();
  /** What the window reports of a running render's document (render-progress). */
  private readonly progress = new Map<number, (msg: RenderProgressMessage) => void>();

  constructor(
    private readonly send: (msg: RenderRequestMessage | RenderCancelMessage) => void,
    private readonly policy?: AddressPolicy,
  ) {}

  /** A message from the shell; false when it is not a render's (the caller routes it elsewhere). */
  onMessage(msg: unknown): boolean {
    if (isRenderProgress(msg)) {
      this.progress.get(msg.id)?.(msg);
      return true;
    }
    if (!isRenderAnswer(msg)) return false;
    const done = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    done?.(msg);
    return true;
  }

  async render(url: string, options: RenderOptions): Promise<Rendered> {
    const policy = options.addressPolicy ?? this.policy ?? currentAddressPolicy();
    const pageIsPrivate = await isPrivateHost(new URL(url).hostname, policy);
    const blocked: string[] = [];
    const proxy = await startCheckingProxy({ allowPrivate: pageIsPrivate, policy, blocked, limits: sizeLimits(url, options) });
    const id = this.nextId++;
    let documentOver: OverLimit | null = null;
    try {
      const answer = await new Promise<RenderAnswerMessage>((resolve, reject) => {
        let settled = false;
        const finish = () => {
          settled = true;
          clearTimeout(timer);
          options.signal.removeEventListener('abort', onAbort);
          this.pending.delete(id);
          this.progress.delete(id);
        };
        // Past a size limit the render is over now, whatever the window does next: the proxy has cut the window off,
        // or the window's own count of the page's document (an HTTPS page is a tunnel to the proxy) passed the page's.
        const overNow = (over: OverLimit) => {
          if (settled) return;
          documentOver = over;
          finish();
          this.send({ type: 'render-cancel', id });
          reject(new RenderError(overLimitMessage(over)));
        };
        void proxy.overLimit.then(overNow);
        this.progress.set(id, (p) => {
          const over = documentOverLimit({ bytes: p.documentBytes, declared: p.declaredBytes }, options.maxBytes);
          if (over) overNow(over);
        });
        const onAbort = () => {
          finish();
          this.send({ type: 'render-cancel', id });
          reject(options.signal.reason ?? new Error('stopped'));
        };
        // The shell keeps the timeout itself; this is for a shell that never answers (its window's process died).
        const timer = setTimeout(() => {
          finish();
          this.send({ type: 'render-cancel', id });
          resolve({ type: 'render-answer', id, ok: false, phase: 'load', stepIndex: 0, timedOut: true, error: 'no answer from the desktop app', failedUrl: null });
        }, options.timeoutMs + GRACE_MS);
        if (options.signal.aborted) return onAbort();
        options.signal.addEventListener('abort', onAbort, { once: true });
        this.pending.set(id, (a) => {
          finish();
          resolve(a);
        });
        this.send({
          type: 'render-request',
          id,
          url,
          steps: [...options.steps],
          timeoutMs: options.timeoutMs,
          maxBytes: options.maxBytes,
          proxy: { server: proxy.server, username: proxy.username, password: proxy.password },
          ...(options.pick ? { pick: options.pick } : {}),
        });
      });
      // An answer that came as the proxy cut the window off is of a page cut short.
      const over = proxy.over ?? documentOver;
      if (over) throw new RenderError(overLimitMessage(over));
      return { ...renderedFromAnswer(url, answer, proxy, options), blocked: blocked.slice(0, 20) };
    } finally {
      await proxy.close().catch(() => {});
    }
  }
}

/** A browser's answer in the engine's words, as render.ts says the same things for Chromium. */
export function renderedFromAnswer(url: string, a: RenderAnswerMessage, proxy: Pick<CheckingProxy, 'refusals'>, options: Pick<RenderOptions, 'steps' | 'timeoutMs' | 'maxBytes'>): Rendered {
  if (!a.ok) {
    if (a.timedOut) throw new RenderError(renderTimeoutMessage(a.phase, url, options.timeoutMs, options.steps, a.stepIndex));
    if (a.error === 'too large') throw tooLarge(options.maxBytes);
    const where = a.phase === 'step' ? `step ${a.stepIndex + 1} (${stepText(options.steps[a.stepIndex]!)}): ` : '';
    throw new RenderError(where + describe(a.error.split('\n')[0]!, url, a.failedUrl, proxy, a.phase === 'load'));
  }
  // The proxy refused the page itself (a redirect into the local network): the page's own server cannot fake this,
  // the proxy must have refused that very host.
  if (a.refused && proxy.refusals.get(hostOf(a.url)) === a.refused) throw new RenderError(`${url}: ${a.refused}`);
  if (a.status !== null && a.status >= 590) throw new RenderError(`${url}: ${proxyFailure(a.status)}`);
  if (a.status !== null && a.status >= 400) throw new RenderError(`${url} answered HTTP ${a.status}; not treated as a change`, a.status, a.retryAfter);
  if (Buffer.byteLength(a.html) > options.maxBytes) throw tooLarge(options.maxBytes);
  return { url: a.url, html: a.html, screenshot: Buffer.from(a.screenshot), pick: a.pick ?? null };
}

function tooLarge(maxBytes: number): RenderError {
  return new RenderError(pageTooLarge(maxBytes, undefined, 'the rendered page'));
}
