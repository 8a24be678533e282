/**
 * Electron's safeStorage cannot run here (no Electron runtime), so the vault's tests encrypt with AES-256-GCM from
 * node:crypto behind the same interface: real encryption with a per-"keychain" key, so a wrong key really fails.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretCipher } from '../../electron/secrets-vault.js';

export interface StandInCipher extends SecretCipher {
  encryptions: number;
  /** Make the next decrypt report a rotated key. */
  rotateOnNextDecrypt: boolean;
}

export function standInCipher(opts: { key?: Buffer; available?: boolean; backend?: string } = {}): StandInCipher {
  const key = opts.key ?? randomBytes(32);
  const c: StandInCipher = {
    encryptions: 0,
    rotateOnNextDecrypt: false,
    status: async () => ({ available: opts.available ?? true, backend: opts.backend ?? 'gnome_libsecret' }),
    encrypt: async (text) => {
      c.encryptions++;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt: async (blob) => {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
      decipher.setAuthTag(blob.subarray(12, 28));
      const text = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8');
      const shouldReEncrypt = c.rotateOnNextDecrypt;
      c.rotateOnNextDecrypt = false;
      return { text, shouldReEncrypt };
    },
  };
  return c;
}
