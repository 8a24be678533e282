import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  autostartDesktopEntry,
  quoteExecArg,
  setLinuxAutostart,
  isLinuxAutostartEnabled,
  autostartDir,
  HIDDEN_FLAG,
} from '../../electron/autostart.js';

const haveValidator = spawnSync('desktop-file-validate', ['--help']).status === 0;

function validate(file: string): { ok: boolean; output: string } {
  const r = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
  return { ok: r.status === 0 && !/error/i.test(r.stdout + r.stderr), output: r.stdout + r.stderr };
}

test('the autostart entry is valid for desktop-file-validate, also with awkward paths', { skip: !haveValidator && 'skipped: desktop-file-validate (desktop-file-utils) is not installed' }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-autostart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases = [
    { exec: '/opt/Panoptes/panoptes', args: [HIDDEN_FLAG] },
    { exec: '/home/me/Apps/Panoptes 0.1.0.AppImage', args: [HIDDEN_FLAG] },
    { exec: '/usr/lib/node_modules/electron/dist/electron', args: ['/home/me/src/pan"optes $HOME `x` 100%', HIDDEN_FLAG] },
  ];
  for (const [i, c] of cases.entries()) {
    const file = path.join(dir, `case${i}.desktop`);
    writeFileSync(file, autostartDesktopEntry(c));
    const v = validate(file);
    assert.ok(v.ok, `${file}: ${v.output}`);
  }
});

test('Exec arguments are quoted and escaped per the Desktop Entry spec', () => {
  assert.equal(quoteExecArg('/usr/bin/panoptes'), '/usr/bin/panoptes');
  assert.equal(quoteExecArg('/a b/c'), '"/a b/c"');
  assert.equal(quoteExecArg('100%'), '100%%');
  // Inside quotes `"` `$` and a backtick get a backslash, and the backslash itself is doubled for the string value.
  assert.equal(quoteExecArg('a"b'), '"a\\\\"b"');
  assert.equal(quoteExecArg('$HOME'), '"\\\\$HOME"');
  assert.equal(quoteExecArg(''), '""');
  const entry = autostartDesktopEntry({ exec: '/opt/Panoptes/panoptes', args: [HIDDEN_FLAG], name: 'Pan\noptes' });
  assert.match(entry, /^Exec=\/opt\/Panoptes\/panoptes --hidden$/m);
  assert.match(entry, /^Name=Pan optes$/m, 'no newline injection into the entry');
  assert.match(entry, /^Type=Application$/m);
});

test('turning login start on writes ~/.config/autostart/panoptes.desktop; turning it off removes it', (t) => {
  const home = mkdtempSync(path.join(tmpdir(), 'panoptes-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const dir = autostartDir({}, home);
  assert.equal(dir, path.join(home, '.config', 'autostart'));
  assert.equal(autostartDir({ XDG_CONFIG_HOME: '/xdg' }, home), '/xdg/autostart');
  assert.equal(autostartDir({ XDG_CONFIG_HOME: 'relative' }, home), dir, 'a relative XDG_CONFIG_HOME is ignored, as the spec says');

  assert.equal(isLinuxAutostartEnabled(dir), false);
  const file = setLinuxAutostart(true, { exec: '/opt/Panoptes/panoptes', args: [HIDDEN_FLAG] }, dir);
  assert.equal(file, path.join(dir, 'panoptes.desktop'));
  assert.match(readFileSync(file, 'utf8'), /--hidden/);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.equal(isLinuxAutostartEnabled(dir), true);
  if (haveValidator) assert.ok(validate(file).ok);

  setLinuxAutostart(false, { exec: '/opt/Panoptes/panoptes' }, dir);
  assert.equal(existsSync(file), false);
  assert.equal(isLinuxAutostartEnabled(dir), false);
  setLinuxAutostart(false, { exec: '/opt/Panoptes/panoptes' }, dir); // turning off twice is fine
});
