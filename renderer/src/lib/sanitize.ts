import DOMPurify from 'dompurify';

/**
 * Every event body is untrusted (a feed, a mail, a chat message). This turns it into inert HTML: no script,
 * no event handler, no `javascript:` link, no form, no frame, no inline style (CSS can fetch), and no remote
 * resource fetched until the user asks for images of that one event.
 */
const purify = DOMPurify(window);
const SAFE_URL = /^(?:https?:|mailto:)/i;
let allowImages = false;

purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href');
    if (!href || !SAFE_URL.test(href.trim())) node.removeAttribute('href');
    else {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  }
  if (node.tagName === 'IMG') {
    const src = node.getAttribute('src') ?? '';
    node.removeAttribute('srcset');
    if (!allowImages || !/^https?:/i.test(src.trim())) {
      node.removeAttribute('src');
      node.setAttribute('data-blocked-src', src);
      if (!node.getAttribute('alt')) node.setAttribute('alt', '[image]');
    } else {
      node.setAttribute('referrerpolicy', 'no-referrer');
      node.setAttribute('loading', 'lazy');
    }
  }
});

const CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'link', 'meta', 'base', 'video', 'audio', 'source', 'track', 'picture', 'svg', 'math'],
  FORBID_ATTR: ['style', 'srcset', 'background', 'poster', 'formaction', 'action', 'ping', 'xlink:href', 'lowsrc', 'dynsrc'],
  ALLOW_DATA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
};

/**
 * Renames `on…=` attributes inside tags before the HTML is parsed at all. DOMPurify removes them anyway; this
 * is so that even its inert parsing document never compiles a handler (Chromium does that for, e.g., an
 * `<img onerror>` whose load fails there, and reports a CSP violation). A tag this misses is still sanitized.
 */
function defuseHandlers(html: string): string {
  return html.replace(/<[a-z][^>]*>/gi, (tag) => tag.replace(/([\s/"'])on([a-z]+)(\s*=)/gi, '$1data-defused-on$2$3'));
}

export function sanitizeHtml(html: string, options: { images?: boolean } = {}): string {
  allowImages = options.images === true;
  try {
    return purify.sanitize(defuseHandlers(html), CONFIG) as string;
  } finally {
    allowImages = false;
  }
}

/** Whether the sanitized HTML had images that were held back (so the UI can offer "show images"). */
export function hasBlockedImages(sanitized: string): boolean {
  return sanitized.includes('data-blocked-src=');
}

/** Plain text of an untrusted HTML fragment, for one-line previews. Parsed inertly: nothing loads or runs. */
export function toPlainText(html: string): string {
  if (!/[<&]/.test(html)) return html;
  const doc = new DOMParser().parseFromString(defuseHandlers(html), 'text/html');
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}
