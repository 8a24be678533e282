import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  SecretsVault,
  encodeVaultFile,
  decodeVaultFile,
  encryptionUsable,
  mergeSecrets,
  ENCRYPTED_SECRETS_FILE,
  PLAIN_SECRETS_FILE,
} from '../../electron/secrets-vault.js';
import { FileSecretStore } from '../../core/secrets.js';
import { standInCipher } from './stand-in-cipher.js';

function dir(t: { after(fn: () => void): void }) {
  const d = mkdtempSync(path.join(tmpdir(), 'panoptes-vault-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
const logs: string[] = [];
const log = (l: string) => void logs.push(l);

/** The 0600 file exactly as the headless engine writes it. */
function writePlain(d: string, owner: string, values: Record<string, string>) {
  new FileSecretStore(d).set(owner, values);
}

test('vault file: the payload round-trips; damaged or foreign files are refused with a reason', () => {
  const blob = randomBytes(40);
  assert.deepEqual(decodeVaultFile(encodeVaultFile(blob)), blob);
  assert.throws(() => decodeVaultFile('{"format":'), /damaged \(not JSON\)/);
  assert.throws(() => decodeVaultFile('{"hello":1}'), /not a Panoptes secrets file/);
  assert.throws(() => decodeVaultFile(encodeVaultFile(blob).replace('"version": 1', '"version": 7')), /newer Panoptes \(format version 7\)/);
  assert.throws(() => decodeVaultFile(encodeVaultFile(blob).replace('electron-safeStorage', 'rot13')), /unknown encryption/);
  assert.throws(() => decodeVaultFile(JSON.stringify({ format: 'panoptes-secrets', version: 1, encryption: 'electron-safeStorage', data: 'not base64!' })), /no valid payload/);
});

test('encryption counts only where it protects: a Linux session without a keyring keeps the 0600 file', () => {
  assert.deepEqual(encryptionUsable('darwin', true, undefined), { usable: true });
  assert.deepEqual(encryptionUsable('win32', true, undefined), { usable: true });
  assert.deepEqual(encryptionUsable('linux', true, 'gnome_libsecret'), { usable: true });
  assert.deepEqual(encryptionUsable('linux', true, 'kwallet6'), { usable: true });
  const basic = encryptionUsable('linux', true, 'basic_text');
  assert.ok(!basic.usable && /no keyring/.test(basic.reason));
  const none = encryptionUsable('darwin', false, undefined);
  assert.ok(!none.usable && /not available/.test(none.reason));
  assert.equal(encryptionUsable('linux', true, 'unknown').usable, false);
});

test('merge: the later store wins field by field, other owners and fields stay', () => {
  assert.deepEqual(mergeSecrets({ a: { user: 'u', password: 'old' }, b: { token: 't' } }, { a: { password: 'new' }, c: { x: 'y' } }), {
    a: { user: 'u', password: 'new' },
    b: { token: 't' },
    c: { x: 'y' },
  });
});

test('first start with encryption: the 0600 file moves into the encrypted file and is removed', async (t) => {
  const d = dir(t);
  writePlain(d, 'mail-1', { password: 'hunter2-plain' });
  const cipher = standInCipher();
  const reply = await new SecretsVault(d, cipher, 'linux', log).load();
  assert.deepEqual(reply, { type: 'secrets', mode: 'relay', data: { 'mail-1': { password: 'hunter2-plain' } } });
  assert.equal(existsSync(path.join(d, PLAIN_SECRETS_FILE)), false, 'the clear-text file is gone');
  const enc = path.join(d, ENCRYPTED_SECRETS_FILE);
  assert.ok(!readFileSync(enc, 'utf8').includes('hunter2'), 'the password is not readable in the new file');
  assert.equal(statSync(enc).mode & 0o777, 0o600);
  // And it comes back on the next start, through decryption only.
  const again = await new SecretsVault(d, cipher, 'linux', log).load();
  assert.deepEqual(again, reply);
});

test('changes are saved encrypted and read back on the next start, in the order they were made', async (t) => {
  const d = dir(t);
  const cipher = standInCipher();
  const vault = new SecretsVault(d, cipher, 'darwin', log);
  assert.deepEqual(await vault.load(), { type: 'secrets', mode: 'relay', data: {} });
  const saves = [vault.save({ a: { p: '1' } }), vault.save({ a: { p: '2' } }), vault.save({ a: { p: '3' }, b: { t: 'x' } })];
  await Promise.all(saves);
  assert.deepEqual(await new SecretsVault(d, cipher, 'darwin', log).load(), { type: 'secrets', mode: 'relay', data: { a: { p: '3' }, b: { t: 'x' } } });
  await assert.rejects(vault.save({ a: { p: 5 } } as never), /"a.p" should be a string/);
});

test('no keyring: secrets stay in the 0600 file, which is not touched, and the reason is given', async (t) => {
  const d = dir(t);
  writePlain(d, 'mail-1', { password: 'pw' });
  const before = readFileSync(path.join(d, PLAIN_SECRETS_FILE));
  const reply = await new SecretsVault(d, standInCipher({ backend: 'basic_text' }), 'linux', log).load();
  assert.equal(reply.mode, 'file');
  assert.match(reply.mode === 'file' ? reply.reason : '', /no keyring/);
  assert.deepEqual(readFileSync(path.join(d, PLAIN_SECRETS_FILE)), before);
  assert.equal(existsSync(path.join(d, ENCRYPTED_SECRETS_FILE)), false);
});

test('an encrypted file that cannot be decrypted (another keychain) is left byte for byte; the engine keeps the 0600 file', async (t) => {
  const d = dir(t);
  const vault = new SecretsVault(d, standInCipher(), 'win32', log);
  await vault.load();
  await vault.save({ a: { p: 'secret' } });
  const enc = readFileSync(path.join(d, ENCRYPTED_SECRETS_FILE));
  logs.length = 0;
  const reply = await new SecretsVault(d, standInCipher(), 'win32', log).load();
  assert.equal(reply.mode, 'file');
  assert.match(reply.mode === 'file' ? reply.reason : '', /could not be decrypted.*left untouched/);
  assert.deepEqual(readFileSync(path.join(d, ENCRYPTED_SECRETS_FILE)), enc);
  assert.ok(logs.some((l) => /stay in secrets\.safestorage\.json until encryption works again/.test(l)), logs.join('\n'));
});

test('secrets written to the 0600 file during a keyring-less run are merged in once encryption is back', async (t) => {
  const d = dir(t);
  const cipher = standInCipher();
  const vault = new SecretsVault(d, cipher, 'linux', log);
  await vault.load();
  await vault.save({ a: { user: 'me', password: 'old' }, b: { token: 'keep' } });
  writePlain(d, 'a', { password: 'changed-meanwhile' });
  const reply = await new SecretsVault(d, cipher, 'linux', log).load();
  assert.deepEqual(reply, { type: 'secrets', mode: 'relay', data: { a: { user: 'me', password: 'changed-meanwhile' }, b: { token: 'keep' } } });
  assert.equal(existsSync(path.join(d, PLAIN_SECRETS_FILE)), false);
});

test('a broken 0600 file is kept for the user to fix; the encrypted secrets are used meanwhile', async (t) => {
  const d = dir(t);
  const cipher = standInCipher();
  const vault = new SecretsVault(d, cipher, 'darwin', log);
  await vault.load();
  await vault.save({ a: { p: 'enc' } });
  writeFileSync(path.join(d, PLAIN_SECRETS_FILE), '{ "a": { "p": ');
  logs.length = 0;
  assert.deepEqual(await new SecretsVault(d, cipher, 'darwin', log).load(), { type: 'secrets', mode: 'relay', data: { a: { p: 'enc' } } });
  assert.equal(readFileSync(path.join(d, PLAIN_SECRETS_FILE), 'utf8'), '{ "a": { "p": ');
  assert.ok(logs.some((l) => l.includes('was not moved')));
});

test('a rotated key: the file is written again with the current key', async (t) => {
  const d = dir(t);
  const cipher = standInCipher();
  const vault = new SecretsVault(d, cipher, 'darwin', log);
  await vault.load();
  await vault.save({ a: { p: 'x' } });
  const n = cipher.encryptions;
  cipher.rotateOnNextDecrypt = true;
  await new SecretsVault(d, cipher, 'darwin', log).load();
  assert.equal(cipher.encryptions, n + 1);
  await new SecretsVault(d, cipher, 'darwin', log).load();
  assert.equal(cipher.encryptions, n + 1, 'no rewrite without a reason');
});
