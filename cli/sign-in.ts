// Signing a monitor in (and out) from a terminal, for agents on machines without a browser: the device flow
// (RFC 8628) prints where to go and what to type on another device, waits, and the grant goes into the secret store
// of the Panoptes that owns the data folder. While an agent runs there, it runs the flow itself (through the local
// endpoint), stores the grant and restarts the monitor at once; otherwise this command writes the 0600 secret store
// and the next start uses it. The grant never shows on the terminal.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeLine, type CliIO } from './io.js';
import { connectToRunningEngine, type RunningEngine } from './running-engine.js';
import { ConfigStore } from '../core/config/config-store.js';
import { createLogger } from '../core/log.js';
import { FileSecretStore } from '../core/secrets.js';
import { beginSignIn, parseGrant, revokeGrant, serializeGrant, type SignInPrompt } from '../core/oauth/index.js';
import type { SignInStart, SignInState } from '../core/protocol.js';
import { loadMonitorTypes } from '../engine/monitor-registry.js';
import { RemoteError } from '../core/rpc/client.js';

/** The desktop app keeps its secrets encrypted (electron/secrets-vault.ts); a plain file written here would be ignored. */
const DESKTOP_VAULT = 'secrets.safestorage.json';

class CliFailure extends Error {}

export async function signInCommand(id: string, io: CliIO): Promise<number> {
  try {
    const engine = await connectToRunningEngine(io.dataDir);
    if (engine) {
      try {
        return await signInThrough(engine, id, io);
      } finally {
        engine.close();
      }
    }
    return await signInOffline(id, io);
  } catch (err) {
    if (err instanceof CliFailure || err instanceof RemoteError) {
      writeLine(io.stderr, `panoptes monitor signin: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export async function signOutCommand(id: string, io: CliIO): Promise<number> {
  try {
    const engine = await connectToRunningEngine(io.dataDir);
    if (engine) {
      try {
        const out = await engine.client.call('signIn.signOut', { id });
        writeLine(io.stdout, `${id}: ${out.signedOut.message} (${engine.via.replace(/^through /, 'by ')})`);
        return 0;
      } finally {
        engine.close();
      }
    }
    const { def, secrets } = await offlineMonitor(id, io);
    const grant = parseGrant(secrets.get(id)[def.oauth!.grantField]);
    secrets.set(id, { [def.oauth!.grantField]: null });
    const out = grant ? await revokeGrant(grant) : { message: 'was not signed in' };
    writeLine(io.stdout, `${id}: ${out.message} (removed from ${secrets.file})`);
    return 0;
  } catch (err) {
    if (err instanceof CliFailure || err instanceof RemoteError) {
      writeLine(io.stderr, `panoptes monitor signout: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

function showPrompt(io: CliIO, provider: string, p: Pick<SignInPrompt, 'userCode' | 'verificationUri' | 'verificationUriComplete' | 'expiresAt'>): void {
  writeLine(io.stdout, `To sign in with ${provider}, open this address on any device with a browser:`);
  writeLine(io.stdout, `  ${p.verificationUri}`);
  writeLine(io.stdout, `and enter the code:  ${p.userCode}`);
  if (p.verificationUriComplete) writeLine(io.stdout, `(or open ${p.verificationUriComplete}, which has the code filled in)`);
  writeLine(io.stdout, `Waiting until ${new Date(p.expiresAt).toLocaleTimeString()}… (Ctrl-C cancels)`);
}

/** Ctrl-C while waiting cancels the sign-in (the running agent drops it) instead of leaving it pending. */
function onInterrupt(cancel: () => void): () => void {
  const handler = () => cancel();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function signInThrough(engine: RunningEngine, id: string, io: CliIO): Promise<number> {
  const m = (await engine.client.call('monitors.list', {})).find((x) => x.id === id);
  if (!m) throw new CliFailure(`no monitor "${id}" ${engine.via}`);
  let start: SignInStart;
  try {
    start = await engine.client.call('signIn.start', { type: m.type, id, config: m.config, flow: 'device' });
  } catch (err) {
    const issue = err instanceof RemoteError ? err.error.issues?.[0] : undefined;
    throw new CliFailure(issue ? `${issue.path.replace(/^\$\./, '')}: ${issue.message}` : (err as Error).message);
  }
  showPrompt(io, start.provider, start as Required<SignInStart>);
  let cancelled = false;
  const off = onInterrupt(() => {
    cancelled = true;
    void engine.client.call('signIn.cancel', { signInId: start.signInId }).catch(() => {});
  });
  try {
    let state: SignInState;
    for (;;) {
      state = await engine.client.call('signIn.status', { signInId: start.signInId });
      if (state.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    if (state.status === 'failed') throw new CliFailure(cancelled ? 'sign-in cancelled' : `not signed in: ${state.message ?? 'sign in again'}`);
    writeLine(io.stdout, `signed in${state.account ? ` as ${state.account}` : ''}; ${id} uses it now (kept ${engine.via}, in its secret store)${state.message ? ` — ${state.message}` : ''}`);
    return 0;
  } finally {
    off();
  }
}

async function offlineMonitor(id: string, io: CliIO) {
  if (existsSync(path.join(io.dataDir, DESKTOP_VAULT))) {
    throw new CliFailure(`${io.dataDir} belongs to the desktop app, whose secrets are encrypted: start Panoptes and sign in from the monitor's form (or run this command while it runs)`);
  }
  if (!existsSync(path.join(io.dataDir, 'config.json'))) throw new CliFailure(`no monitor "${id}": ${io.dataDir} has no configuration`);
  const log = createLogger('signin', 'warn', (l) => io.stderr.write(l + '\n'));
  const config = await ConfigStore.open(io.dataDir, log);
  const m = config.current.monitors.find((x) => x.id === id);
  if (!m) throw new CliFailure(`no monitor "${id}" in ${config.file}`);
  const def = (await loadMonitorTypes(log)).get(m.type);
  if (!def?.oauth) throw new CliFailure(`${def?.title ?? m.type} monitors do not sign in with OAuth`);
  return { m, def, secrets: new FileSecretStore(io.dataDir) };
}

async function signInOffline(id: string, io: CliIO): Promise<number> {
  const { m, def, secrets } = await offlineMonitor(id, io);
  const oauth = def.oauth!;
  let flow;
  try {
    flow = await beginSignIn('device', oauth.client({ ...m.config }, secrets.get(id)));
  } catch (err) {
    const field = (err as { field?: string }).field;
    const name = field ? (oauth.fields as Record<string, string> | undefined)?.[field] ?? field : undefined;
    throw new CliFailure(name ? `${name}: ${(err as Error).message}` : (err as Error).message);
  }
  showPrompt(io, flow.provider, flow.prompt);
  const off = onInterrupt(() => flow.cancel());
  try {
    const grant = await flow.done.catch((err: Error) => {
      throw new CliFailure(`not signed in: ${err.message}`);
    });
    // A read-modify-write under the store's lock: an agent that started while the user was entering the code has
    // written the store meanwhile, and keeps what it wrote.
    secrets.set(id, { [oauth.grantField]: serializeGrant(grant) });
    const started = await connectToRunningEngine(io.dataDir).catch(() => null);
    if (started) {
      // That agent loaded the store before the grant was there: restarting the monitor makes it read it now.
      try {
        await started.client.call('monitors.update', { id });
        writeLine(io.stdout, `signed in${grant.account ? ` as ${grant.account}` : ''}; kept in ${secrets.file} (0600) — Panoptes started meanwhile (pid ${started.pid}) and ${id} uses it now`);
        return 0;
      } catch {
        /* it will read it at its next restart of the monitor */
      } finally {
        started.close();
      }
    }
    writeLine(io.stdout, `signed in${grant.account ? ` as ${grant.account}` : ''}; kept in ${secrets.file} (0600) — ${id} uses it when Panoptes starts`);
    return 0;
  } finally {
    off();
  }
}
