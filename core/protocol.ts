/**
 * The service protocol: one typed definition that the UI and the CLI use for everything, carried over a
 * WebSocket (headless agent, browser) or an Electron MessagePort (desktop window). Each request's parameters are
 * a zod schema (checked once where messages are served, so a handler gets exactly the declared shape) and its
 * result a type; adding a method is one entry in `requests` and one handler in engine/handlers/. The renderer
 * imports this file's types and nothing else from core.
 */
import { z } from 'zod';
import type { PanoptesEvent } from './event.js';
import type { ScheduledMaintenance } from './maintenance.js';
import {
  brokerRefSchema,
  forwardingSchema,
  monitorEntrySchema,
  notificationSettingsFields,
  settingsFields,
  type MonitorEntry,
  type Settings,
} from './config/schema.js';

export type { Settings, ScheduledMaintenance };
export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'failing' | 'stopped' | 'paused';

export interface MonitorHealth {
  monitorId: string;
  status: HealthStatus;
  message: string | null;
  lastSuccess: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nextRetry: string | null;
  consecutiveFailures: number;
}


/** A monitor as the config document keeps it (non-secret settings only), and which of its secrets have a value. */
export type MonitorConfigEntry = MonitorEntry & {
  /** Names of secret fields that have a value stored (values are never sent back). */
  secretsSet?: string[];
};

export interface MonitorInfo extends MonitorConfigEntry {
  health: MonitorHealth;
  /**
   * For types that sign in with OAuth: who the stored sign-in is for (never a token), and why it no longer works
   * (`problem`: the provider refused it — "sign in again"). Null when not signed in; absent for other types.
   */
  signedIn?: SignedInInfo | null;
}

export interface SignedInInfo {
  account: string | null;
  provider: string;
  problem: string | null;
  /** What signing out does at the provider (revokes there, or — Microsoft — only forgets it here), for the form. */
  signOutNote: string;
}

/** How a sign-out went: forgotten here always; `revoked` when the provider confirmed the revocation (RFC 7009). */
export interface SignOutOutcome {
  revoked: boolean;
  message: string;
}

/** A sign-in the engine runs for a monitor's form (`signIn.start`): what the user opens or types, and how it ended. */
export interface SignInStart {
  signInId: string;
  /** Display name of the provider ("Google", "Microsoft", "auth.example.org"). */
  provider: string;
  flow: 'browser' | 'device';
  /** Browser flow: the page to open (the provider's; it comes back to a listener of the engine's on 127.0.0.1). */
  authorizationUrl?: string;
  /** Device flow: the code to type, and where. */
  userCode?: string;
  verificationUri?: string;
  verificationUriComplete?: string;
  expiresAt: number;
}

export interface SignInState {
  signInId: string;
  /** The monitor the grant went to (a sign-in from an existing monitor's form), or null until `monitors.add` takes it. */
  monitorId: string | null;
  status: 'pending' | 'done' | 'failed';
  account: string | null;
  provider: string;
  message: string | null;
  /** The form field the failure is about (the client id, the tenant…), when it is about one. */
  field: string | null;
  /** Once done: what signing out will do at the provider (see SignedInInfo). */
  signOutNote?: string;
}

export interface MonitorTypeInfo {
  type: string;
  title: string;
  description: string;
  /** A short label for its badge ("MAIL"). */
  badge: string;
  /** The group it is listed under when adding a monitor (null: none given). */
  category: string | null;
  /** JSON Schema of the config (labels/help/secret in each property's meta). */
  configSchema: Record<string, unknown>;
  /** `ambient`: a background reading (chart samples), not shown in the live feed. */
  events: { type: string; description: string; fields: Record<string, string>; ambient?: boolean }[];
  /**
   * The HTTP addresses it receives on: `describe` is the pattern ("POST /hooks/<hook id>"), `url` where this
   * engine serves it (null when it cannot here, with `problem` saying why).
   */
  routes: { describe: string; url: string | null; problem: string | null }[];
  /**
   * Types that sign in with OAuth: the secret field the engine keeps the sign-in in (the form shows no input for
   * it), when the form offers "Sign in" (`shownWhen`: a field's value), and the provider field's values in words
   * ("Sign in with Google"). Null for the others.
   */
  oauth?: {
    grantField: string;
    shownWhen: { field: string; equals: string } | null;
    providerField: string | null;
    providerNames: Record<string, string>;
    /** The form fields the sign-in reads (provider, client id…): the form puts "Sign in" after them. */
    fields: string[];
  } | null;
  /** A field the form looks up with `monitors.lookup` (weather: the place), the button's words and what a choice fills in. */
  lookup?: { field: string; label: string; choicesLabel: string; fills: string[] } | null;
  /** Types whose form offers "Pick on the page" (web): the field the picked selector fills. Null for the others. */
  picker?: { field: string } | null;
}

/** One element the page picker offers: its box on the screenshot (CSS pixels), a selector that matches it alone, its text. */
export interface PickElement {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The nearest listed element that contains it (index in `elements`), -1 for none: "widen" goes there. */
  parent: number;
  tag: string;
  selector: string;
  /** The text it shows (lines, capped at 300 characters). */
  text: string;
}

/** A rendered page for picking an element on (`monitors.pick`): a picture and boxes, never the page's HTML. */
export interface PagePick {
  /** The address after redirects. */
  url: string;
  /** JPEG, base64: the top `height` CSS pixels of the page, `width` wide. */
  screenshot: string;
  width: number;
  height: number;
  /** The whole page's height; more than `height` when only its top is shown. */
  pageHeight: number;
  /** Visible elements with text, in page order. */
  elements: PickElement[];
  /** False when there were more elements than the picker lists (the first ones are listed). */
  complete: boolean;
  /** Requests of the page that the address rules refused (up to 20). */
  blocked: string[];
}

/** One stored version of what a monitor watches (a web page's text). */
export interface VersionInfo {
  id: number;
  monitorId: string;
  /** When it was first seen (ISO time). */
  at: string;
  /** Length of the text in characters. */
  size: number;
  hasScreenshot: boolean;
}

/** Two versions compared: `parts` in order, added and removed ones marked; counts are lines. */
export interface VersionDiff {
  from: VersionInfo;
  to: VersionInfo;
  mode: 'lines' | 'words';
  parts: { value: string; added?: boolean; removed?: boolean }[];
  added: number;
  removed: number;
  summary: string;
}

export interface FlagState {
  name: string;
  value: boolean;
  setAt: string;
  expiresAt: string | null;
  setBy: string | null;
}

export type NotificationPriority = 'low' | 'normal' | 'high' | 'urgent';

/**
 * A notification the center made: one event (`single`, possibly for several rules), the summary of what a hold
 * kept back (`summary`), or a storm folded into one (`fold`). Summaries and folds hold their items (`parentId`).
 * `seq` orders them; pages and the desktop shell keep the last one they showed as their catch-up cursor.
 */
export interface NotificationPayload {
  id: string;
  seq: number;
  kind: 'single' | 'summary' | 'fold';
  /**
   * shown: it went out; held: kept back by a hold (dnd…, quiet hours); folding: a fold still collecting;
   * summarised / folded: inside a summary or fold (see `parentId`); expired: held too long, only counted in its summary.
   */
  state: 'shown' | 'held' | 'folding' | 'summarised' | 'folded' | 'expired';
  eventId: string | null;
  /** The first rule (of `ruleIds`), for callers that know one. */
  ruleId: string;
  ruleIds: string[];
  ruleNames: string[];
  title: string;
  body: string;
  url: string | null;
  /**
   * Where in Panoptes a click on it leads, decided by the engine: an address inside the UI (`#/history?versions=…`)
   * that the event's type declares as the best view of it (a web change: the diff of its two versions), else null
   * (open the event). Pages and the desktop shell follow it.
   */
  open?: string | null;
  priority: NotificationPriority;
  sound: boolean;
  /** The summary's noun: feeds, mail, alerts… */
  category: string;
  /** How many events it stands for (1 for a single). */
  count: number;
  parentId: string | null;
  /** Where it was routed: 'desktop', 'ui' and external channel ids. */
  channels: string[];
  at: string;
  readAt: string | null;
  snoozedUntil: string | null;
  ackedAt: string | null;
  /** Pushed again because it changed (a later rule for the same event speaks now); pages replace it in place. */
  update?: boolean;
}

export type NotificationSettings = Settings['notifications'];
/** A weekly quiet-hours window: on each listed weekday (0 = Sunday) from `start` to `end` local time (may cross midnight). */
export type QuietHoursWindow = NotificationSettings['quietHours']['windows'][number];

/** What the header, the tray and the DND toggle show. */
export interface NotificationStatus {
  unread: number;
  held: number;
  /** Why notifications are held now (flag names, "quiet hours 22:00–07:00 (Europe/Berlin)"); empty when nothing holds. */
  holding: string[];
  quietHours: { active: boolean; until: string | null; next: string | null };
  dnd: { on: boolean; until: string | null };
}

/** One recorded step of what happened to a rule's notification for an event, in plain words. */
export interface NotificationFate {
  at: string;
  ruleId: string | null;
  ruleName: string | null;
  noticeId: string | null;
  fate: 'shown' | 'merged' | 'held' | 'summarised' | 'folded' | 'expired' | 'throttled' | 'suppressed' | 'delivered' | 'retrying' | 'failed' | 'duplicate' | 'snoozed' | 'read';
  text: string;
}

export interface NotificationChannelInfo {
  id: string;
  type: string;
  name: string;
  /** Built in (desktop, ui) or an external channel. */
  builtIn: boolean;
}

const oneOrMore = z.union([z.string(), z.array(z.string())]);
export const eventQuerySchema = z.object({
  search: z.string().optional(),
  source: oneOrMore.optional(),
  type: oneOrMore.optional(),
  tag: z.string().optional(),
  /** Received at or after (ISO): lists are in the order events were received, so ranges are of received time. */
  since: z.string().optional(),
  /** Received before (ISO). */
  until: z.string().optional(),
  /** Keyset pagination: events strictly older than this id (newest first) … */
  before: z.string().optional(),
  /** … or strictly newer (oldest first). */
  after: z.string().optional(),
  limit: z.number().optional(),
  order: z.enum(['desc', 'asc']).optional(),
});
export type EventQuery = z.infer<typeof eventQuerySchema>;

export interface EventPage {
  events: PanoptesEvent[];
  /** Pass as `before` (or `after` with order asc) to get the next page; null at the end. */
  next: string | null;
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface RuleTestResult {
  firings: { rule: string; at: string; events: string[]; actions: unknown[]; trace?: unknown }[];
  /** How many events were received in the range (all of them are replayed, in the order they were received). */
  eventsScanned: number;
  /** The range of received time that was tested (ISO). */
  since?: string;
  until?: string;
  /** Events that fired nothing, each with the rule's reason (hours, condition, throttle…), the first ones only. */
  misses?: { eventId: string; title: string; receivedAt: string; reason: string }[];
  errors: ValidationIssue[];
  /**
   * The test ended before the end of the range: `cancelled` (rules.cancelTest), `time` or `events` (its budget, see
   * `limits`). What it found until then is above; `message` says how far it got, in words.
   */
  stopped?: { reason: 'cancelled' | 'time' | 'events'; message: string };
}

/** A rule test's progress, pushed while it runs: events read from the store, then replayed through the rule. */
export interface RuleTestProgress {
  testId: string;
  phase: 'reading' | 'replaying';
  done: number;
}

/** A broker address as kept in settings: never with a password (passwords live in the secret store). */
export type BrokerSettings = z.infer<typeof brokerRefSchema>;

type ForwardingDoc = z.infer<typeof forwardingSchema>;
/** Forwarding between Panoptes instances over MQTT, as saved in the config document (no secrets), with absent parts filled in. */
export interface ForwardingSettings {
  /** Publish this instance's events to `panoptes/<agentId>/events`; `filter` is a rule's `when`/`if`. */
  forward: NonNullable<ForwardingDoc['forward']> | null;
  /** Brokers whose `panoptes/+/events` this instance takes in. */
  subscribe: ForwardingDoc['subscribe'];
  embeddedBroker: NonNullable<ForwardingDoc['embeddedBroker']>;
  /** Broker for the rules' `mqtt` action (the forward broker when null). */
  actionBroker: BrokerSettings | null;
}

type WithPassword<T> = T & { password?: string | null };
/**
 * What `forwarding.update` takes: the settings, where any broker may carry a password (in its URL or as
 * `password`; null removes the stored one) and the embedded broker its login. Secrets go to the secret store.
 * Checked in depth (files readable, filters valid) by the engine, which names every problem's path.
 */
export interface ForwardingUpdate {
  forward?: WithPassword<NonNullable<ForwardingSettings['forward']>> | null;
  subscribe?: WithPassword<ForwardingSettings['subscribe'][number]>[];
  embeddedBroker?: Partial<ForwardingSettings['embeddedBroker']> & { username?: string; password?: string | null };
  actionBroker?: WithPassword<BrokerSettings> | null;
}

/** A monitor as the inventory shows it: what it is and how it is doing. */
export interface InventoryMonitor {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  status: string;
  message: string | null;
}

/** What an agent tells about itself in its retained status, so the desktop can list every machine. */
export interface AgentInventory {
  /** Panoptes' version and the installed release (the folder `panoptes deploy` unpacked it into). */
  release?: string;
  os?: string;
  /** Seconds since the agent started, and since the machine booted. */
  uptime?: number;
  hostUptime?: number;
  startedAt?: string;
  monitors?: InventoryMonitor[];
  /** Events stored here and not yet acknowledged by the broker. */
  queue?: number;
  lastEvent?: { ts: string; type: string; title: string } | null;
  paused?: boolean;
}

export interface ForwardingPeer extends AgentInventory {
  agentId: string;
  hostname: string;
  state: 'online' | 'offline';
  /** When this instance last heard from the peer (an event or a status). */
  lastSeen: string;
  /** The offline reason the peer (or its last will) gave. */
  reason: string | null;
  /** Panoptes' version there (from its status). */
  version?: string;
  /**
   * 'verified': its key is recorded here (deployed from here), and what it says is taken only when signed with it;
   * 'unverified': none is — what comes in its name is taken as it comes, and no change or question is sent to it
   * until it is paired (an upgrade from here reads its key).
   */
  trust?: 'verified' | 'unverified';
  /** The last messages refused in its name (newest first, at most 20): what, when and why. */
  refused?: MachineRefusal[];
}

/** A message that claimed to be a machine's and was refused (a forgery, a replay, an empty status…). */
export interface MachineRefusal {
  at: string;
  /** What it was: "status", "event", "empty status", "configuration state", "answer"… */
  what: string;
  why: string;
}

export interface ForwardingStatusInfo {
  forward: { broker: string; agentId: string; connected: boolean; queued: number; inflight: number; lastError: string | null } | null;
  receivers: { broker: string; connected: boolean; received: number; stored: number; duplicates: number; rejected: number; lastError: string | null }[];
  embeddedBroker: { host: string; port: number; running: boolean; error: string | null } | null;
  peers: ForwardingPeer[];
  /** Why configured forwarding is not running (a bad filter written by hand, a port in use…). */
  problems: string[];
}

/** An agent's monitors and local rules as the desktop edits them over the broker (engine/fleet/). */
export interface FleetMachineConfig {
  agentId: string;
  /** Names what this view was built from: a change may give it as `ifRevision`, and is refused (`conflict`) when it moved on. */
  revision: string;
  /** The agent's own configuration revision: moves with every change, made there or sent from here. */
  agentRevision: number;
  /** The agent takes changes from this desktop (it was deployed from here). */
  paired: boolean;
  monitors: Record<string, unknown>[];
  rules: Record<string, unknown>[];
  /** All its monitors are paused, or will be once the change waiting for it is applied (each keeps its own switch). */
  paused: boolean;
  /** A change sent and not answered yet: the agent is away (it applies the latest when it is back), or busy. */
  pending: { seq: number; issuedAt: string } | null;
  /** What the agent did with the last change it was sent: applied, or refused with the reason. */
  last: { seq: number | null; outcome: 'applied' | 'refused'; reason: string | null; at: string; rev: number } | null;
  /** What is shown was signed by the agent's own key (deploy read it); false when no key is known for it yet. */
  verified: boolean;
  /** The last message that claimed to be this agent's and was not signed by it (refused, said here). */
  refused: { at: string; message: string } | null;
}

/** What an agent answered to a question from this desktop; `verified`: signed with its key (false: none known yet). */
export interface FleetAnswerInfo {
  verified: boolean;
}

/** A monitor's health on another machine, as it answered. */
export interface FleetMonitorHealth {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  health: MonitorHealth;
}

export interface FleetInfo {
  /** This desktop's public key (what `panoptes deploy` gives an agent) and its short id; null until it deploys one. */
  publicKey: string | null;
  keyId: string | null;
  machines: { agentId: string; broker: string; paired: boolean; agentRevision: number; pending: boolean; paused: boolean; last: FleetMachineConfig['last'] }[];
}

/** An agent this desktop deployed (Settings → Machines): where, so it can be upgraded or undeployed from here. */
export interface DeploymentInfo {
  agentId: string;
  /** `user@host` as ssh takes it. */
  target: string;
  port: number | null;
  identity: string | null;
  knownHosts: string | null;
  /** An ssh config file read instead of ~/.ssh/config (`ssh -F`); absent in what older versions kept. */
  sshConfig?: string | null;
  /** The install folder there (relative to that user's home unless absolute). */
  dir: string;
  node: string | null;
  service: 'systemd' | 'pidfile';
  release: string;
  deployedAt: string;
}

/**
 * A deploy, upgrade or undeploy started from the form, step by step as it goes (the `deploy` push): check (ssh,
 * Node, a writable folder, the broker reachable from there), copy (pack and copy the build), install (write its
 * configuration and start it), online (wait for its status on the broker); rollback/remove when it did not come
 * online. `message` says why it failed, in the same words as `panoptes deploy`. Kept in the store (never a secret),
 * so a page opened later, or the engine after a restart, shows it.
 */
export interface DeployRun {
  runId: string;
  kind: 'deploy' | 'upgrade' | 'undeploy';
  target: string;
  agentId: string | null;
  startedAt: string;
  /** When it ended (done, failed, or found interrupted at the engine's next start); null while it runs. */
  endedAt?: string | null;
  /** Each step with when it began (absent in runs kept by an older version). */
  steps: { step: string; text: string; state: 'running' | 'done' | 'failed'; at?: string }[];
  /** `interrupted`: the engine stopped while it ran (the message says what may be left on the machine). */
  state: 'running' | 'done' | 'failed' | 'interrupted';
  message: string | null;
}

export interface ForwardingInfo {
  settings: ForwardingSettings;
  /** Which secrets have a value stored (never the values). */
  secretsSet: { forward: boolean; subscribe: boolean[]; actionBroker: boolean; embeddedBroker: boolean };
  /** The embedded broker's user name ("panoptes" unless set). */
  embeddedBrokerUsername: string;
  /** `panoptes agent --forward`: the target of this run, in force until the settings are saved. */
  commandLineForward: { url: string; agentId: string | null } | null;
  status: ForwardingStatusInfo;
}

/** A notification channel's health: how its last sends went (kept across restarts). */
export interface ChannelHealth {
  status: 'unknown' | 'ok' | 'failing';
  lastSuccess: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The settings field the last error is about (the token for a 401), for the form. */
  lastErrorField: string | null;
}

export interface ChannelInfo {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  /** Non-secret settings only. */
  config: Record<string, unknown>;
  /** Names of secret fields that have a value stored (values are never sent back). */
  secretsSet: string[];
  health: ChannelHealth;
}

export interface ChannelTypeInfo {
  type: string;
  title: string;
  description: string;
  /** JSON Schema of the settings (labels/help/secret in each property's meta), for the form. */
  configSchema: Record<string, unknown>;
  /** Apprise-style URL schemes this type accepts when adding (`ntfys`, `tgram`). */
  urlSchemes: string[];
}

/** What "Send test notification" gives: delivered, or the service's refusal with the field it is about. */
export interface ChannelTestResult {
  ok: boolean;
  message: string;
  field: string | null;
  retryAfterMs: number | null;
}

/** One action of one firing: (rule, event, action index), the key of the outbox. */
export const actionRefSchema = z.object({ ruleId: z.string().min(1), eventId: z.string().min(1), actionIndex: z.number().int().min(0) });
export type ActionRef = z.infer<typeof actionRefSchema>;

/** An action that exhausted its attempts, or failed in a way retrying would not fix; kept until Retry or Discard. */
export interface DeadLetterInfo extends ActionRef {
  ruleName: string | null;
  /** The title of the event that fired the rule (null for a timer firing or a pruned event). */
  eventTitle: string | null;
  kind: string;
  /** The lane it ran in: `webhook:host:port`, `email:smtp-host`, `chat:network`, `mqtt`, `notify`, `command:program`. */
  destination: string;
  lastError: string | null;
  attempts: number;
  failedAt: string | null;
  /** What the receiver saw as Idempotency-Key / Message-ID / user property on every attempt. */
  idempotencyKey: string;
}

/** One destination's lane since this start. */
export interface ActionLaneInfo {
  lane: string;
  /** `failing` after several failed attempts in a row with no success since. */
  healthy: boolean;
  running: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastFailureAt: string | null;
  lastSuccessAt: string | null;
}

export interface ActionsStatus {
  lanes: ActionLaneInfo[];
  deadLetters: number;
}

/** A scheduled maintenance window with whether it is open now. */
export type MaintenanceWindowInfo = ScheduledMaintenance & { open: boolean };

export interface MaintenanceStatus {
  /** The `maintenance` flag is on: maintenance everywhere until it is cleared or expires. */
  flag: boolean;
  /** When the flag ends by itself (ISO), null when it has no expiry or is off. */
  flagExpiresAt: string | null;
  windows: MaintenanceWindowInfo[];
  /** The running checks in maintenance now, and why. */
  checks: { id: string; reason: string }[];
}

/** Marks a request's result type (a type only; nothing is checked at run time on the way out). */
const returns = <T>(): T => undefined as T;
const none = z.object({});
const record = z.record(z.string(), z.unknown());
/** How long to wait for another machine's answer (each question has its own default). */
const askTimeout = z.number().int().min(1_000).max(60_000).optional();
/** A flag name as `flags.set` takes it; checked when settings are changed, not when the document loads (older names stay loadable). */
const holdFlagName = z.string().superRefine((name, ctx) => {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name)) ctx.addIssue({ code: 'custom', message: `“${name}” is not a flag name (letters, digits, . _ -, starting with a letter)` });
});
const settingsUpdateSchema = settingsFields.partial().extend({ notifications: notificationSettingsFields.partial().extend({ holdDuringFlags: z.array(holdFlagName).optional() }).optional() });
const notificationClient = z.enum(['ui', 'desktop']);
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every request: the schema of its params and the type of its result. */
export const requests = {
  /** `configProblem`: config.json was edited into something invalid; the engine runs on the configuration before. */
  'hello': { params: none, result: returns<{ version: number; agentId: string; dataDir: string; paused: boolean; configProblem: string | null; configRevision: string; timeZone: string }>() },
  'events.list': { params: eventQuerySchema, result: returns<EventPage>() },
  'events.get': { params: z.object({ id: z.string() }), result: returns<PanoptesEvent | null>() },
  /** Counts at most 10,000; `capped` means there are more. */
  'events.count': { params: eventQuerySchema, result: returns<{ count: number; capped: boolean }>() },
  'monitors.types': { params: none, result: returns<MonitorTypeInfo[]>() },
  'monitors.list': { params: none, result: returns<MonitorInfo[]>() },
  /** The config is checked against the type's own schema by the engine (code `invalid`, with paths). */
  /** `signInId`: a finished `signIn.start` from the add form, whose sign-in the new monitor keeps. */
  'monitors.add': {
    params: z.object({ type: z.string(), name: z.string(), config: record.optional(), enabled: z.boolean().optional(), id: z.string().optional(), signInId: z.string().optional() }),
    result: returns<MonitorInfo>(),
  },
  'monitors.update': {
    params: z.object({ id: z.string(), name: z.string().optional(), config: record.optional(), enabled: z.boolean().optional(), retentionDays: monitorEntrySchema.shape.retentionDays }),
    result: returns<MonitorInfo>(),
  },
  'monitors.remove': { params: z.object({ id: z.string() }), result: returns<{ removed: boolean }>() },
  /** Dry run; with `id`, the stored secrets of that monitor fill in what the form left empty; `signInId`: a finished sign-in not saved yet. */
  'monitors.test': { params: z.object({ type: z.string(), config: record.optional(), id: z.string().optional(), signInId: z.string().optional() }), result: returns<{ events: PanoptesEvent[] }>() },
  /**
   * Every problem of a config at once (the type's whole schema), without saving or running anything; with `id`, its
   * stored secrets count as given (and it is not its own duplicate). `sameAs`: a valid config whose source another
   * monitor of the type already watches (the type's `sources`), so adding it would double its events.
   */
  'monitors.validate': { params: z.object({ type: z.string(), config: record.optional(), id: z.string().optional() }), result: returns<{ issues: ValidationIssue[]; sameAs?: { id: string; name: string } | null }>() },
  /**
   * Look up the text of the type's lookup field (a place name): the choices, best first, each with the config values
   * choosing it sets. Nothing found or the service unreachable: code `unavailable`, with an issue at the field.
   */
  'monitors.lookup': { params: z.object({ type: z.string(), query: z.string(), config: record.optional() }), result: returns<{ choices: { label: string; detail: string; values: Record<string, unknown> }[] }>() },
  'monitors.checkNow': { params: z.object({ id: z.string() }), result: returns<{ started: boolean }>() },
  /** Feeds already watched are `skipped`; `refused` (only when some were) names addresses the rss type does not take, and why. */
  'monitors.importOpml': {
    params: z.object({ opml: z.string(), intervalMinutes: z.number().positive().optional() }),
    result: returns<{ added: string[]; skipped: string[]; refused?: { url: string; message: string }[] }>(),
  },
  'monitors.exportOpml': { params: none, result: returns<{ opml: string }>() },
  /** The feeds of a site (its address as a person knows it, or the feed's own), each with how many items it holds now. */
  /**
   * Render the page of a monitor's form (its unsaved `config`) for "Pick on the page", as a check would render it
   * (same browser rules, steps and timeout, at least 30 s). Code `invalid` at a field, `unavailable` with the reason.
   */
  'monitors.pick': { params: z.object({ type: z.string(), config: record.optional() }), result: returns<PagePick>() },
  'monitors.discoverFeed': { params: z.object({ url: z.string() }), result: returns<{ feeds: { url: string; title: string; items: number; watchedBy: string | null }[] }>() },
  /**
   * Sign in with OAuth for a monitor's form (its unsaved `config`; with `id`, that monitor's stored secrets count and
   * the grant goes straight to it, and it restarts). The engine runs the flow; the page opens `authorizationUrl` (or
   * shows the device code). How it ends comes as a `signIn` push and from `signIn.status`. Settings that cannot sign
   * in are refused with code `invalid`, at their field.
   */
  'signIn.start': {
    params: z.object({ type: z.string(), config: record.optional(), id: z.string().optional(), flow: z.enum(['browser', 'device']).optional() }),
    result: returns<SignInStart>(),
  },
  'signIn.status': { params: z.object({ signInId: z.string() }), result: returns<SignInState>() },
  'signIn.cancel': { params: z.object({ signInId: z.string() }), result: returns<{ cancelled: boolean }>() },
  /**
   * Sign a monitor out: the grant is revoked at the provider where it has a revocation endpoint (RFC 7009), and
   * leaves the secret store in any case; the monitor restarts, "not signed in". `signedOut` says which happened.
   */
  'signIn.signOut': { params: z.object({ id: z.string() }), result: returns<MonitorInfo & { signedOut: SignOutOutcome }>() },
  'versions.list': {
    params: z.object({ monitorId: z.string(), limit: z.number().int().min(1).max(1000).optional(), before: z.number().int().optional() }),
    result: returns<{ versions: VersionInfo[] }>(),
  },
  'versions.get': {
    params: z.object({ id: z.number().int() }),
    result: returns<(VersionInfo & { text: string; screenshot: string | null }) | null>(),
  },
  /** `from` omitted: the version before `to`. */
  'versions.diff': {
    params: z.object({ to: z.number().int(), from: z.number().int().optional(), mode: z.enum(['lines', 'words']).optional() }),
    result: returns<VersionDiff | null>(),
  },
  'monitors.pauseAll': { params: z.object({ paused: z.boolean() }), result: returns<{ paused: boolean }>() },
  // Rules are checked by the rules engine's own validation (code `invalid`, every problem with its path).
  // A change may name what it was prepared from: `ifRevision` (the whole configuration's `revision`, as rules.list gave
  // it) or, for one rule, `previous` (the rule as the editor opened it; null for a new one). When that is no longer what
  // is in force the change is refused with code `conflict`, and nothing changes.
  'rules.list': { params: none, result: returns<{ rules: unknown[]; errors: (ValidationIssue & { ruleId?: string })[]; revision: string }>() },
  // warnings: what the rule may mean but probably should not (a template in a shell's -c script); saving still works.
  'rules.save': { params: z.object({ rule: z.unknown(), previous: z.unknown().optional(), ifRevision: z.string().optional() }), result: returns<{ rule: unknown; warnings: ValidationIssue[] }>() },
  'rules.replaceAll': { params: z.object({ rules: z.array(z.unknown()), ifRevision: z.string().optional() }), result: returns<{ count: number }>() },
  // Moving a rule sends the new order as ids: the whole list of thousands of rules is over the message limit.
  'rules.reorder': { params: z.object({ ids: z.array(z.string()) }), result: returns<{ count: number }>() },
  'rules.remove': { params: z.object({ id: z.string() }), result: returns<{ removed: boolean }>() },
  'rules.validate': { params: z.object({ rule: z.unknown() }), result: returns<{ ok: boolean; errors: ValidationIssue[]; warnings: ValidationIssue[] }>() },
  /** Replays the events received in [since, until) (default: the last 7 days) through the rule, as they arrived. */
  // It runs off the engine's thread within a budget (by default a minute and 200,000 events; `limits` can only lower
  // it); `testId` names it for rules.cancelTest and its progress pushes.
  'rules.test': {
    params: z.object({
      rule: z.unknown(),
      since: z.string().optional(),
      until: z.string().optional(),
      flags: z.record(z.string(), z.boolean()).optional(),
      testId: z.string().min(1).max(100).optional(),
      limits: z.object({ ms: z.number().int().min(1).optional(), events: z.number().int().min(1).optional() }).optional(),
    }),
    result: returns<RuleTestResult>(),
  },
  /** Stop a running rule test: it answers with what it found so far, `stopped.reason` 'cancelled'. */
  'rules.cancelTest': { params: z.object({ testId: z.string() }), result: returns<{ cancelled: boolean }>() },
  'rules.explain': {
    params: z.object({ eventId: z.string(), ruleId: z.string().optional() }),
    result: returns<{ verdicts: { ruleId: string; matched: boolean; reason: string; details?: unknown }[] }>(),
  },
  /** Render a Liquid template against a stored event (the newest one when no id), as a rule firing on it would. */
  'rules.preview': {
    params: z.object({ template: z.string(), eventId: z.string().optional(), ruleId: z.string().optional() }),
    result: returns<{ text: string; error: string | null; eventId: string | null }>(),
  },
  'traces.list': { params: z.object({ ruleId: z.string().optional(), limit: z.number().optional() }), result: returns<{ traces: unknown[] }>() },
  'flags.list': { params: none, result: returns<FlagState[]>() },
  'flags.set': { params: z.object({ name: z.string(), for: z.string().optional() }), result: returns<FlagState>() },
  'flags.clear': { params: z.object({ name: z.string() }), result: returns<{ cleared: boolean }>() },
  'settings.get': { params: none, result: returns<Settings>() },
  /** Only the fields given change (also inside `notifications`). */
  'settings.update': { params: settingsUpdateSchema, result: returns<Settings>() },
  'maintenance.status': { params: none, result: returns<MaintenanceStatus>() },
  /** Add (no id, or a new one) or replace (an existing id) a scheduled window; checked in depth (code `invalid`, with paths). */
  'maintenance.save': { params: z.object({ window: record }), result: returns<MaintenanceWindowInfo>() },
  'maintenance.remove': { params: z.object({ id: z.string() }), result: returns<{ removed: boolean }>() },
  'notifications.recent': { params: z.object({ limit: z.number().optional() }), result: returns<NotificationPayload[]>() },
  /** Each destination's health and how many dead letters wait. */
  'actions.status': { params: none, result: returns<ActionsStatus>() },
  /** Dead letters, newest first; `before` (a `failedAt`) pages on. */
  'actions.deadLetters': {
    params: z.object({ limit: z.number().int().min(1).max(500).optional(), before: z.string().optional() }),
    result: returns<{ items: DeadLetterInfo[]; total: number; next: string | null }>(),
  },
  /** Run a dead letter again with fresh attempts (same idempotency key). */
  'actions.retry': { params: actionRefSchema, result: returns<{ retried: boolean }>() },
  'actions.discard': { params: actionRefSchema, result: returns<{ discarded: boolean }>() },
  /** The inbox, newest first: top-level notifications, or the items inside one summary or fold (`parentId`). */
  'notifications.list': {
    params: z.object({ parentId: z.string().optional(), before: z.number().optional(), limit: z.number().optional(), unreadOnly: z.boolean().optional() }),
    result: returns<{ items: NotificationPayload[]; next: number | null }>(),
  },
  'notifications.get': { params: z.object({ id: z.string() }), result: returns<NotificationPayload | null>() },
  /**
   * What a page ('ui') or the desktop shell missed: with a cursor, what came after it; without one (a new page),
   * what no page has shown yet. Newest `limit` (default 20) and how many more there were; it counts as shown.
   */
  'notifications.catchUp': {
    params: z.object({ channel: notificationClient, cursor: z.number().nullable().optional(), limit: z.number().optional() }),
    result: returns<{ items: NotificationPayload[]; more: number; cursor: number }>(),
  },
  /** A page or the shell showed these (live pushes), so a page opened later does not show them again. */
  'notifications.shown': { params: z.object({ channel: notificationClient, ids: z.array(z.string()).max(1000) }), result: returns<{ ok: true }>() },
  'notifications.read': { params: z.object({ ids: z.array(z.string()).max(1000).optional(), all: z.boolean().optional(), read: z.boolean().optional() }), result: returns<NotificationStatus>() },
  'notifications.snooze': { params: z.object({ id: z.string(), for: z.string() }), result: returns<NotificationPayload>() },
  'notifications.ack': { params: z.object({ id: z.string() }), result: returns<NotificationPayload>() },
  'notifications.status': { params: none, result: returns<NotificationStatus>() },
  /** "Why did / didn't this notify me?": the recorded fates for an event, in rule names and plain words. */
  'notifications.why': { params: z.object({ eventId: z.string() }), result: returns<{ fates: NotificationFate[]; summary: string }>() },
  'notifications.channels': { params: none, result: returns<NotificationChannelInfo[]>() },
  /** Which channels a rule's notifications reach at a priority (the rule builder shows it). */
  'notifications.routeOf': {
    params: z.object({ ruleId: z.string().optional(), priority: z.enum(['low', 'normal', 'high', 'urgent']).optional() }),
    result: returns<{ channels: NotificationChannelInfo[]; fallback: NotificationChannelInfo | null }>(),
  },
  'channels.types': { params: none, result: returns<ChannelTypeInfo[]>() },
  'channels.list': { params: none, result: returns<ChannelInfo[]>() },
  /** From a type and its settings, or from an Apprise-style `url` (`ntfys://ntfy.sh/topic`); secrets go to the secret store. */
  'channels.add': {
    params: z.object({ name: z.string().optional(), type: z.string().optional(), config: record.optional(), url: z.string().optional(), enabled: z.boolean().optional(), id: z.string().optional() }),
    result: returns<ChannelInfo>(),
  },
  /** A secret left empty keeps the stored one; null removes it. */
  'channels.update': { params: z.object({ id: z.string(), name: z.string().optional(), config: record.optional(), enabled: z.boolean().optional() }), result: returns<ChannelInfo>() },
  'channels.remove': { params: z.object({ id: z.string() }), result: returns<{ removed: boolean }>() },
  /** Every problem of a channel's settings at once (the type's whole schema), saving nothing; with `id`, its stored secrets count as given. */
  'channels.validate': { params: z.object({ id: z.string().optional(), type: z.string().optional(), config: record.optional() }), result: returns<{ issues: ValidationIssue[] }>() },
  /** Send a test notification through a saved channel (`id`; the form's unsaved changes in `config` apply), or through `type` + `config` / `url` not saved yet. */
  'channels.test': {
    params: z.object({ id: z.string().optional(), type: z.string().optional(), config: record.optional(), url: z.string().optional() }),
    result: returns<ChannelTestResult>(),
  },
  'forwarding.get': { params: none, result: returns<ForwardingInfo>() },
  // Remote configuration of agents deployed from here (signed changes over the broker; see engine/fleet/). A change
  // names the agent and, to be refused with `conflict` when the agent's configuration moved on, `ifRevision`.
  'fleet.list': { params: none, result: returns<FleetInfo>() },
  'fleet.get': { params: z.object({ agentId: z.string() }), result: returns<FleetMachineConfig>() },
  /** Add (no id, or a new one) or replace a monitor there; checked with this build's monitor types first. */
  'fleet.saveMonitor': {
    params: z.object({ agentId: z.string(), monitor: z.object({ id: z.string().optional(), type: z.string(), name: z.string(), enabled: z.boolean().optional(), config: record.optional() }), ifRevision: z.string().optional() }),
    result: returns<FleetMachineConfig>(),
  },
  'fleet.removeMonitor': { params: z.object({ agentId: z.string(), id: z.string(), ifRevision: z.string().optional() }), result: returns<FleetMachineConfig>() },
  'fleet.saveRule': { params: z.object({ agentId: z.string(), rule: z.unknown(), ifRevision: z.string().optional() }), result: returns<FleetMachineConfig>() },
  /** Pause or resume all its monitors (sent as a change: applied there, or when it is back). */
  'fleet.pause': { params: z.object({ agentId: z.string(), paused: z.boolean(), ifRevision: z.string().optional() }), result: returns<FleetMachineConfig>() },
  'fleet.removeRule': { params: z.object({ agentId: z.string(), id: z.string(), ifRevision: z.string().optional() }), result: returns<FleetMachineConfig>() },
  /**
   * Forget a machine that is gone for good (Settings → Machines → Forget): its entry and log of refusals, its key and
   * pairing, where it was deployed from here, and its retained status and configuration on every broker this desktop
   * receives from. Refused (`conflict`) while it is online, or while a deploy of it runs. `notCleared`: the brokers its
   * retained messages could not be cleared on (not connected): it reappears, offline, when they are next read.
   */
  'fleet.forget': { params: z.object({ agentId: z.string() }), result: returns<{ agentId: string; cleared: string[]; notCleared: { broker: string; why: string }[] }>() },
  // Questions to an agent deployed from here, answered by it over the broker (signed both ways, with a time limit):
  // `unavailable` says when it is offline, does not answer in time, or cannot run it.
  /** "Test now" run there: the monitor as the form has it (with `id`, its secrets stored there are used). */
  'fleet.testMonitor': {
    params: z.object({ agentId: z.string(), monitor: z.object({ id: z.string().optional(), type: z.string(), config: record.optional() }), timeoutMs: askTimeout }),
    result: returns<FleetAnswerInfo & { events: PanoptesEvent[]; leftOut?: number }>(),
  },
  /** "Check now" of one of its monitors, run there (its next scheduled check, now): `why` when it could not start. */
  'fleet.checkNow': { params: z.object({ agentId: z.string(), id: z.string(), timeoutMs: askTimeout }), result: returns<FleetAnswerInfo & { started: boolean; why?: string }>() },
  /** Its most recent events (at most 100, each cut as lists cut them). */
  'fleet.events': { params: z.object({ agentId: z.string(), limit: z.number().int().min(1).max(100).optional(), source: z.string().optional(), timeoutMs: askTimeout }), result: returns<FleetAnswerInfo & { events: PanoptesEvent[]; leftOut?: number }>() },
  /** Its monitors with their health, as it has them now. */
  'fleet.health': { params: z.object({ agentId: z.string(), timeoutMs: askTimeout }), result: returns<FleetAnswerInfo & { monitors: FleetMonitorHealth[] }>() },
  // Deploying agents over SSH from the desktop: the same code as `panoptes deploy` (engine/fleet/deploy/). A run
  // answers at once and goes on in the engine; its steps come as `deploy` pushes.
  'deploy.list': { params: none, result: returns<{ deployments: DeploymentInfo[]; runs: DeployRun[] }>() },
  'deploy.start': {
    params: z.object({
      target: z.string().max(300),
      broker: z.string().max(2000),
      agentId: z.string().max(64).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      identity: z.string().max(4096).optional(),
      knownHosts: z.string().max(4096).optional(),
      sshConfig: z.string().max(4096).optional(),
      dir: z.string().max(4096).optional(),
      node: z.string().max(4096).optional(),
      service: z.enum(['auto', 'systemd', 'pidfile']).optional(),
    }),
    result: returns<DeployRun>(),
  },
  /** Install this build on a machine deployed from here, keeping its data and configuration (rolled back if it does not come online). */
  'deploy.upgrade': { params: z.object({ agentId: z.string() }), result: returns<DeployRun>() },
  /** Stop and remove an agent deployed from here, and clear its status on the broker. */
  'deploy.remove': { params: z.object({ agentId: z.string(), keepData: z.boolean().optional() }), result: returns<DeployRun>() },
  /** Validate, keep secrets apart, save, and restart forwarding with the new settings (the engine keeps running). */
  'forwarding.update': {
    params: z.custom<ForwardingUpdate>(isObject, { message: 'forwarding settings must be an object' }),
    result: returns<ForwardingInfo>(),
  },
} satisfies Record<string, { params: z.ZodType; result: unknown }>;

export type Method = keyof typeof requests;
export type ParamsOf<M extends Method> = z.infer<(typeof requests)[M]['params']>;
export type ResultOf<M extends Method> = (typeof requests)[M]['result'];

/** Server → client pushes. */
export interface Pushes {
  'event': PanoptesEvent;
  'health': MonitorHealth;
  'flags': FlagState[];
  /** A notification that went out (or came back from a snooze): pages toast it when routed to 'ui'. */
  'notification': NotificationPayload;
  /** Counts and holds changed (the header, the tray, the DND toggle). */
  'notificationStatus': NotificationStatus;
  'monitors': MonitorInfo[];
  /** A sign-in started with `signIn.start` ended (done or failed). */
  'signIn': SignInState;
  'rules': { changed: true };
  'paused': { paused: boolean };
  'forwarding': ForwardingStatusInfo;
  /** An agent's configuration, or the fate of a change sent to it, changed: fetch it again with `fleet.get`. */
  'fleet': { agentId: string };
  'channels': ChannelInfo[];
  /** A deploy, upgrade or undeploy started from the form moved on (a step began or ended). */
  'deploy': DeployRun;
  /** config.json changed outside the app: taken in (`problem` null), or refused with the reason. */
  'config': { problem: string | null };
  /** A destination turned unhealthy or recovered, or the dead letters changed. */
  'actions': ActionsStatus;
  /** A running rule test's progress (see rules.test's `testId`). */
  'ruleTest': RuleTestProgress;
}
export type Topic = keyof Pushes;

export type WireMessage =
  | { kind: 'req'; id: number; method: Method; params: unknown }
  | { kind: 'res'; id: number; ok: true; result: unknown }
  | { kind: 'res'; id: number; ok: false; error: ProtocolError }
  | { kind: 'push'; topic: Topic; data: unknown };

export interface ProtocolError {
  /** `conflict`: prepared from a configuration revision that is no longer in force; nothing was changed. */
  code: 'bad_request' | 'not_found' | 'invalid' | 'unavailable' | 'internal' | 'forbidden' | 'conflict';
  message: string;
  issues?: ValidationIssue[];
}
