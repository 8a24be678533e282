import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findElectronBinary, missingRuntimeReason } from '../../electron/runtime.js';

function fakeProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'panoptes-runtime-'));
  mkdirSync(path.join(root, 'node_modules', 'electron'), { recursive: true });
  return root;
}

test('no runtime: the electron package without path.txt is reported missing, nothing is downloaded', (t) => {
  const root = fakeProject();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(findElectronBinary(root, {}), null);
  assert.match(missingRuntimeReason(root), /no Electron runtime/);
});

test('path.txt present but the dist folder missing (interrupted download) counts as no runtime', (t) => {
  const root = fakeProject();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(path.join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
  assert.equal(findElectronBinary(root, {}), null);
});

test('an installed runtime is found at dist/<path.txt>', (t) => {
  const root = fakeProject();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const pkg = path.join(root, 'node_modules', 'electron');
  writeFileSync(path.join(pkg, 'path.txt'), 'electron\n');
  mkdirSync(path.join(pkg, 'dist'));
  writeFileSync(path.join(pkg, 'dist', 'electron'), '');
  assert.equal(findElectronBinary(root, {}), path.join(pkg, 'dist', 'electron'));
});

test('ELECTRON_OVERRIDE_DIST_PATH points at a runtime unpacked elsewhere', (t) => {
  const root = fakeProject();
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'panoptes-electron-dist-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });
  writeFileSync(path.join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
  assert.equal(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: elsewhere }), null);
  writeFileSync(path.join(elsewhere, 'electron'), '');
  assert.equal(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: elsewhere }), path.join(elsewhere, 'electron'));
});
