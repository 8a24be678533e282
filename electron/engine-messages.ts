/**
 * What the engine asks of the shell besides the service protocol: its secrets at start, saving them after a
 * change, idle-time samples, and rendering pages in an offscreen window (offscreen-renderer.ts). Kept apart from main.ts (no Electron import) so the whole exchange runs in tests
 * against the real engine entry, with safeStorage and powerMonitor the only things stood in for.
 */
import { parseSecretsData } from '../core/relayed-secrets.js';
import type { RenderAnswerMessage, RenderProgressMessage, RenderRequestMessage, ShellToEngineMessage } from '../core/shell-messages.js';
import type { SecretsVault } from './secrets-vault.js';
import type { IdleSampler } from './idle-sampler.js';
import { isRenderRequest } from './render-scripts.js';

/** The offscreen renderer as this handler needs it (no Electron here, so tests can stand one in). */
export interface RenderService {
  /** `report` carries facts to the engine while the page loads (render-progress). */
  render(req: RenderRequestMessage, report: (msg: RenderProgressMessage) => void): Promise<RenderAnswerMessage>;
  cancel(id: number): void;
}

export function engineMessageHandler(deps: { vault: SecretsVault; idle: IdleSampler; render?: RenderService; log: (line: string) => void }) {
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
    } else if (type === 'render-request' && deps.render) {
      if (!isRenderRequest(msg)) {
        deps.log('a render request from the engine refused: malformed');
        return;
      }
      const id = msg.id;
      deps.render.render(msg, reply).then(reply, (err: Error) =>
        reply({ type: 'render-answer', id, ok: false, phase: 'launch', stepIndex: 0, timedOut: false, error: err?.message ?? String(err), failedUrl: null }),
      );
    } else if (type === 'render-cancel' && deps.render) {
      const id = (msg as { id?: unknown }).id;
      if (typeof id === 'number') deps.render.cancel(id);
    } else if (!deps.idle.onMessage(msg)) {
      deps.log(`unknown message from the engine: ${String(type).slice(0, 40)}`);
    }
  };
}
