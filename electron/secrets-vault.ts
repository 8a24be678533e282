/**
 * The desktop's secrets at rest: one file in the data folder whose payload is encrypted with Electron safeStorage
 * (Keychain on macOS, DPAPI on Windows, libsecret/KWallet on Linux). The main process owns it, because the engine's
 * utilityProcess has no safeStorage: main decrypts when it starts the engine and hands the values over the port
 * (core/relayed-secrets.ts), and encrypts again when the engine reports a change.
 *
 * When encryption is not really available (no keyring on Linux means Electron would only obfuscate with a fixed
 * key), nothing is encrypted and the engine keeps the 0600 `secrets.json` it uses headless; the reason is logged.
 * A 0600 file found when encryption is available is moved into the encrypted file and then removed.
 *
 * safeStorage itself is behind `SecretCipher`, so everything here runs (and is tested) in plain Node.
 */
import { existsSync, readFileSync, writeFileSync, renameSync, unlinkSync, openSync, fsyncSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseSecretsData, type SecretsData, type SecretsReplyMessage } from '../core/relayed-secrets.js';

export const ENCRYPTED_SECRETS_FILE = 'secrets.safestorage.json';
/** The headless store's file (core/secrets.ts FileSecretStore). */
export const PLAIN_SECRETS_FILE = 'secrets.json';

const FORMAT = 'panoptes-secrets';
const VERSION = 1;
const ENCRYPTION = 'electron-safeStorage';

export interface SecretCipher {
  /** Whether the OS can encrypt for this user; on Linux also which backend Electron picked. */
  status(): Promise<{ available: boolean; backend?: string }>;
  encrypt(plain: string): Promise<Buffer>;
  /** `shouldReEncrypt`: the key was rotated; write the file again with the current one. */
  decrypt(blob: Buffer): Promise<{ text: string; shouldReEncrypt: boolean }>;
}

/** Whether safeStorage protects anything here; when not, why (shown in the log and kept as the engine's reason). */
export function encryptionUsable(platform: NodeJS.Platform, available: boolean, backend: string | undefined): { usable: true } | { usable: false; reason: string } {
  if (!available) return { usable: false, reason: 'the OS offers no encryption for this user (safeStorage is not available)' };
  if (platform === 'linux') {
    if (backend === 'basic_text')
      return {
        usable: false,
        reason: 'no keyring was found (GNOME Keyring / KWallet); safeStorage would only obfuscate with a key known to everyone',
      };
    if (!backend || backend === 'unknown') return { usable: false, reason: 'the keyring backend is unknown (asked before the app was ready)' };
  }
  return { usable: true };
}

/** The file's text for an encrypted payload. The envelope is plain JSON so a newer format can be recognised. */
export function encodeVaultFile(ciphertext: Buffer): string {
  return JSON.stringify({ format: FORMAT, version: VERSION, encryption: ENCRYPTION, data: ciphertext.toString('base64') }, null, 2) + '\n';
}

/** The encrypted payload of a vault file, or an error that says what is wrong with it. */
export function decodeVaultFile(text: string): Buffer {
  let doc: { format?: unknown; version?: unknown; encryption?: unknown; data?: unknown };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${ENCRYPTED_SECRETS_FILE} is damaged (not JSON)`);
  }
  if (!doc || typeof doc !== 'object' || doc.format !== FORMAT) throw new Error(`${ENCRYPTED_SECRETS_FILE} is not a Panoptes secrets file`);
  if (typeof doc.version !== 'number' || doc.version > VERSION) throw new Error(`${ENCRYPTED_SECRETS_FILE} was written by a newer Panoptes (format version ${String(doc.version)})`);
  if (doc.encryption !== ENCRYPTION) throw new Error(`${ENCRYPTED_SECRETS_FILE} uses an unknown encryption (${String(doc.encryption)})`);
  if (typeof doc.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(doc.data)) throw new Error(`${ENCRYPTED_SECRETS_FILE} has no valid payload`);
  return Buffer.from(doc.data, 'base64');
}

/** `over` wins field by field: it is what the engine wrote more recently (the 0600 file during a keyring-less run). */
export function mergeSecrets(base: SecretsData, over: SecretsData): SecretsData {
  const out: SecretsData = Object.fromEntries(Object.entries(base).map(([o, f]) => [o, { ...f }]));
  for (const [owner, fields] of Object.entries(over)) out[owner] = { ...(out[owner] ?? {}), ...fields };
  return out;
}

export class SecretsVault {
  readonly encryptedFile: string;
  readonly plainFile: string;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly cipher: SecretCipher,
    private readonly platform: NodeJS.Platform,
    private readonly log: (line: string) => void,
  ) {
    this.encryptedFile = path.join(dataDir, ENCRYPTED_SECRETS_FILE);
    this.plainFile = path.join(dataDir, PLAIN_SECRETS_FILE);
  }

  /**
   * What to tell the engine at start. Never loses a secret: a file that cannot be read is left exactly as it is and
   * the engine falls back to (or keeps) the 0600 file.
   */
  async load(): Promise<SecretsReplyMessage> {
    await this.saving; // an engine restarting right after a change must read what was just saved
    const { available, backend } = await this.cipher.status().catch(() => ({ available: false, backend: undefined }));
    const usable = encryptionUsable(this.platform, available, backend);
    if (!usable.usable) return this.fileMode(usable.reason);

    let data: SecretsData = {};
    let rewrite = false;
    if (existsSync(this.encryptedFile)) {
      try {
        const blob = decodeVaultFile(readFileSync(this.encryptedFile, 'utf8'));
        const { text, shouldReEncrypt } = await this.cipher.decrypt(blob);
        data = parseSecretsData(JSON.parse(text), ENCRYPTED_SECRETS_FILE);
        rewrite = shouldReEncrypt;
      } catch (err) {
        return this.fileMode(`${ENCRYPTED_SECRETS_FILE} could not be decrypted (${(err as Error).message}); it is left untouched`);
      }
    }

    let migrated = false;
    if (existsSync(this.plainFile)) {
      try {
        data = mergeSecrets(data, parseSecretsData(JSON.parse(readFileSync(this.plainFile, 'utf8')), PLAIN_SECRETS_FILE));
        migrated = true;
      } catch (err) {
        // Keep it where it is: the user can fix it; the encrypted secrets are used meanwhile.
        this.log(`secrets: ${PLAIN_SECRETS_FILE} was not moved into the encrypted file: ${(err as Error).message}`);
      }
    }

    if (migrated || rewrite) {
      try {
        await this.save(data);
      } catch (err) {
        return this.fileMode(`the encrypted secrets file could not be written (${(err as Error).message})`);
      }
      if (migrated) {
        removePlainFile(this.plainFile);
        this.log(`secrets: moved ${PLAIN_SECRETS_FILE} into ${ENCRYPTED_SECRETS_FILE} (encrypted with the OS keychain) and removed it`);
      }
    }
    return { type: 'secrets', mode: 'relay', data };
  }

  /** Encrypt and replace the file atomically; saves run one after another in the order they were asked for. */
  save(data: SecretsData): Promise<void> {
    const run = this.saving.then(async () => {
      const blob = await this.cipher.encrypt(JSON.stringify(parseSecretsData(data)));
      writeFileAtomic(this.encryptedFile, encodeVaultFile(blob));
    });
    // A failed save must not block the next one (which carries the whole set anyway).
    this.saving = run.catch(() => {});
    return run;
  }

  private fileMode(reason: string): SecretsReplyMessage {
    const left = existsSync(this.encryptedFile) ? `; secrets saved encrypted earlier stay in ${ENCRYPTED_SECRETS_FILE} until encryption works again` : '';
    this.log(`secrets: kept in ${PLAIN_SECRETS_FILE} (readable by you alone, mode 0600) because ${reason}${left}`);
    return { type: 'secrets', mode: 'file', reason };
  }
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Overwrite, then unlink: on a plain disk the old bytes do not linger in the freed blocks. Best effort only:
 * copy-on-write file systems and SSDs may keep the old blocks anyway.
 */
function removePlainFile(file: string): void {
  try {
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size));
  } catch {
    // Removing it is what matters.
  }
  unlinkSync(file);
  if (existsSync(`${file}.tmp`)) unlinkSync(`${file}.tmp`);
}
