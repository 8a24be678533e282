/**
 * Context flags that follow you: built-in rules in the ordinary rule format (docs/rules.md), shipped as defaults
 * so they are visible and editable in the UI like any other rule. The engine seeds them into a new config
 * document (only when it is first created); nothing here depends on Electron.
 */

/** How long a machine may stay offline before the default rule warns (edit the rule's `within` to change it). */
export const AGENT_OFFLINE_MINUTES = 10;

/** What a new user expects after adding a feed: a notification and a line in the feed for each new item. */
export const DEFAULT_NOTIFY_RULES = [
  {
    id: 'default-notify-feed-items',
    name: 'Notify me of new feed items',
    enabled: true,
    when: { type: 'feed.item' },
    then: [{ notify: { title: '{{ title }}', body: '{{ fields.feedTitle }}', url: '{{ url }}', priority: 'normal' } }],
  },
  {
    // A watched page's filters and number conditions already decide what counts as a change worth hearing about.
    id: 'default-notify-web-changes',
    name: 'Notify me when a watched page changes',
    enabled: true,
    when: { type: 'web.changed' },
    then: [{ notify: { title: '{{ title }}', body: '{{ body | truncate: 300 }}', url: '{{ url }}', priority: 'normal' } }],
  },
  {
    id: 'default-notify-mail',
    name: 'Notify me of new mail',
    enabled: true,
    when: { type: 'mail.received' },
    then: [{ notify: { title: '{{ fields.from.name | default: fields.from.address }}', body: '{{ title }}', priority: 'normal' } }],
  },
  {
    // Checks announce state changes only (after their retries), so every one of these is worth a notification.
    id: 'default-notify-check-down',
    name: 'Notify me when a check goes down',
    enabled: true,
    when: { type: 'check.down' },
    // Checks hold their downs in maintenance already; said here too, so the rule reads as it behaves.
    context: { maintenance: false },
    then: [{ notify: { title: '{{ title }}', body: '{{ body }}', priority: 'high', sound: true } }],
  },
  {
    id: 'default-notify-check-up',
    name: 'Notify me when a check is back up',
    enabled: true,
    when: { type: 'check.up' },
    then: [{ notify: { title: '{{ title }}', body: '{{ body }}', priority: 'normal' } }],
  },
  {
    id: 'default-notify-heartbeat-missed',
    name: 'Notify me when a heartbeat is missed',
    enabled: true,
    when: { type: 'heartbeat.missed' },
    // A job stopped for maintenance (a window for its tag "heartbeat", for all, or the maintenance flag) is expected to be quiet.
    context: { maintenance: false },
    then: [{ notify: { title: '{{ title }}', priority: 'high', sound: true } }],
  },
  {
    id: 'default-notify-heartbeat-recovered',
    name: 'Notify me when a missed heartbeat is back',
    enabled: true,
    when: { type: 'heartbeat.recovered' },
    then: [{ notify: { title: '{{ title }}', priority: 'normal' } }],
  },
  {
    // A broker restart drops every agent for a moment (the receiver already waits that out); a machine still gone
    // after this long is worth a warning. Per machine (`by: agent`); its coming back answers it.
    id: 'default-notify-agent-offline',
    name: `Warn me when a machine stays offline for ${AGENT_OFFLINE_MINUTES} minutes`,
    enabled: true,
    when: { type: 'agent.online' },
    pattern: { after: { when: { type: 'agent.offline' } }, absent: true, within: `${AGENT_OFFLINE_MINUTES}m`, by: 'agent' },
    then: [{ notify: { title: `Machine {{ fields.agentId }} has been offline for ${AGENT_OFFLINE_MINUTES} minutes`, body: '{{ body }}', priority: 'high' } }],
  },
  {
    // A month or two weeks ahead is a reminder; a week or a day ahead, or a certificate that is no longer valid, is urgent.
    id: 'default-notify-certificate-expiring-soon',
    name: 'Notify me when a certificate expires within a week',
    enabled: true,
    when: { type: 'cert.*' },
    if: { any: [{ field: 'type', equals: 'cert.invalid' }, { field: 'fields.daysLeft', lte: 7 }] },
    then: [{ notify: { title: '{{ title }}', body: '{{ body }}', priority: 'high' } }],
  },
  {
    id: 'default-notify-certificate-expiring',
    name: 'Remind me of certificates expiring within a month',
    enabled: true,
    when: { type: 'cert.expiring' },
    if: { field: 'fields.daysLeft', gt: 7 },
    then: [{ notify: { title: '{{ title }}', body: '{{ body }}', priority: 'low' } }],
  },
] as const;

export const DEFAULT_CONTEXT_RULES = [
  {
    id: 'default-away-on-idle',
    name: 'Away when idle',
    enabled: true,
    when: { type: 'idle.start' },
    then: [{ flag: { set: 'away' } }],
  },
  {
    id: 'default-away-on-lock',
    name: 'Away when the session is locked',
    enabled: true,
    when: { type: 'session.lock' },
    then: [{ flag: { set: 'away' } }],
  },
  {
    id: 'default-away-on-suspend',
    name: 'Away while the computer sleeps',
    enabled: true,
    when: { type: 'system.suspend' },
    then: [{ flag: { set: 'away' } }],
  },
  {
    id: 'default-back-on-idle-end',
    name: 'Back when input resumes',
    enabled: true,
    when: { type: 'idle.end' },
    then: [{ flag: { clear: 'away' } }],
  },
  {
    id: 'default-back-on-unlock',
    name: 'Back when the session is unlocked',
    enabled: true,
    when: { type: 'session.unlock' },
    then: [{ flag: { clear: 'away' } }],
  },
  {
    // Off by default: the user names the apps. Each focus event on one of them keeps `focus` set for 5 minutes,
    // so it lapses on its own after they switch away.
    id: 'default-focus-apps',
    name: 'Focus while chosen apps are in front',
    enabled: false,
    when: { type: 'window.focus' },
    if: { field: 'fields.app', in: ['code', 'Code', 'jetbrains-idea', 'emacs', 'Emacs'] },
    then: [{ flag: { set: 'focus', for: '5m' } }],
  },
  {
    id: 'default-focus-off-other-apps',
    name: 'Focus ends when another app is in front',
    enabled: false,
    when: { type: 'window.focus' },
    if: { not: { field: 'fields.app', in: ['code', 'Code', 'jetbrains-idea', 'emacs', 'Emacs'] } },
    then: [{ flag: { clear: 'focus' } }],
  },
  {
    // A schedule in the rule format: during the night any activity (focus change, idle end…) keeps dnd set,
    // so it is on while you are at the computer at night and lapses by itself in the morning.
    id: 'default-dnd-at-night',
    name: 'Do not disturb at night',
    enabled: false,
    when: { type: '*' },
    // flag.* events are excluded, or setting dnd would trigger this rule again.
    if: { not: { field: 'type', startsWith: 'flag.' } },
    context: { time: { between: ['22:00', '07:00'] } },
    then: [{ flag: { set: 'dnd', for: '30m' } }],
  },
] as const;

export function defaultRules(): unknown[] {
  return structuredClone([...DEFAULT_NOTIFY_RULES, ...DEFAULT_CONTEXT_RULES]) as unknown[];
}
