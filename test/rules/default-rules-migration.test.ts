// Default rules are seeded once, into a new configuration; a change to them later reaches configurations written
// before it through a migration, run once when the engine opens the document. The file here is one written before
// the down and missed-heartbeat rules got `"context": { "maintenance": false }` (its rules are what that build seeded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OLD = readFileSync(path.join(ROOT, 'test/fixtures/config/before-maintenance-gate.json'), 'utf8');
const GATED = ['default-notify-check-down', 'default-notify-heartbeat-missed'];

type Rule = { id: string; context?: Record<string, unknown>; then?: unknown };
const rulesIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { rules: Rule[] }).rules;
const byId = (rules: Rule[], id: string) => rules.find((r) => r.id === id)!;

async function openOn(dir: string): Promise<void> {
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false });
  await engine.close();
}

test('an old configuration gets the maintenance gate on the default down and missed-heartbeat rules, once, and nothing else changes', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, OLD);
  await openOn(dir);
  const before = (JSON.parse(OLD) as { rules: Rule[] }).rules;
  const after = rulesIn(file);
  for (const id of GATED) assert.deepEqual(byId(after, id).context, { maintenance: false }, id);
  assert.deepEqual(
    after.map((r) => (GATED.includes(r.id) ? { ...r, context: undefined } : r)),
    before.map((r) => (GATED.includes(r.id) ? { ...r, context: undefined } : r)),
    'every other rule, and the rest of these two, as they were',
  );

  // The user takes the gate off one of them: a later start must not put it back.
  const edited = JSON.parse(readFileSync(file, 'utf8')) as { rules: Rule[] };
  delete byId(edited.rules, 'default-notify-check-down').context;
  writeFileSync(file, JSON.stringify(edited, null, 2) + '\n');
  const text = readFileSync(file, 'utf8');
  await openOn(dir);
  assert.equal(readFileSync(file, 'utf8'), text, 'a migrated document is left as the user has it');
});

test('the user\'s own choices win: a maintenance gate they set is kept, other context gates are kept beside the new one, and a broken file is not touched', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  const doc = JSON.parse(OLD) as { rules: Rule[] };
  byId(doc.rules, 'default-notify-heartbeat-missed').context = { maintenance: true };
  byId(doc.rules, 'default-notify-check-down').context = { flags: { away: false } };
  writeFileSync(file, JSON.stringify(doc, null, 2));
  await openOn(dir);
  const after = rulesIn(file);
  assert.deepEqual(byId(after, 'default-notify-heartbeat-missed').context, { maintenance: true });
  assert.deepEqual(byId(after, 'default-notify-check-down').context, { flags: { away: false }, maintenance: false });

  const broken = path.join(tempDir(t), 'config.json');
  writeFileSync(broken, OLD.replace('"rules": [', '"rules": [,'));
  const brokenText = readFileSync(broken, 'utf8');
  await openOn(path.dirname(broken));
  assert.equal(readFileSync(broken, 'utf8'), brokenText, 'a file that does not load is left for the user to mend');
});

test('a new configuration is born with the gate, and opening it again changes nothing', async (t) => {
  const dir = tempDir(t);
  await openOn(dir);
  const file = path.join(dir, 'config.json');
  for (const id of GATED) assert.deepEqual(byId(rulesIn(file), id).context, { maintenance: false }, id);
  const text = readFileSync(file, 'utf8');
  await openOn(dir);
  assert.equal(readFileSync(file, 'utf8'), text);
});
