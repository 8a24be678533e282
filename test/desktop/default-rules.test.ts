import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONTEXT_RULES } from '../../engine/default-rules.js';

type AnyRule = { id: string; enabled: boolean; when: { type?: string }; then: Record<string, Record<string, unknown>>[] };
const rules = DEFAULT_CONTEXT_RULES as unknown as AnyRule[];
const byId = (id: string) => rules.find((r) => r.id === id)!;

test('away follows idle and lock: set on idle.start / session.lock, cleared on idle.end / session.unlock', () => {
  const setters = rules.filter((r) => r.enabled && r.then.some((a) => a.flag?.set === 'away')).map((r) => r.when.type).sort();
  const clearers = rules.filter((r) => r.enabled && r.then.some((a) => a.flag?.clear === 'away')).map((r) => r.when.type).sort();
  assert.deepEqual(setters, ['idle.start', 'session.lock', 'system.suspend']);
  assert.deepEqual(clearers, ['idle.end', 'session.unlock']);
});

test('rule ids are unique and every default is a complete rule', () => {
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length);
  for (const r of rules) {
    assert.ok(r.id && typeof r.enabled === 'boolean' && r.when && r.then.length, r.id);
  }
});

test('rules that need the user to choose (focus apps, night schedule) ship disabled', () => {
  assert.equal(byId('default-focus-apps').enabled, false);
  assert.equal(byId('default-dnd-at-night').enabled, false);
});

test('the night dnd rule cannot retrigger itself on its own flag events', () => {
  const r = byId('default-dnd-at-night') as unknown as { if: { not: { field: string; startsWith: string } } };
  assert.deepEqual(r.if.not, { field: 'type', startsWith: 'flag.' });
});
