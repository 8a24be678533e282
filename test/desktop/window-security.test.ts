import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mainWindowOptions, usableBounds, DEFAULT_SIZE } from '../../electron/window-options.js';
import {
  CONTENT_SECURITY_POLICY,
  resolveAppFile,
  navigationDecision,
  externalLinkTarget,
  isTrustedSender,
  appResponseHeaders,
  APP_ENTRY,
} from '../../electron/security.js';

test('the window runs the page isolated: contextIsolation, sandbox, no node, webSecurity, no webview', () => {
  const o = mainWindowOptions({ preloadPath: '/app/dist/electron/preload.cjs' });
  const w = o.webPreferences!;
  assert.equal(w.contextIsolation, true);
  assert.equal(w.sandbox, true);
  assert.equal(w.nodeIntegration, false);
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webSecurity, true);
  assert.equal(w.allowRunningInsecureContent, false);
  assert.equal(w.webviewTag, false);
  assert.equal(w.preload, '/app/dist/electron/preload.cjs');
  assert.equal(o.show, false, 'shown only when ready, or never when starting hidden');
});

test('the CSP forbids inline/eval scripts, plugins, framing and foreign connections', () => {
  const d = Object.fromEntries(CONTENT_SECURITY_POLICY.split(';').map((s) => s.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(d['default-src'], ["'none'"]);
  assert.deepEqual(d['script-src'], ["'self'"]);
  assert.deepEqual(d['object-src'], ["'none'"]);
  assert.deepEqual(d['frame-ancestors'], ["'none'"]);
  assert.deepEqual(d['connect-src'], ["'self'"]);
  assert.equal(appResponseHeaders('text/html')['content-security-policy'], CONTENT_SECURITY_POLICY);
});

test('app:// URLs map to files inside the renderer build and nowhere else', () => {
  const root = path.resolve('/srv/renderer');
  assert.equal(resolveAppFile(root, APP_ENTRY), path.join(root, 'index.html'));
  assert.equal(resolveAppFile(root, 'app://panoptes/'), path.join(root, 'index.html'));
  assert.equal(resolveAppFile(root, 'app://panoptes/assets/index-abc.js?x=1'), path.join(root, 'assets', 'index-abc.js'));
  for (const bad of [
    'app://panoptes/../../etc/passwd',
    'app://panoptes/%2e%2e/%2e%2e/etc/passwd',
    'app://panoptes/..%2f..%2fetc/passwd',
    'app://panoptes/a%5c..%5c..%5csecret',
    'app://panoptes/x%00.js',
    'app://other/index.html',
    'file:///etc/passwd',
    'not a url',
  ]) {
    const file = resolveAppFile(root, bad);
    assert.ok(file === null || file.startsWith(root + path.sep), `${bad} -> ${file}`);
  }
  assert.equal(resolveAppFile(root, 'app://panoptes/..%2f..%2fetc/passwd'), null);
  assert.equal(resolveAppFile(root, 'app://other/index.html'), null);
  assert.equal(resolveAppFile(root, 'file:///etc/passwd'), null);
});

test('navigation never leaves the app; http(s) links go to the OS browser, other schemes nowhere', () => {
  assert.deepEqual(navigationDecision('app://panoptes/index.html#/feed'), { allowInWindow: true, openExternally: null });
  assert.deepEqual(navigationDecision('https://news.ycombinator.com/item?id=1'), { allowInWindow: false, openExternally: 'https://news.ycombinator.com/item?id=1' });
  assert.deepEqual(navigationDecision('file:///etc/passwd'), { allowInWindow: false, openExternally: null });
  assert.equal(externalLinkTarget('javascript:alert(1)'), null);
  assert.equal(externalLinkTarget('smb://host/share'), null);
  assert.equal(externalLinkTarget('https://user:pw@evil.example/'), null);
});

test('IPC is accepted only from our page in our window', () => {
  const ours = new Set([7]);
  assert.equal(isTrustedSender('app://panoptes/index.html', 7, ours), true);
  assert.equal(isTrustedSender('https://evil.example/', 7, ours), false);
  assert.equal(isTrustedSender('app://panoptes/index.html', 8, ours), false);
  assert.equal(isTrustedSender(undefined, 7, ours), false);
});

test('remembered window bounds are used only when sane and on a connected display', () => {
  const displays = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  assert.deepEqual(usableBounds({ x: 100, y: 50, width: 900, height: 600 }, displays), { x: 100, y: 50, width: 900, height: 600 });
  assert.deepEqual(usableBounds({ x: 5000, y: 50, width: 900, height: 600 }, displays), { width: 900, height: 600 }, 'unplugged monitor');
  assert.deepEqual(usableBounds({ width: Number.NaN, height: 600 }, displays), DEFAULT_SIZE);
  assert.deepEqual(usableBounds(null, displays), DEFAULT_SIZE);
  assert.deepEqual(usableBounds({ width: 10, height: 10 }, displays), { width: 560, height: 420 }, 'never below the minimum size');
});
