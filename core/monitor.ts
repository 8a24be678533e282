import type { z } from 'zod';
import type { NewEvent } from './event.js';
import type { Logger } from './log.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActionExecutor, ActionHost, RuleActionSpec } from './action.js';
import type { OAuthClientSettings } from './oauth/providers.js';
import type { PagePick } from './protocol.js';

/**
 * The shape every monitor type follows (one folder in `monitors/`, like a Home Assistant integration or a
 * Huginn agent): it describes itself so the UI, the CLI and the docs come from the code.
 *
 * Config fields carry their UI label and help through zod's `.meta({ label, help })`; secret fields add
 * `secret: true` and are stored in the secret store, never in the config document.
 */
export interface MonitorDefinition<C = any> {
  type: string;
  title: string;
  description: string;
  configSchema: z.ZodType<C>;
  /** The event types this monitor emits, with their fields documented. */
  events: EventTypeDoc[];
  /** Shortest poll interval the type allows, so a user cannot hammer a server. */
  minIntervalMs?: number;
  /** A short label for the badge beside its events and monitors ("MAIL"); the type's first letters otherwise. */
  badge?: string;
  /** The group it is listed under when adding a monitor ("Messages", "Checks"…). */
  category?: string;
  /**
   * Rule actions this type provides, by action kind (mail: `email`, irc: `chat`): how a rule writes one (checked and
   * rendered by the rules engine like its own kinds) and the executor that sends it through the monitors of this
   * type the user set up (registered with the outbox like the engine's own kinds).
   */
  actions?: Record<string, MonitorAction>;
  /** HTTP routes this type receives on (webhook: `POST /hooks/:id`), served wherever the engine runs. */
  routes?: MonitorRoute[];
  create(ctx: MonitorContext<C>): MonitorInstance;
  /**
   * A field the form can look up before saving (weather: a place name → the places of that name with their
   * coordinates). The form offers a button beside that field, shows the choices and fills in the chosen one's values;
   * what cannot be found is told at that field.
   */
  lookup?: MonitorLookup;
  /**
   * What a monitor of this type watches, as keys (a feed's address; a mail account's folders, one key each). Two
   * monitors of the type sharing a key watch the same source, and the second would double its events and
   * notifications, so the form warns before adding it. Types where several monitors of one thing make sense (a
   * webhook, a schedule) leave it out.
   */
  sources?(config: C): string[];
  /**
   * Checks of a config the schema cannot make at once (web: jq compiles each jq program, in a worker): run after the
   * schema accepted it, when the form validates and before a monitor is added or changed. Answers each problem at
   * its field (`path` as validation issues write it, e.g. `$.filters[1]`); nothing when all is well. `signal` ends
   * it when the engine stops waiting (then it answers what it knows, or nothing).
   */
  validate?(config: C, signal: AbortSignal): Promise<{ path: string; message: string }[]>;
  /**
   * "Pick on the page" in the form (web): render what the config (as the form holds it, possibly unfinished) points
   * at and return a picture with its elements; the chosen element's selector fills `field`. Throws a
   * `PickConfigError` for a problem at a field, any other Error with a message the user reads.
   */
  picker?: {
    field: string;
    pick(config: Record<string, unknown>, signal: AbortSignal): Promise<PagePick>;
  };
  /**
   * Plug-ins that sign in with OAuth (mail with Google or Microsoft): which provider and app a config (as the form
   * holds it, possibly incomplete) signs in with, and the secret field the resulting grant is kept in. The engine
   * runs the sign-in; the plug-in only says what to ask for.
   */
  oauth?: {
    grantField: string;
    /** Throws with a message naming the field when the config cannot sign in yet. */
    client(config: Record<string, unknown>, secrets: Readonly<Record<string, string>>): OAuthClientSettings;
    /**
     * The form fields the client settings come from, so a problem the sign-in finds (an unknown client id, a bad
     * tenant) is shown at the field the user typed it in. Keys are OAuthClientSettings' names.
     */
    fields?: Partial<Record<'provider' | 'clientId' | 'clientSecret' | 'tenant' | 'issuer' | 'scopes', string>>;
    /** The form offers "Sign in" only while this field has this value (mail: sign-in = oauth2). */
    shownWhen?: { field: string; equals: string };
    /** The field that picks the provider, and its values in words for the button ("Sign in with Google"). */
    providerField?: string;
    providerNames?: Record<string, string>;
  };
}

/** See `MonitorDefinition.lookup`. */
export interface MonitorLookup {
  /** The config field whose text is looked up ("place"). */
  field: string;
  /** The button's words ("Find place"). */
  label: string;
  /** What the list of choices is called ("Places found"). */
  choicesLabel: string;
  /** The fields a choice fills in besides `field` ("latitude", "longitude"). */
  fills: string[];
  /**
   * The choices for `query`, best first; throws with a message for the user (nothing of that name, the service
   * unreachable). `config` is the form's config as it stands (possibly incomplete: a self-hosted service's address).
   */
  search(query: string, config: Record<string, unknown>, tools: { fetch: MonitorContext['fetch']; signal: AbortSignal }): Promise<LookupChoice[]>;
}

/** One thing a lookup found: its name in full, a line about it, and the config values choosing it sets. */
export interface LookupChoice {
  label: string;
  detail: string;
  values: Record<string, unknown>;
}

/** One rule action a monitor type provides. `P`: its parameters as a rule writes them. */
export interface MonitorAction<P = any> {
  rule: RuleActionSpec<P>;
  executor(host: ActionHost): ActionExecutor;
}

export interface EventTypeDoc {
  type: string;
  description: string;
  fields: Record<string, string>;
  /** A background reading (a chart sample): stored and shown in charts and history, not in the live feed. */
  ambient?: boolean;
  /**
   * The field holding an address inside the UI (`#/…`) that shows this event best (web: `diffLink`, the diff of the
   * change's two versions): a click on its notification, in the inbox or on the desktop, opens it.
   */
  link?: string;
}

/**
 * An HTTP route a monitor type serves, on the agent's server and on the desktop engine's local server, behind
 * the same checks (loopback, Host). `prefix` is the path it answers under; longer prefixes are tried first.
 */
export interface MonitorRoute {
  /** `/hooks/` for `POST /hooks/:id`. */
  prefix: string;
  /** What a user sees in the monitor's form: the address pattern ("POST /hooks/<hook id>"). */
  describe: string;
  /** Answer the request and return true, or return false to let another route answer it. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

export interface MonitorInstance {
  /** Resolve once running. Throwing (or rejecting) marks the monitor failing and schedules a restart. */
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export type { HealthStatus, MonitorHealth } from './protocol.js';

/** Persisted key/value state for one monitor instance (cursors, seen ids). Synchronous: it is SQLite. */
export interface MonitorState {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

/** How much history a monitor keeps: at most `maxCount` versions, none older than `maxAgeMs` (the newest always stays). */
export interface VersionLimits {
  maxCount: number;
  maxAgeMs: number;
}

/** A monitor's history of distinct versions (web pages), kept by the engine's store. */
export interface MonitorVersions {
  /** Record `text` as the newest version unless it already is; the id links an event to its version. */
  add(text: string, options?: { screenshot?: Buffer | null; limits?: Partial<VersionLimits> }): { id: number; created: boolean };
}

export type { FetchOptions, FetchResult } from '../base/http.js';
import type { ReconnectOptions, Session } from '../base/reconnect.js';
import type { FetchOptions, FetchResult } from '../base/http.js';

/** What a polling check may tell the host about the next one. */
export interface CheckResult {
  /** Epoch ms: no check before then (the next check window opens). */
  notBefore?: number;
}

export interface MonitorContext<C = any> {
  /** Instance id, `<type>:<slug>`; becomes the `source` of every event. */
  readonly id: string;
  readonly name: string;
  readonly config: C;
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * Keep changed secrets of this instance (a refreshed OAuth grant whose old refresh token is now spent) in the
   * secret store; null removes a field. `secrets` above stays the snapshot the instance started with. The monitor
   * host and dry runs provide it; a hand-made test context may leave it out.
   */
  saveSecrets?(values: Record<string, string | null>): void;
  /** True in `monitor test`: state is thrown away and what the source holds now is emitted as new. */
  readonly dryRun: boolean;
  /** Aborted when the instance stops; pass it to anything long-running. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly state: MonitorState;
  /** Version history (web pages); absent in dry runs and hand-made test contexts, where nothing is kept. */
  readonly versions?: MonitorVersions;
  /**
   * Durable: resolves once the event is in the store. `state` entries (this monitor's keys) are written in the
   * same transaction, so a cursor saved with the event (a mail UID, a stream position) can never disagree with
   * what was stored: a crash repeats nothing and loses nothing.
   */
  emit(event: NewEvent, options?: { state?: Record<string, unknown> }): Promise<void>;
  /** HTTP with a timeout and a size cap; the body is read whole. */
  fetch(url: string, options?: FetchOptions): Promise<FetchResult>;
  /**
   * Run `task` now and then every `intervalMs`, host-managed: each run has a timeout (a hang is a failure),
   * a failure is reported as health and retried with exponential backoff and jitter, success resets it.
   * In a dry run the task runs exactly once. `manual` is true when the user asked for the check ("Check now", a dry
   * run): a monitor may then skip its own reasons to wait (a feed's <ttl>).
   *
   * A task may return `{ notBefore }` (epoch ms) to put the next check off until then (outside its check windows), or
   * throw an error with a numeric `retryAt` (a server's Retry-After, base/conditional-get's HostHeldError): the next
   * check waits until then, health says so, and it is no failure. `spread`: a poller of other people's servers —
   * started with many others its first check comes at a random point of a short spread, and its interval varies by
   * ±10 %, so checks do not all fire together.
   */
  every(intervalMs: number, task: (signal: AbortSignal, run: { manual: boolean }) => Promise<void | CheckResult>, options?: { timeoutMs?: number; spread?: boolean }): void;
  /**
   * Keep a long-lived connection (IMAP IDLE, IRC, a stream) up until the instance stops: run `session`, and when it
   * ends or fails wait with backoff and run it again. Call `up()` in the session once connected. Resolves on stop.
   */
  reconnect(session: Session, options?: Omit<ReconnectOptions, 'signal'> & { signal?: AbortSignal }): Promise<void>;
  health: {
    ok(message?: string): void;
    degraded(message: string): void;
    /** Report a failure of a long-lived connection; the monitor retries on its own (`retryInMs` is shown). */
    failing(error: unknown, retryInMs?: number): void;
  };
  /** Timers that are cleared when the instance stops, and whose callbacks cannot crash the process. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** A picker's config problem at one field (`path` as validation issues write it, e.g. `$.url`). */
export class PickConfigError extends Error {
  override name = 'PickConfigError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}
