/**
 * The desktop side of the fleet e2e files (fleet-monitors, fleet-test-now, fleet-rules, machines): a real Mosquitto,
 * the real headless agent (the desktop) receiving from it, and Debian's Chromium with one page whose problems are
 * recorded. The other machines (Panoptes engines forwarding to the broker) are each file's own.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadOrCreateIdentity } from '../../engine/fleet/identity.js';
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
  /** Closes the browser, then `others` (the file's machines), then the agent and the broker. */
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
}

export async function startFleetPage(o: FleetPageOptions): Promise<FleetPage> {
  const f: Partial<FleetPage> = {};
  f.close = async (others) => {
    await f.browser?.close();
    await others?.();
    await f.agent?.stop();
    await f.broker?.close();
  };
  try {
    const broker = (f.broker = await startMosquitto({ persistence: o.persistence }));
    f.publicKey = '';
    f.agent = await startAgent((dir) => {
      const forward = o.forwardAs ? { forward: { url: broker.url, agentId: o.forwardAs } } : {};
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }], ...forward } }));
      if (o.pairing) f.publicKey = loadOrCreateIdentity(dir).publicKey;
      o.prepare?.(dir);
    });
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
