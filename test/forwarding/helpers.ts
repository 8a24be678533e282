// Two Panoptes instances and a real broker: what the forwarding tests share. The figures a user cares about
// (sent, received, lost, duplicated, reordered) are computed from the two stores, not from the code under test.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PanoptesEvent } from '../../core/event.js';
import type { Store } from '../../core/store/index.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import type { Mosquitto } from '../helpers/mosquitto.js';

export function writeConfig(dir: string, doc: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(doc, null, 2));
}

export const AGENT = 'laptop';

/** An agent forwarding to `broker` and a desktop subscribed to it, both engines in this process, connected. */
export async function pair(t: { after(fn: () => unknown): void }, broker: Mosquitto, agentForward: Record<string, unknown> = {}) {
  const root = tempDir(t, 'panoptes-fwd-');
  const agentDir = path.join(root, 'agent');
  const desktopDir = path.join(root, 'desktop');
  writeConfig(desktopDir, { forwarding: { subscribe: [{ url: broker.url }] } });
  writeConfig(agentDir, { forwarding: { forward: { url: broker.url, agentId: AGENT, ...agentForward } } });
  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  const agent = await Engine.open({ dataDir: agentDir, log: silentLogger, startMonitors: false, agentId: AGENT });
  t.after(async () => {
    await agent.close();
    await desktop.close();
  });
  // The desktop knows the agent is there once its retained "online" status arrived: both are connected.
  await waitFor(() => desktop.store.events.count({ type: 'agent.online' }) > 0, 'agent.online at the desktop', 15_000);
  return { agent, desktop, agentDir, desktopDir };
}

/** Every event in a store's log, oldest first (log order, which is arrival order). */
export function logOf(store: Store, keep: (e: PanoptesEvent) => boolean = () => true): PanoptesEvent[] {
  const out: PanoptesEvent[] = [];
  let seq = 0;
  for (;;) {
    const batch = store.events.readAfter(seq, 1_000);
    if (!batch.length) return out;
    for (const e of batch) if (keep(e)) out.push(e);
    seq = batch[batch.length - 1]!.seq;
  }
}

export interface Figures {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/** Compare what one side sent (in its order) with what the other side stored (in its order). */
export function figures(sentIds: string[], receivedIds: string[]): Figures {
  const pos = new Map(sentIds.map((id, i) => [id, i]));
  const seen = new Set<string>();
  let duplicated = 0;
  let reordered = 0;
  let last = -1;
  for (const id of receivedIds) {
    if (seen.has(id)) {
      duplicated++;
      continue;
    }
    seen.add(id);
    const p = pos.get(id);
    if (p === undefined) continue;
    if (p < last) reordered++;
    last = Math.max(last, p);
  }
  const lost = sentIds.filter((id) => !seen.has(id)).length;
  return { sent: sentIds.length, received: receivedIds.length, lost, duplicated, reordered };
}

export function printFigures(what: string, f: Figures, extra = ''): void {
  console.log(`[forwarding] ${what}: sent ${f.sent}, received ${f.received}, lost ${f.lost}, duplicated ${f.duplicated}, reordered ${f.reordered}${extra ? `; ${extra}` : ''}`);
}
