/**
 * The desktop side of the fleet e2e files (fleet-monitors, fleet-test-now, fleet-rules, machines): a real Mosquitto,
 * the real headless agent (the desktop) receiving from it, and Debian's Chromium with one page whose problems are
 * recorded. The other machines (Panoptes engines forwarding to the broker) are each file's own; the files with one
 * machine, "pi", paired with the desktop, have its data folder made here too.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadOrCreateIdentity, rememberAgentKey } from '../../engine/fleet/identity.js';
import { writeAgentKey } from '../fleet/helpers.js';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { launchChromium, startAgent, watchPage, type Agent, type PageWatch, uiTest } from './harness.js';

export const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

export interface FleetPage {
  broker: Mosquitto;
  /** The desktop. */
  agent: Agent;
  /** The desktop's fleet key (made before it starts) when asked for with `pairing`: what a paired machine trusts. */
  publicKey: string;
  browser: Browser;
  page: Page;
  watch: PageWatch;
  /** pi's data folder when asked for with `pi` ('' otherwise); the file opens pi's Engine on it when its test wants pi up. */
  piDir: string;
  /** Closes the browser, then `others` (the file's machines), then the agent and the broker, and removes pi's folder. */
  close(others?: () => Promise<void>): Promise<void>;
}

export interface FleetPageOptions {
  /** Whether the broker keeps retained messages across its own restarts. */
  persistence: boolean;
  viewport: { width: number; height: number };
  /** Make the desktop's fleet key first, so that machines can be paired with it (`publicKey`). */
  pairing?: boolean;
  /** The desktop also forwards its own events, as this agent id. */
  forwardAs?: string;
  /** Anything more for the desktop's fresh data folder (after its config is written). */
  prepare?: (dataDir: string) => void;
  /**
   * A machine "pi" paired with the desktop as `panoptes deploy` pairs it (implies `pairing`): its own key in its data
   * folder and recorded at the desktop with `pairing`, and its config forwarding to the broker with the desktop's key
   * and the same pairing code, and `monitors` (given its folder, for files in it). Written, not started.
   */
  pi?: { pairing: string; monitors?: (piDir: string) => unknown[] };
}

export async function startFleetPage(o: FleetPageOptions): Promise<FleetPage> {
  const f: Partial<FleetPage> = { piDir: '' };
  f.close = async (others) => {
    await f.browser?.close();
    await others?.();
    await f.agent?.stop();
    await f.broker?.close();
    if (f.piDir) rmSync(f.piDir, { recursive: true, force: true });
  };
  try {
    const broker = (f.broker = await startMosquitto({ persistence: o.persistence }));
    f.publicKey = '';
    const pi = o.pi;
    const piDir = pi ? (f.piDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-pi-'))) : '';
    // pi's own key, recorded at the desktop as deploy records it (an agent with none is sent no change).
    const piKey = pi ? writeAgentKey(piDir) : '';
    f.agent = await startAgent((dir) => {
      const forward = o.forwardAs ? { forward: { url: broker.url, agentId: o.forwardAs } } : {};
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }], ...forward } }));
      if (o.pairing || pi) f.publicKey = loadOrCreateIdentity(dir).publicKey;
      if (pi) rememberAgentKey(dir, 'pi', { publicKey: piKey, pairing: pi.pairing });
      o.prepare?.(dir);
    });
    if (pi) {
      const controller = { publicKey: f.publicKey, pairing: pi.pairing };
      const monitors = pi.monitors ? { monitors: pi.monitors(piDir) } : {};
      writeFileSync(path.join(piDir, 'config.json'), JSON.stringify({ ...monitors, forwarding: { forward: { url: broker.url, agentId: 'pi' } }, fleet: { controller } }));
    }
    f.browser = await launchChromium();
    const context = await f.browser.newContext({ viewport: o.viewport, colorScheme: 'light' });
    f.page = await context.newPage();
    f.watch = watchPage(f.page);
  } catch (err) {
    await f.close();
    throw err;
  }
  return f as FleetPage;
}

/** The file's UI tests: skipped without Mosquitto, a screenshot of the page when one fails. */
export const fleetUiTest =
  (page: () => Page) =>
  (name: string, timeout: number, fn: () => Promise<void>): void =>
    uiTest(page, name, { timeout, skip }, fn);

/**
 * A fleet file's set-up: the fleet page started in `before` (unless the file is skipped) and handed to `started` (the
 * file keeps what its tests use); in `after`, closed, with `others` (the file's machines: pi's Engine when it is up)
 * closed after the browser. Returns the file's `uiTest`.
 */
export function fleetPageForFile(o: FleetPageOptions, started: (f: FleetPage) => void, others?: () => Promise<void>): (name: string, timeout: number, fn: () => Promise<void>) => void {
  let fleet: FleetPage | undefined;
  before(async () => {
    if (skip) return;
    fleet = await startFleetPage(o);
    started(fleet);
  });
  after(() => fleet?.close(others));
  return fleetUiTest(() => fleet!.page);
}
