// The page picker behind the form's "Pick on the page": the page is rendered as a check renders it (render.ts: a
// fresh browser profile, the same address rules, the steps, the check's timeout), and what comes back is a
// screenshot and, for each visible element with text, its box on that screenshot, a short CSS selector that matches
// it alone in the page, and a preview of its text. The UI draws the boxes over the image; no HTML of the page ever
// leaves the engine, and what the page's own scripts did to the DOM prototypes cannot change how we read it (our
// code runs in an isolated world, with the page's scripts stopped, so boxes and screenshot show the same moment).
import { z } from 'zod';
import type { Page } from 'playwright-core';
import { isDuration, parseDuration } from '../../core/duration.js';
import type { PagePick, PickElement } from '../../core/protocol.js';
import { PickConfigError } from '../../core/monitor.js';
import { collectElements } from './pick-page-script.js';
import { parseStep, RenderError, withRenderedPage, type AddressPolicy, type RenderStep } from './render.js';

/** The page may be long; the picker shows (and offers elements in) its top part only. */
export const PICK_MAX_HEIGHT = 6_000;
const PICK_WIDTH = 1280;
export const PICK_MAX_ELEMENTS = 2_500;
/** A page with more elements than this is not picked on (reading them all would take longer than a check may). */
export const PICK_MAX_NODES = 60_000;
const PICK_MAX_TEXT = 300;
const MAX_PAGE_BYTES = 5 * 1024 * 1024;

export interface PickOptions {
  url: string;
  steps: readonly RenderStep[];
  timeoutMs: number;
  browserPath?: string | undefined;
  signal: AbortSignal;
  /** Tests only: which hosts count as private. */
  addressPolicy?: AddressPolicy;
}

/** What the picker reads from the form (the rest of the config may be unfinished). */
export const pickConfigSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'enter a full http:// or https:// address' }),
  steps: z.array(z.string()).default([]),
  browserPath: z.string().trim().min(1).optional(),
  timeout: z.string().default('30s'),
});

/** The web type's `picker.pick`: the form's config (possibly unfinished) to a picked page. */
export async function pickFromConfig(config: Record<string, unknown>, signal: AbortSignal, addressPolicy?: AddressPolicy): Promise<PagePick> {
  const parsed = pickConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PickConfigError(issue.path[0] === 'url' && config.url === undefined ? 'enter the page address first' : issue.message, `$.${issue.path.join('.')}`);
  }
  const steps: RenderStep[] = [];
  for (const [i, line] of parsed.data.steps.entries()) {
    const s = parseStep(line);
    if (typeof s === 'string') throw new PickConfigError(s, `$.steps.${i}`);
    steps.push(s);
  }
  if (!isDuration(parsed.data.timeout)) throw new PickConfigError('write a duration like "30s", "15m" or "1h"', '$.timeout');
  // Reading every element takes longer than reading the HTML; a short check timeout would fail every pick.
  const timeoutMs = Math.max(parseDuration(parsed.data.timeout), 30_000);
  return pickOnPage({ url: parsed.data.url, steps, timeoutMs, browserPath: parsed.data.browserPath, signal, ...(addressPolicy ? { addressPolicy } : {}) });
}

export async function pickOnPage(options: PickOptions): Promise<PagePick> {
  return withRenderedPage(
    options.url,
    { steps: options.steps, timeoutMs: options.timeoutMs, maxBytes: MAX_PAGE_BYTES, browserPath: options.browserPath, signal: options.signal, ...(options.addressPolicy ? { addressPolicy: options.addressPolicy } : {}) },
    async (page, left, blocked) => {
      const cdp = await page.context().newCDPSession(page);
      const { frameTree } = await cdp.send('Page.getFrameTree');
      const { executionContextId } = await cdp.send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: 'panoptes-pick' });
      // From here the page's scripts are stopped: what is read and what is photographed is the same page.
      await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
      const evaluate = async (expression: string): Promise<unknown> => {
        const r = await cdp.send('Runtime.evaluate', { expression, contextId: executionContextId, returnByValue: true });
        if (r.exceptionDetails) throw new RenderError(`could not read the page's elements: ${r.exceptionDetails.exception?.description?.split('\n')[0] ?? r.exceptionDetails.text}`);
        return r.result.value;
      };
      const nodes = Number(await evaluate('document.getElementsByTagName("*").length'));
      if (nodes > PICK_MAX_NODES) throw new RenderError(`the page is too big to pick on: it has ${nodes.toLocaleString('en')} elements (at most ${PICK_MAX_NODES.toLocaleString('en')})`);
      const html = await page.content();
      if (Buffer.byteLength(html) > MAX_PAGE_BYTES) throw new RenderError(`the page is too big to pick on: larger than the ${MAX_PAGE_BYTES / 1048576} MiB a page may have`);

      const opts = { maxElements: PICK_MAX_ELEMENTS, maxHeight: PICK_MAX_HEIGHT, maxWidth: PICK_WIDTH, maxText: PICK_MAX_TEXT, budgetMs: Math.max(1_000, left() - 5_000) };
      const raw = await evaluate(`(${collectElements.toString()})(${JSON.stringify(opts)})`);
      const read = collected.safeParse(raw);
      if (!read.success) throw new RenderError('could not read the page\'s elements (the page answered something unexpected)');
      const { width, height, elements, complete } = read.data;
      const shot = await screenshotOf(page, Math.min(width, PICK_WIDTH), Math.min(height, PICK_MAX_HEIGHT), left());
      return {
        url: page.url(),
        screenshot: shot.toString('base64'),
        width: Math.min(width, PICK_WIDTH),
        height: Math.min(height, PICK_MAX_HEIGHT),
        pageHeight: height,
        elements: elements.map((e) => ({ ...e, text: e.text.slice(0, PICK_MAX_TEXT) })),
        complete,
        blocked: blocked.slice(0, 20),
      };
    },
  );
}

async function screenshotOf(page: Page, width: number, height: number, timeout: number): Promise<Buffer> {
  // JPEG: a long page as PNG is megabytes, and this picture is only looked at once.
  return page.screenshot({ type: 'jpeg', quality: 80, fullPage: true, clip: { x: 0, y: 0, width: Math.max(1, width), height: Math.max(1, height) }, timeout, animations: 'disabled' });
}

// What the page's world hands back is checked before it is used: finite numbers, bounded strings and counts.
const finite = z.number().finite();
const collected = z.object({
  width: finite.min(0).max(100_000),
  height: finite.min(0).max(10_000_000),
  complete: z.boolean(),
  elements: z
    .array(
      z.object({
        x: finite,
        y: finite,
        w: finite.min(0),
        h: finite.min(0),
        parent: z.number().int().min(-1),
        tag: z.string().max(64),
        selector: z.string().min(1).max(400),
        text: z.string().max(10_000),
      }),
    )
    .max(PICK_MAX_ELEMENTS),
}) satisfies z.ZodType<{ width: number; height: number; complete: boolean; elements: PickElement[] }>;
