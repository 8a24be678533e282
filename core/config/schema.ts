import { z } from 'zod';
import { scheduledMaintenanceSchema } from '../maintenance.js';
import { restoreUnknownKeys } from './unknown-keys.js';

/** Monitor instance ids are `<type>:<slug>`; they become event sources and appear in rules (`rss:*`). */
export const MONITOR_ID = /^[a-z][a-z0-9_-]*:[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The id a new monitor gets: `<type>:<slug of its name>`, with -2, -3… when taken. The protocol's monitors.add
 * and the CLI's OPML import both use this, so the same feed gets the same id either way.
 */
export function monitorIdFor(type: string, name: string, taken: ReadonlySet<string>): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'monitor';
  let id = `${type}:${slug}`;
  for (let i = 2; taken.has(id); i++) id = `${type}:${slug}-${i}`;
  return id;
}

// Loose: keys written by hand that Panoptes does not know are kept through its saves (and reported at load).
export const monitorEntrySchema = z.looseObject({
  id: z.string().regex(MONITOR_ID, 'monitor id must look like "rss:my-feed"'),
  type: z.string().min(1),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).default({}),
  retentionDays: z.number().int().positive().nullable().optional(),
});

/**
 * Notification channels (ntfy, Telegram, …): each one's settings as its type's schema describes them, checked in
 * depth by that schema when used. Secret fields never live here: they are split off into the secret store
 * (owner `channel:<id>`) when the channel is saved.
 */
export const CHANNEL_ID = /^[a-z][a-z0-9_-]*:[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const channelEntrySchema = z.looseObject({
  id: z.string().regex(CHANNEL_ID, 'channel id must look like "ntfy:phone"'),
  type: z.string().min(1),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).default({}),
});

/** Rules are checked in depth by the rules engine (bad ones are reported and skipped); here only their frame. */
export const ruleFrameSchema = z.looseObject({ id: z.string().min(1) });

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day like 22:00');
const channelList = z.array(z.string().min(1).max(100)).max(20);
const channelsByPriority = z.object({ low: channelList, normal: channelList, high: channelList, urgent: channelList });

function isTimeZone(tz: string): boolean {
  // The default (quiet hours in UTC) is valid everywhere; checking it with Intl would map ICU's time-zone and locale
  // data (~7 MB resident) into every engine at start, also one that never uses quiet hours (#22).
  if (tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * How the notification center decides (holds, quiet hours, storms, routing; see engine/notifications/), without
 * defaults: a partial update (`settings.update`) is checked with these.
 */
export const notificationSettingsFields = z.object({
  holdDuringFlags: z.array(z.string()),
  allowHighPriorityThrough: z.boolean(),
  quietHours: z.object({
    enabled: z.boolean(),
    timeZone: z.string().refine(isTimeZone, 'not a time zone this system knows (an IANA name like Europe/Berlin)'),
    windows: z
      .array(z.object({ days: z.array(z.number().int().min(0).max(6)).min(1).max(7), start: HHMM, end: HHMM }).refine((w) => w.start !== w.end, 'start and end are the same time'))
      .max(50),
  }),
  storm: z.object({
    perRule: z.number().int().min(1).max(10_000),
    overall: z.number().int().min(1).max(10_000),
    windowSeconds: z.number().int().min(1).max(86_400),
  }),
  heldExpiryHours: z.number().min(0.1).max(24 * 30),
  /** An event older than this when it asks to notify is part of a backfill (a first check, a catch-up) and is folded. */
  backfillAfterMinutes: z.number().min(1).max(30 * 24 * 60),
  routing: z.object({ byPriority: channelsByPriority, byRule: z.record(z.string(), channelList), fallback: z.string().min(1).nullable() }),
});

export const NOTIFICATION_DEFAULTS: z.infer<typeof notificationSettingsFields> = {
  holdDuringFlags: ['dnd'],
  allowHighPriorityThrough: true,
  quietHours: { enabled: false, timeZone: 'UTC', windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: '22:00', end: '07:00' }] },
  storm: { perRule: 5, overall: 6, windowSeconds: 60 },
  heldExpiryHours: 12,
  backfillAfterMinutes: 60,
  routing: { byPriority: { low: ['ui'], normal: ['desktop', 'ui'], high: ['desktop', 'ui'], urgent: ['desktop', 'ui'] }, byRule: {}, fallback: null },
};

/** Plain objects are merged key by key over the defaults (so a document written before a setting existed gets it); arrays and values replace. */
function withDefaults(value: unknown, defaults: unknown): unknown {
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (value === undefined) return defaults;
  if (!plain(value) || !plain(defaults)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [k, d] of Object.entries(defaults)) out[k] = withDefaults(value[k], d);
  return out;
}

/** The notification settings as kept in the config document: what is missing takes its default. */
export const notificationSettingsSchema = z.preprocess((v) => withDefaults(v, NOTIFICATION_DEFAULTS), notificationSettingsFields);

/** Maintenance windows for every check or for the checks of some tags (core/maintenance); ids unique. */
export const maintenanceSettingsFields = z.object({
  windows: z
    .array(scheduledMaintenanceSchema)
    .max(200)
    .refine((ws) => new Set(ws.map((w) => w.id)).size === ws.length, 'two maintenance windows have the same id'),
});

export const settingsFields = z.object({
  retentionDays: z.number().int('a whole number of days').min(1, 'at least 1 day'),
  commandsEnabled: z.boolean(),
  notifications: notificationSettingsFields,
  theme: z.enum(['system', 'light', 'dark']),
  traceLimitPerRule: z.number().int('a whole number').min(1, 'at least 1').max(10_000, 'at most 10,000'),
  maintenance: maintenanceSettingsFields,
});
const S = settingsFields.shape;

/** The settings as kept in the config document: what is missing takes its default. */
export const settingsSchema = z.object({
  retentionDays: S.retentionDays.default(90),
  commandsEnabled: S.commandsEnabled.default(false),
  notifications: notificationSettingsSchema,
  theme: S.theme.default('system'),
  traceLimitPerRule: S.traceLimitPerRule.default(50),
  maintenance: S.maintenance.default({ windows: [] }),
});
export type Settings = z.infer<typeof settingsSchema>;

/**
 * Forwarding between Panoptes instances over MQTT (off unless configured). Broker passwords never live here: one
 * written into a URL is moved to the secret store (owner "forwarding") when forwarding starts.
 */
const mqttTlsSchema = z.object({
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
});
export const brokerRefSchema = z.object({ url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'a broker address starts with mqtt://, mqtts://, ws:// or wss://'), tls: mqttTlsSchema.optional() });
export const forwardingSchema = z.object({
  /** This instance publishes its events to `panoptes/<agentId>/events`. `filter` is a rule's `when`/`if`. */
  forward: brokerRefSchema
    .extend({
      agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'agent ids use letters, digits and . _ - (at most 64)').optional(),
      filter: z.object({ when: z.unknown().optional(), if: z.unknown().optional() }).optional(),
      keepaliveSeconds: z.number().int().min(5).max(3600).optional(),
    })
    .optional(),
  /** Brokers whose `panoptes/+/events` this instance takes in. */
  subscribe: z.array(brokerRefSchema.extend({ clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional() })).default([]),
  /** A broker inside this instance (aedes), for two machines and no broker of their own. */
  embeddedBroker: z.object({ enabled: z.boolean().default(false), port: z.number().int('a port from 1 to 65535').min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535').default(1883), host: z.string().default('0.0.0.0') }).optional(),
  /** Broker for the rules' `mqtt` action; the forward broker when absent. */
  actionBroker: brokerRefSchema.optional(),
});
export type ForwardingDoc = z.infer<typeof forwardingSchema>;

/**
 * An agent managed from a desktop: the desktop's public key (Ed25519, base64url) and this deployment's pairing id,
 * written by `panoptes deploy`. Changes to the monitors and rules that come over the broker are taken only when
 * signed with that key for this pairing (see engine/fleet/).
 */
export const fleetSchema = z.object({
  controller: z.object({ publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key, base64url'), pairing: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/), name: z.string().max(200).optional() }).optional(),
});

export const configSchema = z.looseObject({
  version: z.literal(1).default(1),
  monitors: z.array(monitorEntrySchema).default([]),
  rules: z.array(ruleFrameSchema).default([]),
  channels: z.array(channelEntrySchema).default([]),
  settings: settingsSchema.default(settingsSchema.parse({})),
  forwarding: forwardingSchema.optional(),
  /** Content migrations this document has had (engine/config-migrations.ts), so each runs once. */
  migrations: z.array(z.string()).optional(),
  fleet: fleetSchema.optional(),
});

export type ConfigDocument = z.infer<typeof configSchema>;

/**
 * Keys of a loaded document that Panoptes does not know (top level, monitors, channels, and inside settings,
 * forwarding and fleet), as JSON paths: kept as written (`restoreUnknownKeys`), and reported so a typo ("retentonDays") does not go unnoticed.
 */
export function unknownConfigKeys(doc: ConfigDocument): string[] {
  const out: string[] = [];
  const check = (obj: object, known: readonly string[], at: string) => {
    for (const k of Object.keys(obj)) if (!known.includes(k)) out.push(`${at}.${k}`);
  };
  check(doc, Object.keys(configSchema.shape), '$');
  doc.monitors.forEach((m, i) => check(m, Object.keys(monitorEntrySchema.shape), `$.monitors[${i}]`));
  doc.channels.forEach((c, i) => check(c, Object.keys(channelEntrySchema.shape), `$.channels[${i}]`));
  // Deeper (settings, forwarding, fleet): what the schema's plain objects would drop, found on a throw-away parse.
  const again = configSchema.safeParse(doc);
  if (again.success) out.push(...restoreUnknownKeys(doc, again.data));
  return out;
}
export type MonitorEntry = z.infer<typeof monitorEntrySchema>;
export type ChannelEntry = z.infer<typeof channelEntrySchema>;

export function defaultConfig(): ConfigDocument {
  return configSchema.parse({});
}
