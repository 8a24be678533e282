const CATEGORY_BY_NAMESPACE: Record<string, string> = {
  feed: 'feeds',
  mail: 'mail',
  chat: 'chat',
  irc: 'chat',
  xmpp: 'chat',
  social: 'posts',
  weather: 'weather',
  web: 'web pages',
  page: 'web pages',
  log: 'logs',
  idle: 'presence',
  session: 'presence',
  window: 'windows',
  flag: 'flags',
  http: 'alerts',
  webhook: 'webhooks',
  heartbeat: 'alerts',
  panoptes: 'alerts',
};

/**
 * The plural noun a summary counts an event type under ("14 held: 9 feeds, 3 mail, 2 alerts"): `feed.item` →
 * feeds, `mail.received` → mail; a firing without an event (an absence, a digest) is an alert.
 */
export function categoryOfType(type: string | null | undefined): string {
  if (!type) return 'alerts';
  const ns = type.split('.')[0] ?? '';
  return CATEGORY_BY_NAMESPACE[ns] ?? (ns || 'alerts');
}
