import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = process.env.PANOPTES_ROOT ?? process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const config = JSON.parse(readFileSync(path.join(root, 'electron-builder.json'), 'utf8'));

test('electron-builder.json is valid against electron-builder\'s own schema', () => {
  const Ajv = require('ajv');
  const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  const { $schema: _ignored, ...body } = config;
  const ok = validate(body);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  // The schema is not vacuous: a typo in a key is caught.
  assert.equal(validate({ ...body, linx: {} }), false);
});

test('targets: AppImage and deb, dmg, nsis; icons from assets/ exist', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.ok(config.appId);
  for (const icon of [config.mac.icon, config.win.icon, path.join(config.linux.icon, '512x512.png')]) {
    assert.ok(existsSync(path.join(root, icon)), icon);
  }
});

test('native modules are rebuilt for Electron and kept outside the asar archive', () => {
  assert.equal(config.npmRebuild, true);
  assert.ok(config.asarUnpack.includes('**/*.node'));
  assert.equal(config.extraMetadata.main, 'dist/electron/main.js');
  // The engine entry the main process forks, and the preload, are inside the packaged files.
  assert.ok(config.files.includes('dist/**/*'));
});
