/**
 * What the engine asks of the shell besides the service protocol: its secrets at start, saving them after a
 * change, and idle-time samples. Kept apart from main.ts (no Electron import) so the whole exchange runs in tests
 * against the real engine entry, with safeStorage and powerMonitor the only things stood in for.
 */
import { parseSecretsData } from '../core/relayed-secrets.js';
import type { ShellToEngineMessage } from '../core/shell-messages.js';
import type { SecretsVault } from './secrets-vault.js';
import type { IdleSampler } from './idle-sampler.js';

export function engineMessageHandler(deps: { vault: SecretsVault; idle: IdleSampler; log: (line: string) => void }) {
  return (msg: unknown, reply: (answer: ShellToEngineMessage) => void): void => {
    const type = (msg as { type?: unknown } | null)?.type;
    if (type === 'secrets-request') {
      void deps.vault.load().then(reply, (err: Error) => reply({ type: 'secrets', mode: 'file', reason: `the secrets could not be read (${err.message})` }));
    } else if (type === 'secrets-changed') {
      let data;
      try {
        data = parseSecretsData((msg as { data?: unknown }).data);
      } catch (err) {
        deps.log(`secrets from the engine refused: ${(err as Error).message}`);
        return;
      }
      deps.vault.save(data).catch((err: Error) => deps.log(`secrets could not be saved encrypted: ${err.message}`));
    } else if (!deps.idle.onMessage(msg)) {
      deps.log(`unknown message from the engine: ${String(type).slice(0, 40)}`);
    }
  };
}
