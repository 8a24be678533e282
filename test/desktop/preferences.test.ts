import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { preferenceStoreOptions, PREFERENCE_DEFAULTS, effectiveStartOnLogin, type DesktopPreferences } from '../../electron/preferences.js';

// electron-store is conf plus Electron's paths: the same options exercised here are what main.ts passes.
function open(cwd: string) {
  return new Conf<DesktopPreferences>({ ...preferenceStoreOptions(), cwd } as unknown as ConstructorParameters<typeof Conf<DesktopPreferences>>[0]);
}

test('a new store starts from the defaults and keeps what the user sets', (t) => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'panoptes-prefs-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const s = open(cwd);
  for (const [k, v] of Object.entries(PREFERENCE_DEFAULTS)) assert.deepEqual(s.get(k as keyof DesktopPreferences), v, k);
  s.set('windowBounds', { x: 10, y: 20, width: 800, height: 600 });
  s.set('notificationSound', false);
  const again = open(cwd);
  assert.deepEqual(again.get('windowBounds'), { x: 10, y: 20, width: 800, height: 600 });
  assert.equal(again.get('notificationSound'), false);
});

test('values of the wrong shape are refused with a message naming the key', (t) => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'panoptes-prefs-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const s = open(cwd);
  assert.throws(() => s.set('startHidden', 'yes' as unknown as boolean), /startHidden/);
  assert.throws(() => s.set('windowBounds', { width: 'wide' } as never), /windowBounds/);
  assert.equal(s.get('startHidden'), false);
});

test('a hand-broken preferences file does not stop the app: it starts from defaults', (t) => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'panoptes-prefs-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const file = open(cwd).path;
  writeFileSync(file, '{ "startHidden": tru');
  const s = open(cwd);
  assert.equal(s.get('startHidden'), false);
  assert.doesNotThrow(() => JSON.parse(readFileSync(file, 'utf8')));
});

test('login start: the user choice wins; unset means on for packaged builds, off in development', () => {
  assert.equal(effectiveStartOnLogin({ startOnLogin: null }, true), true);
  assert.equal(effectiveStartOnLogin({ startOnLogin: null }, false), false);
  assert.equal(effectiveStartOnLogin({ startOnLogin: false }, true), false);
});

// On macOS and Windows, Electron's userData folder (where electron-store writes) is the data folder itself
// (Application Support/Panoptes), where every file is 0600; on Linux it sits beside it. Either way only its owner reads it.
test('the preferences file is written 0600, readable by its owner alone', { skip: process.platform === 'win32' && 'no POSIX modes' }, (t) => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'panoptes-prefs-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const s = open(cwd);
  s.set('notificationSound', false);
  assert.equal((statSync(s.path).mode & 0o777).toString(8), '600');
});
