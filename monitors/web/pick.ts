// The page picker behind the form's "Pick on the page": the page is rendered as a check renders it (the same renderer,
// page-renderer.ts: Chromium headless, the desktop app's window through the shell; a fresh browser profile, the same
// address rules, the steps, the check's timeout), and what comes back is a
// screenshot and, for each visible element with text, its box on that screenshot, a short CSS selector that matches
// it alone in the page, and a preview of its text. The UI draws the boxes over the image; no HTML of the page ever
// leaves the engine, and what the page's own scripts did to the DOM prototypes cannot change how we read it (our
// code runs in an isolated world, with the page's scripts stopped, so boxes and screenshot show the same moment:
// core/pick-read.ts, run by either browser). The limits are decided here and the browser's facts are worded here.
import { z } from 'zod';
import { isDuration, parseDuration } from '../../core/duration.js';
import type { PagePick, PickElement } from '../../core/protocol.js';
import { PickConfigError } from '../../core/monitor.js';
import type { PickLimits } from '../../core/shell-messages.js';
import { pageRendererFor } from './page-renderer.js';
import { parseStep, RenderError, type AddressPolicy, type RenderStep } from './render.js';
import { MAX_PAGE_BYTES } from './readable-error.js';

/** The page may be long; the picker shows (and offers elements in) its top part only. */
export const PICK_MAX_HEIGHT = 6_000;
const PICK_WIDTH = 1280;
export const PICK_MAX_ELEMENTS = 2_500;
/** A page with more elements than this is not picked on (reading them all would take longer than a check may). */
export const PICK_MAX_NODES = 60_000;
const PICK_MAX_TEXT = 300;

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
  // The same renderer a check of this page uses (the desktop app's window, or Chromium), asked to read the page for
  // picking (core/pick-read.ts) instead of handing over its HTML.
  const limits: PickLimits = { maxNodes: PICK_MAX_NODES, maxBytes: MAX_PAGE_BYTES, maxElements: PICK_MAX_ELEMENTS, maxHeight: PICK_MAX_HEIGHT, maxWidth: PICK_WIDTH, maxText: PICK_MAX_TEXT, reserveMs: 5_000 };
  const rendered = await pageRendererFor(options.browserPath).render(options.url, {
    steps: options.steps,
    timeoutMs: options.timeoutMs,
    maxBytes: MAX_PAGE_BYTES,
    browserPath: options.browserPath,
    signal: options.signal,
    pick: limits,
    ...(options.addressPolicy ? { addressPolicy: options.addressPolicy } : {}),
  });
  const facts = rendered.pick;
  if (!facts) throw new RenderError("could not read the page's elements (the browser did not read them)");
  if (facts.nodes > PICK_MAX_NODES) throw new RenderError(`the page is too big to pick on: it has ${facts.nodes.toLocaleString('en')} elements (at most ${PICK_MAX_NODES.toLocaleString('en')})`);
  if (facts.htmlBytes > MAX_PAGE_BYTES) throw new RenderError(`the page is too big to pick on: larger than the ${MAX_PAGE_BYTES / 1048576} MiB a page may have`);
  let raw: unknown = null;
  try {
    raw = facts.collected === null ? null : JSON.parse(facts.collected);
  } catch {
    raw = null;
  }
  const read = collected.safeParse(raw);
  if (!read.success || !facts.screenshot?.length) throw new RenderError("could not read the page's elements (the page answered something unexpected)");
  const { width, height, elements, complete } = read.data;
  return {
    url: rendered.url,
    screenshot: Buffer.from(facts.screenshot).toString('base64'),
    width: Math.min(width, PICK_WIDTH),
    height: Math.min(height, PICK_MAX_HEIGHT),
    pageHeight: height,
    elements: elements.map((e) => ({ ...e, text: e.text.slice(0, PICK_MAX_TEXT) })),
    complete,
    blocked: (rendered.blocked ?? []).slice(0, 20),
  };
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
