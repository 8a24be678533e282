// The part of the page picker that runs inside the rendered page (pick.ts sends its source to the browser). The
// engine is compiled without the DOM's types, so the few DOM members used here are declared below, loosely.

interface DomElement {
  tagName: string;
  id: string;
  classList: Iterable<string> & { contains(name: string): boolean };
  parentElement: DomElement | null;
  children: Iterable<DomElement>;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
  innerText?: string;
  textContent: string | null;
  alt?: string;
  scrollWidth: number;
  scrollHeight: number;
}
declare const document: { body: DomElement | null; documentElement: DomElement; querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement> };
declare const window: { scrollX: number; scrollY: number };
declare function getComputedStyle(el: DomElement): { visibility: string; display: string; opacity: string };
type Element = DomElement;

/**
 * Runs inside the page (an isolated world: the DOM as built, not the page's variables), so it may only use what it
 * is given. For each visible element with text (or an image), in document order: its box in page coordinates, its
 * nearest listed ancestor, a selector that matches it alone, and its text as the page shows it.
 */
export function collectElements(opts: { maxElements: number; maxHeight: number; maxWidth: number; maxText: number; budgetMs: number }) {
  const started = Date.now();
  const doc = document;
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'META', 'LINK', 'BR', 'WBR', 'OPTION', 'IFRAME', 'OBJECT', 'EMBED']);
  // Names a build tool or a framework made up (css-1x2y3z, sc-bdVaJa, jsx-123, _3xYz9) or that come and go with
  // state (active, open): a selector with them breaks at the next deploy or click.
  const stateNames = /^(active|selected|current|open|opened|closed|hidden|visible|show|shown|in|focus|focused|hover|disabled|enabled|collapsed|expanded|loading|loaded|ng-.*|is-.*|has-.*)$/i;
  const stable = (name: string) => {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(name)) return false;
    if (/\d{3,}/.test(name) || stateNames.test(name)) return false;
    // CSS-in-JS and scoped-style prefixes (emotion's css-1x2y3z, styled-components' sc-bdVaJa, styled-jsx's jsx-123).
    if (/^(css|sc|jsx|emotion|svelte|styled|jss|ember|data-v)[-_]/i.test(name)) return false;
    return !name.split(/[-_]/).some((part) => part.length >= 5 && /\d/.test(part) && /[a-z]/i.test(part));
  };
  const prefAttrs = ['data-testid', 'data-test', 'data-test-id', 'data-qa', 'data-cy', 'data-id', 'itemprop', 'name'];
  const unique = (sel: string, el: Element) => {
    try {
      const m = doc.querySelectorAll(sel);
      return m.length === 1 && m[0] === el;
    } catch {
      return false;
    }
  };
  const tagOf = (el: Element) => el.tagName.toLowerCase();
  const classesOf = (el: Element) => [...el.classList].filter(stable).slice(0, 4);
  /** Selectors naming the element by itself, best first. */
  const ownCandidates = (el: Element): string[] => {
    const tag = tagOf(el);
    const out: string[] = [];
    if (el.id && stable(el.id)) out.push(`#${el.id}`);
    for (const a of prefAttrs) {
      const v = el.getAttribute(a);
      if (v && /^[A-Za-z0-9_ .:/-]{1,60}$/.test(v)) out.push(`${tag}[${a}="${v}"]`);
    }
    const cls = classesOf(el);
    for (const c of cls) out.push(`${tag}.${c}`);
    for (let i = 0; i < cls.length; i++) for (let j = i + 1; j < cls.length; j++) out.push(`${tag}.${cls[i]}.${cls[j]}`);
    if (/^[a-z][a-z0-9-]*$/.test(tag)) out.push(tag);
    return out;
  };
  const anchors = new Map<Element, string | null>();
  const anchorOf = (el: Element): string | null => {
    if (anchors.has(el)) return anchors.get(el)!;
    const found = ownCandidates(el).find((c) => unique(c, el)) ?? null;
    anchors.set(el, found);
    return found;
  };
  /** The element among its siblings: its tag, a stable class when that tells it apart, else its place. */
  const stepOf = (el: Element): string => {
    const tag = tagOf(el);
    const siblings = el.parentElement ? [...el.parentElement.children] : [el];
    const sameTag = siblings.filter((s) => s.tagName === el.tagName);
    if (sameTag.length === 1) return tag;
    for (const c of classesOf(el)) if (siblings.filter((s) => s.tagName === el.tagName && s.classList.contains(c)).length === 1) return `${tag}.${c}`;
    return `${tag}:nth-of-type(${sameTag.indexOf(el) + 1})`;
  };
  const selectorOf = (el: Element): string | null => {
    const own = anchorOf(el);
    if (own) return own;
    const steps: string[] = [stepOf(el)];
    let cur = el.parentElement;
    for (let depth = 0; cur && depth < 12; depth++, cur = cur.parentElement) {
      const anchor = cur === doc.body ? 'body' : cur === doc.documentElement ? 'html' : anchorOf(cur);
      if (anchor) {
        // Shortest first: anywhere under the anchor, then the path of children down from it.
        for (const c of ownCandidates(el)) if (unique(`${anchor} ${c}`, el)) return `${anchor} ${c}`;
        const path = `${anchor} > ${steps.join(' > ')}`;
        if (unique(path, el)) return path;
      }
      steps.unshift(stepOf(cur));
    }
    return null;
  };
  const textOf = (el: Element): string => {
    const t = typeof el.innerText === 'string' ? el.innerText : el.textContent ?? '';
    const lines = (t ?? '').split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean);
    let out = lines.join('\n');
    if (!out && el.tagName === 'IMG') out = (el.alt ?? '').trim();
    return out.length > opts.maxText ? out.slice(0, opts.maxText - 1) + '…' : out;
  };

  const root = doc.documentElement;
  const width = Math.max(root.scrollWidth, doc.body?.scrollWidth ?? 0);
  const height = Math.max(root.scrollHeight, doc.body?.scrollHeight ?? 0);
  const sx = window.scrollX;
  const sy = window.scrollY;
  const listed = new Map<Element, number>();
  const elements: { x: number; y: number; w: number; h: number; parent: number; tag: string; selector: string; text: string }[] = [];
  let complete = true;
  const all = doc.body ? [doc.body, ...doc.body.querySelectorAll('*')] : [];
  for (const el of all) {
    if (elements.length >= opts.maxElements || Date.now() - started > opts.budgetMs) {
      complete = false;
      break;
    }
    if (skip.has(el.tagName) || (el.closest('svg') && tagOf(el) !== 'svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    const x = r.left + sx;
    const y = r.top + sy;
    if (y >= opts.maxHeight || x >= opts.maxWidth || y + r.height <= 0 || x + r.width <= 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || style.opacity === '0') continue;
    const text = textOf(el);
    if (!text) continue;
    const selector = selectorOf(el);
    if (!selector) continue;
    let parent = -1;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const i = listed.get(p);
      if (i !== undefined) {
        parent = i;
        break;
      }
    }
    listed.set(el, elements.length);
    elements.push({ x, y, w: r.width, h: r.height, parent, tag: tagOf(el), selector, text });
  }
  return { width, height, elements, complete };
}
