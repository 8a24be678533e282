import type { HandlersOf } from '../../core/rpc/server.js';
import type { VersionRow } from '../../core/store/index.js';
import type { VersionInfo } from '../../core/protocol.js';
import { diffSummary, diffText } from '../../core/text-diff.js';
import type { HandlerHost } from './host.js';

/** The stored versions of watched pages, and the difference between any two of them (the UI's diff viewer). */
export function versionHandlers(engine: HandlerHost) {
  const store = engine.store.versions;
  return {
    'versions.list': (p) => ({ versions: store.list(p.monitorId, p.limit ?? 100, p.before).map(info) }),
    'versions.get': (p) => {
      const v = store.get(p.id);
      if (!v) return null;
      const shot = v.hasScreenshot ? store.screenshot(v.id) : null;
      return { ...info(v), text: v.text, screenshot: shot ? shot.toString('base64') : null };
    },
    'versions.diff': async (p) => {
      const to = store.get(p.to);
      if (!to) return null;
      const fromId = p.from ?? store.list(to.monitorId, 1, to.id)[0]?.id;
      const from = fromId !== undefined ? store.get(fromId) : null;
      if (from && from.monitorId !== to.monitorId) throw new Error('the two versions belong to different monitors');
      const mode = p.mode ?? 'lines';
      const d = await diffText(from?.text ?? '', to.text, mode);
      return { from: from ? info(from) : info({ ...to, id: 0, size: 0, hasScreenshot: false }), to: info(to), mode, parts: d.parts, added: d.added, removed: d.removed, summary: diffSummary(d.added, d.removed) };
    },
  } satisfies HandlersOf<'versions'>;
}

function info(v: VersionRow): VersionInfo {
  return { id: v.id, monitorId: v.monitorId, at: new Date(v.at).toISOString(), size: v.size, hasScreenshot: v.hasScreenshot };
}
