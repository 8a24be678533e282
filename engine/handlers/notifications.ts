// The protocol's `notifications.*` requests, answered by the notification center (engine/notifications/center.ts):
// the inbox, catching up after a (re)connect, read/snooze/ack, status for the header and tray, "why did / didn't
// this notify me", and which channels a rule reaches.
import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { parseDuration } from '../../core/duration.js';
import type { HandlerHost } from './host.js';

export function notificationHandlers(engine: HandlerHost) {
  const c = engine.notifications;
  return {
    'notifications.recent': (p) => c.list({ limit: Math.min(500, p.limit ?? 50) }).items,
    'notifications.list': (p) =>
      c.list({ ...(p.parentId ? { parentId: p.parentId } : {}), ...(p.before !== undefined ? { before: p.before } : {}), limit: p.limit ?? 50, unreadOnly: p.unreadOnly === true }),
    'notifications.get': (p) => c.get(p.id),
    'notifications.catchUp': (p) => c.catchUp(p.channel, p.cursor ?? null, p.limit ?? 20),
    'notifications.shown': (p) => {
      c.shown(p.channel, p.ids);
      return { ok: true as const };
    },
    'notifications.read': (p) => c.read(p.all ? 'all' : (p.ids ?? []), p.read !== false),
    'notifications.snooze': (p) => {
      let ms: number;
      try {
        ms = parseDuration(p.for);
      } catch (err) {
        throw new RequestError('invalid', (err as Error).message, [{ path: '$.for', message: (err as Error).message }]);
      }
      const n = c.snooze(p.id, ms);
      if (!n) throw new RequestError('not_found', `no notification "${p.id}"`);
      return n;
    },
    'notifications.ack': (p) => {
      const n = c.ack(p.id);
      if (!n) throw new RequestError('not_found', `no notification "${p.id}"`);
      return n;
    },
    'notifications.status': () => c.status(),
    'notifications.why': (p) => c.why(p.eventId),
    'notifications.channels': () => c.channelInfos(),
    'notifications.routeOf': (p) => {
      const infos = c.channelInfos();
      const info = (id: string) => infos.find((x) => x.id === id) ?? { id, type: 'unknown', name: `${id} (not configured)`, builtIn: false };
      const fb = engine.config.current.settings.notifications.routing.fallback;
      return { channels: c.route(p.ruleId ? [p.ruleId] : [], p.priority ?? 'normal').map(info), fallback: fb ? info(fb) : null };
    },
  } satisfies HandlersOf<'notifications'>;
}
