import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RelayedSecretStore, parseSecretsData, isSecretsReply, type SecretsData } from '../../core/relayed-secrets.js';
import { FileSecretStore } from '../../core/secrets.js';

test('the relayed store behaves like the 0600 file store, and reports the whole set after each change', (t) => {
  const d = mkdtempSync(path.join(tmpdir(), 'panoptes-relay-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const file = new FileSecretStore(d);
  const seen: SecretsData[] = [];
  const relayed = new RelayedSecretStore({}, (s) => seen.push(s));
  const steps: [string, Record<string, string | null | undefined> | 'delete'][] = [
    ['m1', { user: 'me', password: 'p1' }],
    ['m1', { password: '' }], // empty: leave as it was (a form left blank)
    ['m1', { password: undefined, token: 't' }],
    ['m1', { user: null }], // null: remove
    ['m2', { password: 'p2' }],
    ['m2', 'delete'],
  ];
  for (const [owner, values] of steps) {
    if (values === 'delete') {
      file.delete(owner);
      relayed.delete(owner);
    } else {
      file.set(owner, values);
      relayed.set(owner, values);
    }
    for (const o of ['m1', 'm2']) assert.deepEqual(relayed.get(o), file.get(o), `${o} after ${JSON.stringify(values)}`);
  }
  assert.equal(seen.length, steps.length);
  assert.deepEqual(seen.at(-1), { m1: { password: 'p1', token: 't' } });
  // Snapshots are copies: changing one later changes nothing already reported or stored.
  seen[0]!.m1!.password = 'tampered';
  assert.equal(relayed.get('m1').password, 'p1');
});

test('deleting an owner that has nothing reports nothing', () => {
  let n = 0;
  new RelayedSecretStore({}, () => n++).delete('nobody');
  assert.equal(n, 0);
});

test('secrets data from another process is checked: owners hold string fields only', () => {
  assert.deepEqual(parseSecretsData({ a: { p: 'x' } }), { a: { p: 'x' } });
  assert.throws(() => parseSecretsData([]), /object of owners/);
  assert.throws(() => parseSecretsData({ a: 'x' }), /"a" should be an object/);
  assert.throws(() => parseSecretsData({ a: { p: 1 } }), /"a.p" should be a string/);
  assert.equal(isSecretsReply({ type: 'secrets', mode: 'relay', data: { a: { p: 'x' } } }), true);
  assert.equal(isSecretsReply({ type: 'secrets', mode: 'relay', data: { a: { p: 1 } } }), false);
  assert.equal(isSecretsReply({ type: 'secrets', mode: 'file', reason: 'no keyring' }), true);
  assert.equal(isSecretsReply({ type: 'secrets', mode: 'file' }), false);
  assert.equal(isSecretsReply({ type: 'connect' }), false);
});
