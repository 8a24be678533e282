/**
 * The built desktop app launched for real through Playwright's _electron, for the files in test/electron: on a fresh
 * data folder, on the machine's display or an Xvfb started for it, with the app's test hooks on. Where the Electron
 * runtime or a display cannot be had, the test is reported as skipped with the reason instead (the runtime cannot be
 * downloaded here), so each file only says what it checks once the app runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { ElectronApplication } from 'playwright-core';
import { findElectronBinary, missingRuntimeReason } from '../../electron/runtime.js';
import { startXvfb, have, type XServer } from '../desktop/xvfb.js';

const root = process.env.PANOPTES_ROOT ?? process.cwd();

/** The app's test hooks (electron/main.ts, `exposeTestHooks`), as these files see them. */
export interface Hooks {
  trayCreated(): boolean;
  engineStatus(): string;
  trayModel(): { menu: { label?: string }[] } | null;
  notificationsShown(): number;
  /** A protocol request to the engine, as the window makes it. */
  call(method: string, params: unknown): Promise<unknown>;
}

export interface DesktopApp {
  app: ElectronApplication;
  /** The app's data folder (`--data`), removed when the test ends. */
  data: string;
  /** Calls one of the app's test hooks (`globalThis.__panoptes` in the main process) with plain arguments. */
  hook<K extends keyof Hooks>(name: K, ...args: Parameters<Hooks[K]>): Promise<Awaited<ReturnType<Hooks[K]>>>;
}

/**
 * Launch the app, or skip the test and return null. `env` comes on top of the usual environment and may depend on the
 * data folder (a path inside it). Everything started is stopped when the test ends: the app, the X server, the folder.
 */
export async function launchDesktopApp(t: TestContext, dataPrefix: string, env: (data: string) => Record<string, string> = () => ({})): Promise<DesktopApp | null> {
  const electronBin = findElectronBinary(root);
  if (!electronBin) {
    t.skip(`skipped: ${missingRuntimeReason(root)}`);
    return null;
  }
  let x: XServer | null = null;
  if (process.platform === 'linux' && !process.env.DISPLAY) {
    if (!have('Xvfb')) {
      t.skip('skipped: no display and no Xvfb to start one');
      return null;
    }
    x = await startXvfb({ windowManager: have('openbox') });
  }
  const data = mkdtempSync(path.join(tmpdir(), dataPrefix));
  const { _electron } = await import('playwright-core');
  // Registered before the launch: a launch that fails still stops the X server and removes the folder.
  let app: ElectronApplication | undefined;
  t.after(async () => {
    await app?.close().catch(() => {});
    await x?.stop();
    rmSync(data, { recursive: true, force: true });
  });
  app = await _electron.launch({
    executablePath: electronBin,
    args: [path.join(root, 'dist', 'electron', 'main.js'), '--data', data, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    env: { ...process.env, ...(x?.env ?? {}), PANOPTES_TEST_HOOKS: '1', XDG_CONFIG_HOME: path.join(data, 'xdg'), ...env(data) } as Record<string, string>,
  });
  const launched = app;
  // Playwright serializes this function into the main process; it reaches the app through its test hooks.
  const hook: DesktopApp['hook'] = (name, ...args) =>
    launched.evaluate((_electron, [n, a]) => {
      const h = (globalThis as unknown as { __panoptes: Record<string, (...x: unknown[]) => unknown> }).__panoptes;
      return h[n as string]!(...(a as unknown[]));
    }, [name, args] as const) as never;
  return { app: launched, data, hook };
}

/** Polls `fn` until `ok` holds of what it returns (a wait, not a speed check); fails naming `what` and the last value. */
export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
