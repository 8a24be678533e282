import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import {
  EDITABLE_PREFERENCES,
  PREFERENCES_GET_CHANNEL,
  PREFERENCES_SET_CHANNEL,
  preferencesView,
  validatePreferencePatch,
} from '../../electron/preferences-ipc.js';
import { PREFERENCE_DEFAULTS, PREFERENCE_SCHEMA, preferenceStoreOptions, type DesktopPreferences } from '../../electron/preferences.js';

const root = process.env.PANOPTES_ROOT ?? process.cwd();

test('a patch of known preferences with true/false values is accepted as is', () => {
  assert.deepEqual(validatePreferencePatch({ startOnLogin: false, notificationSound: true }), { ok: true, patch: { startOnLogin: false, notificationSound: true } });
});

test('everything else from the page is refused whole, with a message', () => {
  const refused: [unknown, RegExp][] = [
    [null, /object of changes/],
    ['startHidden', /object of changes/],
    [[true], /object of changes/],
    [{}, /nothing to change/],
    [{ windowBounds: { width: 10, height: 10 } }, /"windowBounds" cannot be changed from the window/],
    [{ startHidden: true, somethingElse: true }, /"somethingElse" cannot be changed/],
    [{ startHidden: 'yes' }, /"startHidden" must be true or false/],
    [{ startOnLogin: null }, /must be true or false/],
    [JSON.parse('{"__proto__": {"startHidden": true}}'), /"__proto__" cannot be changed/],
    [Object.assign(Object.create({ inherited: 1 }), { startHidden: true }), /plain object/],
    [new Date(), /plain object/],
  ];
  for (const [input, message] of refused) {
    const r = validatePreferencePatch(input);
    assert.equal(r.ok, false, JSON.stringify(input));
    assert.match(r.ok ? '' : r.error, message);
  }
});

test('the page sees every editable preference as a boolean, login start as it is in effect', () => {
  const view = preferencesView(PREFERENCE_DEFAULTS, true);
  assert.deepEqual(Object.keys(view).sort(), [...EDITABLE_PREFERENCES].sort());
  assert.equal(view.startOnLogin, true, 'packaged builds start on login until the user says otherwise');
  assert.equal(preferencesView(PREFERENCE_DEFAULTS, false).startOnLogin, false);
  assert.equal(preferencesView({ ...PREFERENCE_DEFAULTS, startOnLogin: false }, true).startOnLogin, false);
  for (const v of Object.values(view)) assert.equal(typeof v, 'boolean');
});

test('every editable preference exists in the store schema, and a validated patch is stored as given', (t) => {
  for (const k of EDITABLE_PREFERENCES) assert.ok(k in PREFERENCE_SCHEMA, k);
  const cwd = mkdtempSync(path.join(tmpdir(), 'panoptes-prefs-ipc-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const store = new Conf<DesktopPreferences>({ ...preferenceStoreOptions(), cwd } as unknown as ConstructorParameters<typeof Conf<DesktopPreferences>>[0]);
  const all = Object.fromEntries(EDITABLE_PREFERENCES.map((k) => [k, !preferencesView(PREFERENCE_DEFAULTS, false)[k]]));
  const checked = validatePreferencePatch(all);
  assert.ok(checked.ok);
  for (const [k, v] of Object.entries(checked.patch)) store.set(k as keyof DesktopPreferences, v);
  assert.deepEqual(preferencesView(store.store, false), all);
});

test('the sandboxed preload uses the same channel names as main (it cannot import them)', () => {
  const preload = readFileSync(path.join(root, 'electron', 'preload.cts'), 'utf8');
  assert.ok(preload.includes(`'${PREFERENCES_GET_CHANNEL}'`));
  assert.ok(preload.includes(`'${PREFERENCES_SET_CHANNEL}'`));
  const main = readFileSync(path.join(root, 'electron', 'main.ts'), 'utf8');
  assert.match(main, /handle\(PREFERENCES_SET_CHANNEL[\s\S]{0,200}if \(!trusted\(event\)\) throw/, 'main checks the sender before anything else');
});
