/**
 * The window's security boundary as plain functions: what the page may load, where it may navigate, which
 * links leave for the OS browser, and which IPC senders are ours. main.ts only wires these to Electron.
 */
import path from 'node:path';

/** The renderer is served from this privileged scheme rather than file://, so the CSP travels as a real header. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'panoptes';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/**
 * Strict: our own scripts only (no inline, no eval), no plugins, no framing, no form posts, no network from the
 * page (the engine is reached through a MessagePort, not fetch). Images may come from https because events carry
 * them (sanitized HTML from feeds); styles allow inline attributes React and charts set.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every response of the app scheme carries. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Map an app-scheme URL to a file under the renderer's build folder, or null for anything that would escape it
 * (`..`, encoded separators, another host). The page is untrusted enough that this matters: an injected `<img
 * src="app://panoptes/../../.ssh/id_rsa">` must not read files.
 */
export function resolveAppFile(rendererRoot: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const relative = pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = path.resolve(rendererRoot);
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return file;
}

/** True for pages of our own app (the only thing the window may show and the only IPC sender we trust). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * A link the user clicked in the page: returns the URL to hand to the OS browser when it is plain http(s), null
 * for everything else (file:, javascript:, custom schemes that would launch other apps).
 */
export function externalLinkTarget(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.username || u.password) return null;
    return u.toString();
  } catch {
    return null;
  }
}

/** What to do when the page tries to navigate or open a window: stay, or open outside. Never navigate away. */
export function navigationDecision(url: string): { allowInWindow: boolean; openExternally: string | null } {
  if (isAppUrl(url)) return { allowInWindow: true, openExternally: null };
  return { allowInWindow: false, openExternally: externalLinkTarget(url) };
}

/** IPC sender check: the frame that sent the message must be our app page, in the window we created. */
export function isTrustedSender(frameUrl: string | undefined | null, senderId: number, trustedIds: ReadonlySet<number>): boolean {
  return !!frameUrl && isAppUrl(frameUrl) && trustedIds.has(senderId);
}
