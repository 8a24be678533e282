// The batch seal on forwarded events (engine/fleet/seal.ts): every message of a batch of any size checks alone;
// changing any byte of an event, its place, the batch size, the path or the agent it claims fails; one signature check
// per batch (the rest from the cache).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { checkSeal, sealBatch, SealCache } from '../../engine/fleet/seal.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const ev = (i: number) => JSON.stringify({ id: `01J${String(i).padStart(23, '0')}`, title: `event ${i}`, fields: { seal: { i: 1 } }, tags: [] });

test('a sealed batch: every message of batches of 1 to 70 checks alone, with the seal as the last field of the object', () => {
  for (let n = 1; n <= 70; n++) {
    const texts = Array.from({ length: n }, (_, i) => ev(i));
    const sealed = sealBatch(texts, 'a1', privateKey);
    const cache = new SealCache();
    sealed.forEach((s, i) => {
      assert.equal(checkSeal(s, 'a1', publicKey, 'k', cache), 'good', `n=${n} i=${i}`);
      const parsed = JSON.parse(s) as Record<string, unknown>;
      assert.equal(parsed.title, `event ${i}`, 'readers that do not know the seal read the event as before');
      assert.equal(Object.keys(parsed).at(-1), 'seal');
    });
    // And each alone, without the others' cached root.
    assert.equal(checkSeal(sealed[n - 1]!, 'a1', publicKey, 'k', new SealCache()), 'good');
  }
});

test('a sealed message altered, moved, claimed for another agent or key, or unsealed is refused', () => {
  const sealed = sealBatch([ev(0), ev(1), ev(2), ev(3), ev(4)], 'a1', privateKey);
  const c = () => new SealCache();
  assert.equal(checkSeal(sealed[2]!.replace('event 2', 'event X'), 'a1', publicKey, 'k', c()), 'bad');
  assert.equal(checkSeal(sealed[2]!, 'a2', publicKey, 'k', c()), 'bad', 'another agent');
  assert.equal(checkSeal(sealed[2]!, 'a1', other.publicKey, 'k2', c()), 'bad', 'another key');
  assert.equal(checkSeal(sealed[2]!.replace('"i":2', '"i":3'), 'a1', publicKey, 'k', c()), 'bad', 'another place');
  assert.equal(checkSeal(sealed[2]!.replace('"n":5', '"n":6'), 'a1', publicKey, 'k', c()), 'bad', 'another size');
  assert.equal(checkSeal(ev(2), 'a1', publicKey, 'k', c()), 'unsealed');
  assert.equal(checkSeal(sealed[2]!.replace(/"p":\[[^\]]*\]/, '"p":[]'), 'a1', publicKey, 'k', c()), 'bad', 'no path');
  assert.equal(checkSeal(sealed[2]!.slice(0, -3) + '}}', 'a1', publicKey, 'k', c()), 'bad', 'cut short');
  // The time of sealing is signed: another one (to pass a recorded message off as recent), or none, is refused.
  const into = { t: null as number | null };
  assert.equal(checkSeal(sealed[2]!, 'a1', publicKey, 'k', c(), into), 'good');
  assert.ok(into.t !== null && Math.abs(into.t - Date.now()) < 60_000, 'the time of sealing is told');
  assert.equal(checkSeal(sealed[2]!.replace(/"t":\d+/, `"t":${Date.now() + 1_000}`), 'a1', publicKey, 'k', c()), 'bad', 'another time');
  assert.equal(checkSeal(sealed[2]!.replace(/,"t":\d+/, ''), 'a1', publicKey, 'k', c()), 'bad', 'time taken out');
  // A root verified once does not make an altered leaf of it good.
  const cache = c();
  assert.equal(checkSeal(sealed[0]!, 'a1', publicKey, 'k', cache), 'good');
  assert.equal(checkSeal(sealed[1]!.replace('event 1', 'event Y'), 'a1', publicKey, 'k', cache), 'bad');
});
