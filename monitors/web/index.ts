// Web page change: fetch a page, keep the text a person reads (optionally only what a CSS selector picks, minus
// what the user said to ignore), and emit `web.changed` with the added/removed lines when that text changes.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UserRegex, userRegexProblem } from '../../core/user-regex.js';
import type { CheckResult, MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { applyIgnore, selectorProblem } from './extract.js';
import { diffLines } from './diff.js';
import { FilterError, parseFilter, parseFilters, type FilterStep } from './filter-parse.js';
import { filterPage, jqCompileProblems } from './filter-runner.js';
import { jqNotValid } from './jq.js';
import { changePercent, conditionsMet, firstNumber, hasConditions } from './numbers.js';
import { MAX_PAGE_BYTES, readableError } from './readable-error.js';
import { parseStep, RenderError, type RenderStep } from './render.js';
import { pageRendererFor } from './page-renderer.js';
import { pickFromConfig } from './pick.js';
import { diffSummary } from '../../core/text-diff.js';
import type { MaintenanceWindow } from '../../core/maintenance.js';
import { checkWindowsField, outsideCheckWindows } from '../../core/check-windows.js';
import { conditionalGet, HostHeldError, HttpStatusError, sharedHostLimiter, slowDownWait, type Validators } from '../../base/conditional-get.js';

const MIN_INTERVAL_MS = 60_000;
/** Baselines and event fields are capped so a huge page cannot bloat monitor state or the store. */
const MAX_KEPT_CHARS = 100_000;
const MAX_DIFF_LINES = 500;
/** Compiling jq programs for the form: loading jq takes a worker well under a second, even on a busy machine. */
const VALIDATE_BUDGET_MS = 10_000;

const duration = (def: string, label: string, help: string) =>
  z.string().default(def).refine(isDuration, { message: 'write a duration like "30s", "15m" or "1h"' }).meta({ label, help });

// Patterns run on the linear-time engine (core/user-regex.ts); the message says what is wrong with one it refuses.
const ignorePattern = z.string().superRefine((p, ctx) => {
  const problem = userRegexProblem(p, 'g');
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const webConfigSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'enter a full http:// or https:// address' })
    .meta({ label: 'Page address', help: 'The web page to watch, e.g. https://example.com/news' }),
  selector: z
    .string()
    .trim()
    .min(1)
    .superRefine((s, ctx) => {
      const problem = selectorProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .meta({ label: 'CSS selector', help: 'Watch only the elements this selector matches (e.g. "#prices" or "main .article"). Empty: the whole page.' }),
  ignore: z
    .array(ignorePattern)
    .default([])
    .meta({ label: 'Ignore patterns', help: 'Regular expressions for text to leave out before comparing, e.g. a visitor counter or "Updated \\d+ minutes ago".' }),
  filters: z
    .array(
      z.string().superRefine((line, ctx) => {
        const step = parseFilter(line);
        if (typeof step === 'string') ctx.addIssue({ code: 'custom', message: step });
      }),
    )
    .default([])
    .meta({
      label: 'Filters',
      help:
        'Steps applied in order, one per line: "css:#prices" (or a bare selector), "xpath://table[@id=\'stock\']//td[2]", ' +
        '"json:$.items[*].price" (JSONPath) or "jq:.items[] | .price" (jq) for JSON addresses, "remove:.ad, .cookie-banner", "regex:(?<price>\\d+\\.\\d+)" (keeps matches; named groups become fields), ' +
        '"ignore:^Updated" (drops matching lines), "sort".',
    }),
  render: z
    .boolean()
    .default(false)
    .meta({ label: 'Render with a browser', help: 'For pages built by JavaScript: load the page in Chromium (found on this machine) before reading it, and keep a screenshot with each version. Slower than a plain fetch.' }),
  steps: z
    .array(
      z.string().superRefine((line, ctx) => {
        const step = parseStep(line);
        if (typeof step === 'string') ctx.addIssue({ code: 'custom', message: step });
      }),
    )
    .default([])
    .meta({
      label: 'Browser steps',
      help: 'With "Render with a browser": steps before reading, one per line — "click:#accept-cookies", "type:#search=laptop", "wait:.results" (a selector) or "wait:2s".',
    }),
  browserPath: z.string().trim().min(1).optional().meta({ label: 'Browser path', help: 'Chromium or Chrome to render with; empty: PANOPTES_CHROMIUM or the usual install locations.' }),
  ignoreWhitespace: z.boolean().default(true).meta({ label: 'Ignore spacing-only changes', help: 'A change that only adds or removes spaces or line breaks is not a change.' }),
  ignoreNumbers: z
    .boolean()
    .default(false)
    .meta({ label: 'Ignore number-only changes', help: 'A change where only digits differ (a counter, a date, a timestamp) is not a change.' }),
  notifyBelow: z.number().optional().meta({ label: 'Only when the number is below', help: 'Read the first number of the watched text (a price) and report a change only when it is below this.' }),
  notifyAbove: z.number().optional().meta({ label: 'Only when the number is above', help: 'Report a change only when the first number of the watched text is above this.' }),
  notifyChangePercent: z
    .number()
    .positive()
    .optional()
    .meta({ label: 'Only when the number changed by more than (%)', help: 'Report a change only when the first number moved by more than this many percent since the last check.' }),
  keepVersions: z.number().int().min(1).max(10_000).default(100).meta({ label: 'Versions kept', help: 'How many distinct versions of the watched text to keep for the diff viewer (the newest always stays).' }),
  keepDays: z.number().int().min(1).max(3650).default(365).meta({ label: 'Keep versions for (days)', help: 'Versions older than this are dropped, except the newest.' }),
  interval: duration('15m', 'Check every', 'How often to fetch the page (at least 1m).'),
  checkWindows: checkWindowsField('the page'),
  timeout: duration('30s', 'Timeout', 'Give up on a fetch that takes longer than this, and on filters that take longer than this; either counts as a failed check, not a change.'),
});
export type WebConfig = z.infer<typeof webConfigSchema>;

interface Baseline {
  hash: string;
  lines: string[];
  /** Hash of the text as compared (spacing or digits left out when the user said so); absent in older baselines. */
  key?: string;
  number?: number | null;
  /** The stored version this text is (ctx.versions), null when none is kept. */
  versionId?: number | null;
}

/** What the server said last time (ETag, Last-Modified), and for which config: other filters need the body again. */
interface KeptValidators extends Validators {
  config: string;
}

const definition: MonitorDefinition<WebConfig> = {
  type: 'web',
  badge: 'WEB',
  category: 'World',
  title: 'Web page change',
  description: 'Checks a web page (or part of it, by CSS selector) and tells you when its text changes.',
  configSchema: webConfigSchema,
  minIntervalMs: MIN_INTERVAL_MS,
  events: [
    {
      type: 'web.changed',
      description: 'The watched text changed since the last check. The first check only records the page.',
      // Its notification opens the diff of exactly this change.
      link: 'diffLink',
      fields: {
        url: 'The page address (after redirects)',
        selector: 'The CSS selector, or null for the whole page',
        diff: '{ added: string[], removed: string[] }: lines that appeared and lines that disappeared',
        summary: '"+3 lines, −1": lines added and removed',
        versionId: 'The stored version of the watched text now (versions.get / versions.diff)',
        previousVersionId: 'The stored version it is compared with',
        diffLink: 'Where the UI shows this change coloured: History with this change’s two versions (from, to)',
        addedCount: 'Number of added lines',
        removedCount: 'Number of removed lines',
        before: 'The watched text before the change (lines joined by newlines, capped at 100,000 characters)',
        after: 'The watched text now (capped likewise)',
        number: 'The first number in the watched text (a price), or null',
        previousNumber: 'That number at the previous version, or null',
        changePercent: 'How much the number moved, in percent, or null',
        conditions: 'The number conditions that held ("below 40"), when any are set',
        extracted: 'Named groups of regex filters (also set as fields of their own name)',
      },
    },
  ],
  // The page and the part of it watched: another selector on the same page is another source.
  sources: (c) => [`${new URL(c.url).href} ${c.selector ?? ''}`],
  // jq's own compiler judges jq programs (the schema only sees unclosed brackets and strings), in the filter worker.
  async validate(config, signal) {
    const jq = config.filters.flatMap((line, i) => {
      const step = parseFilter(line);
      return typeof step === 'object' && step.kind === 'jq' ? [{ i, program: step.program }] : [];
    });
    const problems = await jqCompileProblems(
      jq.map((j) => j.program),
      { budgetMs: Math.min(parseDuration(config.timeout), VALIDATE_BUDGET_MS), signal },
    );
    return jq.flatMap((j, k) => (problems[k] ? [{ path: `$.filters[${j.i}]`, message: jqNotValid(j.program, problems[k]) }] : []));
  },
  // "Pick on the page" in the form fills the CSS selector (pick.ts).
  picker: { field: 'selector', pick: (config, signal) => pickFromConfig(config, signal) },
  create(ctx) {
    const { url, selector } = ctx.config;
    const ignore = ctx.config.ignore.map((p) => new UserRegex(p, 'g'));
    const steps: FilterStep[] = [...(selector ? [{ kind: 'css' as const, selector }] : []), ...parseFilters(ctx.config.filters)];
    const conditions = { below: ctx.config.notifyBelow, above: ctx.config.notifyAbove, changedByPercent: ctx.config.notifyChangePercent };
    const intervalMs = Math.max(parseDuration(ctx.config.interval), MIN_INTERVAL_MS);
    const timeoutMs = parseDuration(ctx.config.timeout);
    const compareKey = (lines: string[]) =>
      hashLines(lines.map((l) => (ctx.config.ignoreWhitespace ? l.replace(/\s+/g, '') : l)).map((l) => (ctx.config.ignoreNumbers ? l.replace(/\d+(?:[.,]\d+)*/g, '#') : l)));

    const renderSteps = ctx.config.steps.map((l) => parseStep(l) as RenderStep);
    const windows: MaintenanceWindow[] = ctx.config.checkWindows;
    const configKey = createHash('sha256').update(JSON.stringify(ctx.config)).digest('hex').slice(0, 16);
    type Fetched = { notModified: true; validators: Validators } | { notModified: false; body: Buffer; contentType: string; url: string; screenshot: Buffer | null; validators: Validators };
    const fetchPage = async (signal: AbortSignal, validators: Validators): Promise<Fetched> => {
      if (ctx.config.render) {
        // The browser's visit counts against the same per-host limit as every page and feed (its own requests for
        // images and scripts are the browser's business, like a person's visit).
        const host = new URL(url).host;
        try {
          const r = await sharedHostLimiter.run(host, () => pageRendererFor(ctx.config.browserPath).render(url, { steps: renderSteps, timeoutMs, maxBytes: MAX_PAGE_BYTES, browserPath: ctx.config.browserPath, signal }), signal);
          return { notModified: false, body: Buffer.from(r.html), contentType: 'text/html; charset=utf-8', url: r.url, screenshot: r.screenshot, validators: {} };
        } catch (err) {
          if (err instanceof RenderError && err.status !== undefined) {
            const wait = slowDownWait(err.status, err.retryAfter ?? null);
            if (wait !== null) {
              sharedHostLimiter.holdOff(host, Date.now() + wait, `HTTP ${err.status}`);
              throw new HostHeldError(host, Date.now() + wait, `HTTP ${err.status}`);
            }
          }
          if (err instanceof RenderError) throw new Error(`${err.message}; the last version is kept`);
          throw err;
        }
      }
      let res;
      try {
        // Conditional (an unchanged page costs the server a 304), through the per-host limiter shared with feeds.
        res = await conditionalGet(url, {
          fetch: (u, o) => ctx.fetch(u, { ...o, signal }),
          signal,
          validators,
          accept: 'text/html,application/xhtml+xml,application/json;q=0.9,text/*;q=0.8',
          timeoutMs,
          maxBytes: MAX_PAGE_BYTES,
        });
      } catch (err) {
        if (err instanceof HostHeldError) throw err;
        if (err instanceof HttpStatusError) throw new Error(`${url} answered HTTP ${err.status}${err.status >= 500 ? ' (server error)' : ''}; not treated as a change`);
        throw new Error(`${readableError(err, url).message}; the last version is kept`);
      }
      if (res.notModified) return { notModified: true, validators: res.validators };
      const contentType = res.headers.get('content-type') ?? '';
      if (contentType && !/^(text\/|application\/(xhtml\+xml|xml|([\w.+-]+\+)?json))/i.test(contentType)) {
        throw new Error(`${url} sent "${contentType.split(';')[0]}", not a web page`);
      }
      if (looksBinary(res.body)) throw new Error(`${url} sent binary data, not a web page`);
      return { notModified: false, body: res.body, contentType, url: res.url, screenshot: null, validators: res.validators };
    };

    const check = async (signal: AbortSignal, manual: boolean): Promise<void | CheckResult> => {
      const closed = outsideCheckWindows(windows, manual);
      if (closed) {
        ctx.health.ok(closed.message);
        return closed.result;
      }
      const previous = ctx.dryRun ? undefined : ctx.state.get<Baseline>('baseline');
      const kept = ctx.state.get<KeptValidators>('validators');
      // Validators only count with the baseline they were read with, and under the same settings.
      const validators: Validators = previous && kept?.config === configKey ? { etag: kept.etag ?? null, lastModified: kept.lastModified ?? null } : {};
      const res = await fetchPage(signal, validators);
      const keepValidators = () => {
        if (!ctx.dryRun) ctx.state.set('validators', { config: configKey, etag: res.validators.etag ?? null, lastModified: res.validators.lastModified ?? null } satisfies KeptValidators);
      };
      if (res.notModified) {
        keepValidators();
        ctx.health.ok('not modified since the last check');
        return;
      }
      const contentType = res.contentType;
      const charset = /charset=([^;\s]+)/i.exec(contentType)?.[1]?.replace(/"/g, '');
      let lines: string[];
      let extracted: Record<string, string>;
      try {
        const filtered = await filterPage({ body: res.body, contentType, charset }, steps, { budgetMs: timeoutMs, signal });
        lines = applyIgnore(filtered.lines, ignore);
        extracted = filtered.fields;
      } catch (err) {
        if (signal.aborted) throw err;
        if (err instanceof FilterError) throw err;
        throw new Error(`could not read the page at ${url}: ${(err as Error).message}`);
      }
      const number = firstNumber(lines);
      const current: Baseline = { hash: hashLines(lines), key: compareKey(lines), lines: capLines(lines), number };
      const pageUrl = res.url || url;

      if (ctx.dryRun) {
        await ctx.emit(changeEvent(ctx.name, pageUrl, selector, [], current.lines, { number, previousNumber: null, extracted, conditions: [] }));
        return;
      }
      const keepVersion = () => ctx.versions?.add(lines.join('\n'), { screenshot: res.screenshot, limits: { maxCount: ctx.config.keepVersions, maxAgeMs: ctx.config.keepDays * 86_400_000 } });
      if (!previous) {
        current.versionId = keepVersion()?.id ?? null;
        ctx.state.set('baseline', current);
        keepValidators();
        ctx.log.info('recorded the first version of the page', { url, lines: lines.length });
        return;
      }
      // Older baselines have no comparison key: derive it from their lines, so an upgrade is not a change.
      if ((previous.key ?? compareKey(previous.lines)) === current.key) {
        keepValidators();
        return;
      }
      const previousNumber = previous.number ?? firstNumber(previous.lines);
      const met = conditionsMet(number, previousNumber, conditions);
      // Kept before the event is stored, so the event can link to it; a crash in between repeats the check, which
      // finds this version already newest and links to it.
      const previousVersionId = previous.versionId ?? null;
      const version = keepVersion();
      current.versionId = version?.id ?? null;
      if (hasConditions(conditions) && !met.length) {
        // A change, but not one the user asked to hear about: it becomes the new baseline silently.
        ctx.state.set('baseline', current);
        keepValidators();
        ctx.health.ok(number === null ? 'changed, but no number found in the watched text' : `changed; ${number} meets no condition`);
        return;
      }
      const event = changeEvent(ctx.name, pageUrl, selector, previous.lines, current.lines, { number, previousNumber, extracted, conditions: met });
      if (version) Object.assign(event.fields, { versionId: version.id, previousVersionId, diffLink: versionsLink(ctx.id, previousVersionId, version.id) });
      await ctx.emit(event, { state: { baseline: current } });
      keepValidators();
    };

    return {
      start() {
        // The fetch has the timeout, and so has the filtering (in its worker, filter-runner.ts).
        // Waiting for a turn at the host (per-host limit and gap, shared with feeds) is part of the check's time.
        ctx.every(intervalMs, (signal, run) => check(signal, run.manual), { timeoutMs: 2 * timeoutMs + 5_000, spread: true });
      },
      stop() {},
    };
  },
};

export default definition;

interface Extras {
  number: number | null;
  previousNumber: number | null;
  extracted: Record<string, string>;
  conditions: string[];
}

function changeEvent(name: string, url: string, selector: string | undefined, before: string[], after: string[], extras: Extras) {
  const diff = diffLines(before, after);
  const added = diff.added.slice(0, MAX_DIFF_LINES);
  const removed = diff.removed.slice(0, MAX_DIFF_LINES);
  const summary = diffSummary(diff.added.length, diff.removed.length);
  const first = added[0] ?? (removed[0] ? `removed: ${removed[0]}` : '');
  const who = name && name !== 'dry run' ? name : hostOf(url);
  const numberNote = extras.conditions.length && extras.number !== null ? ` — ${extras.number} (${extras.conditions.join(', ')})` : '';
  return {
    type: 'web.changed',
    title: `${who}: ${summary}${numberNote || (first ? ' — ' + truncate(first, 140) : '')}`,
    body: [...added.map((l) => `+ ${l}`), ...removed.map((l) => `- ${l}`)].join('\n'),
    url,
    fields: {
      // Named groups first, so a group called "url" or "diff" cannot hide the monitor's own fields.
      ...extras.extracted,
      url,
      selector: selector ?? null,
      diff: { added, removed },
      summary,
      addedCount: diff.added.length,
      removedCount: diff.removed.length,
      before: truncate(before.join('\n'), MAX_KEPT_CHARS),
      after: truncate(after.join('\n'), MAX_KEPT_CHARS),
      extracted: extras.extracted,
      number: extras.number,
      previousNumber: extras.previousNumber,
      changePercent: extras.number !== null && extras.previousNumber !== null ? changePercent(extras.previousNumber, extras.number) : null,
      ...(extras.conditions.length ? { conditions: extras.conditions } : {}),
    } as Record<string, unknown>,
  };
}

/** History with one watch's versions open on two of them: the link stays right after newer versions come. */
function versionsLink(monitorId: string, from: number | null, to: number): string {
  return `#/history?versions=${encodeURIComponent(monitorId)}${from !== null ? `&from=${from}` : ''}&to=${to}`;
}

function hashLines(lines: string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Keep at most MAX_KEPT_CHARS of text as the baseline; the hash still covers all of it. */
function capLines(lines: string[]): string[] {
  const out: string[] = [];
  let size = 0;
  for (const l of lines) {
    size += l.length + 1;
    if (size > MAX_KEPT_CHARS) break;
    out.push(l);
  }
  return out;
}

/** NUL bytes in the first few KiB: an image or archive served where a page was expected. */
function looksBinary(body: Buffer): boolean {
  const head = body.subarray(0, 8192);
  // UTF-16 pages have NULs too, but they start with a BOM.
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return false;
  return head.includes(0);
}

function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
