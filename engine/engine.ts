import os from 'node:os';
import path from 'node:path';
import { secureDataDir } from '../core/data-dir.js';
import { existsSync, statSync } from 'node:fs';
import { setPanoptesStatsProvider } from '../core/panoptes-stats.js';
import type { MonitorDefinition, MonitorHealth, MonitorRoute } from '../core/monitor.js';
import type { ActionHost } from '../core/action.js';
import { BACKFILL_TAG, SELF_SOURCE, type PanoptesEvent, type StoredEvent, type NewEvent } from '../core/event.js';
import { stripSeq, openStore, type Store, type OutboxItem } from '../core/store/index.js';
import { forList } from '../core/event-cap.js';
import { ConfigStore, type ExternalChange } from '../core/config/config-store.js';
import type { ConfigDocument, MonitorEntry } from '../core/config/schema.js';
import { FileSecretStore, type SecretStore } from '../core/secrets.js';
import { MonitorHost, secretFields } from '../core/monitor-host.js';
import { FlagManager } from '../core/flags.js';
import { setMaintenanceSources, MAINTENANCE_FLAG, type MaintenanceSources } from '../core/maintenance.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/log.js';
import type { Channel } from '../core/rpc/channel.js';
import { dispatch, serveChannel, type Connection, type RequestHandler } from '../core/rpc/server.js';
import type { Method, ParamsOf, Pushes, ResultOf, Topic } from '../core/protocol.js';
import { newId } from '../core/ids.js';
import { RuleEngine, validateRules, ruleWarnings, type ActionKinds, type RuleIssue } from '../rules/index.js';
import { EventWriter, bothAfter } from './event-writer.js';
import { RuleProcessor, type RuleRuntimeError } from './rule-processor.js';
import { OutboxDispatcher, type ActionExecutor } from './outbox-dispatcher.js';
import { notifyExecutor } from './actions/notify.js';
import { webhookExecutor } from './actions/webhook.js';
import { commandExecutor } from './actions/command.js';
import { actionBroker, type ForwardTarget } from './forwarding/index.js';
import type { AgentInventory } from './forwarding/wire.js';
import { ForwardingController } from './forwarding/controller.js';
import { loadMonitorTypes, ruleActionKinds } from './monitor-registry.js';
import { RetentionSweeper } from './retention.js';
import { RuleTests } from './rule-test/index.js';
import { createDeployments, createHandlers } from './handlers/index.js';
import { SignIns, monitorInfoOf, signedInOf } from './sign-ins.js';
import { NotificationCenter, type RuleRouting } from './notifications/center.js';
import type { OutboundChannels } from './notifications/outbound-channels.js';
import type { ChannelDefinition } from '../core/notification-channel.js';
import { channelTypes } from '../channels/registry.js';
import { ChannelSender } from './channel-sender.js';
import { channelExecutor, channelSendKey, channelSendOf, enqueueChannelSend } from './actions/channel.js';
import { actionsStatus } from './handlers/actions.js';
import { defaultRules } from './default-rules.js';
import { markAllMigrated, migrateConfig } from './config-migrations.js';
import { sharedHostLimiter, type HostHold } from '../base/conditional-get.js';

/** Where the per-host limiter's holds are kept across restarts (see keepHostHolds). */
const HOST_HOLDS_KEY = 'hostHolds';

/** What a notification may open inside the UI: a view's address with a query, nothing else. */
const UI_LINK = /^#\/[a-z]+(\?[\w%.=&~-]*)?$/;

export interface EngineOptions {
  dataDir: string;
  log?: Logger;
  clock?: Clock;
  /** Monitor types; discovered from monitors/ when omitted. */
  definitions?: Map<string, MonitorDefinition>;
  secrets?: SecretStore;
  /** Retry timing of actions (first delay, cap); tests shorten it. */
  actionRetry?: { baseMs: number; capMs: number };
  /** Notification channel types; those of channels/registry when omitted. */
  channelTypes?: Map<string, ChannelDefinition>;
  /** Start the configured monitors (default true). */
  startMonitors?: boolean;
  agentId?: string;
  /** Forward this instance's events to this broker for this run (`panoptes agent --forward`), over the config's. */
  forward?: ForwardTarget;
  /** Seed the built-in rules into a new config document (default true). */
  seedDefaultRules?: boolean;
  /** What the notification center sends external notifications through; the configured channels when omitted. */
  outboundChannels?: OutboundChannels;
}

/** The event of an action that exhausted its attempts (a dead letter). */
export const ACTION_FAILED = 'panoptes.action_failed';

/**
 * The engine: store, config, monitor host, rules, outbox, flags — wired together, with the service protocol
 * served on any number of channels. Plain Node; the desktop runs it in a utilityProcess, the agent in-process.
 */
export class Engine {
  readonly store: Store;
  readonly config: ConfigStore;
  readonly secrets: SecretStore;
  readonly host: MonitorHost;
  readonly flags: FlagManager;
  readonly rules: RuleEngine;
  readonly processor: RuleProcessor;
  readonly outbox: OutboxDispatcher;
  readonly writer: EventWriter;
  /** Decides, records and delivers every notification (holds, quiet hours, storms, routing). */
  readonly notifications: NotificationCenter;
  /** Rule tests against history, each in a worker thread (see engine/rule-test). */
  readonly ruleTests: RuleTests;
  readonly definitions: Map<string, MonitorDefinition>;
  /** The rule actions the monitor types contribute: rules are checked and rendered with them. */
  readonly actionKinds: ActionKinds;
  readonly executors = new Map<string, ActionExecutor>();
  /** Notification channel types (ntfy, Telegram, …) and the service that sends through the configured ones. */
  readonly channelTypes: Map<string, ChannelDefinition>;
  readonly channels: ChannelSender;
  readonly log: Logger;
  readonly clock: Clock;
  readonly agentId: string;
  ruleErrors: RuleIssue[] = [];
  /** The last run-time error of each rule (match budget overruns, events that could not be processed), newest last. */
  readonly ruleRuntimeErrors = new Map<string, RuleRuntimeError>();
  paused = false;
  private readonly connections = new Set<Connection>();
  private readonly eventListeners = new Set<(e: PanoptesEvent) => void>();
  private readonly retention: RetentionSweeper;
  private readonly handler: RequestHandler;
  /** OAuth sign-ins started from monitor forms (their loopback listeners close with the engine). */
  private readonly signIns = new SignIns(this);
  private closed = false;
  private readonly maintenanceSources: MaintenanceSources;
  private unwatchConfig: () => void = () => {};
  /** Stops following the deploys run from the command line on this data folder (shown in Settings → Machines). */
  private readonly unfollowCliDeploys: () => void;
  /** Forwarding over MQTT; restarted on its own when its settings change. */
  readonly forwarding: ForwardingController;

  private unkeepHolds: () => void = () => {};
  private linkFields: Map<string, string> | null = null;
  /** Event type → the field its declaration names as the UI address that shows it best (`EventTypeDoc.link`). */
  private eventLinkFields(): Map<string, string> {
    if (!this.linkFields) {
      this.linkFields = new Map();
      for (const def of this.definitions.values()) for (const e of def.events) if (e.link) this.linkFields.set(e.type, e.link);
    }
    return this.linkFields;
  }

  private constructor(readonly dataDir: string, store: Store, config: ConfigStore, definitions: Map<string, MonitorDefinition>, opts: EngineOptions) {
    this.log = opts.log ?? createLogger('engine');
    this.clock = opts.clock ?? systemClock;
    this.store = store;
    this.config = config;
    this.definitions = definitions;
    this.actionKinds = ruleActionKinds(definitions);
    this.secrets = opts.secrets ?? new FileSecretStore(dataDir);
    this.agentId = opts.agentId ?? store.kv.get<string>('agentId') ?? os.hostname();
    if (!store.kv.get('agentId')) store.kv.set('agentId', this.agentId);
    this.paused = store.kv.get<boolean>('paused') ?? false;
    this.store.traces.limitPerRule = config.current.settings.traceLimitPerRule;

    this.channelTypes = opts.channelTypes ?? channelTypes();
    this.channels = new ChannelSender({
      definitions: this.channelTypes,
      channels: () => this.config.current.channels,
      secrets: this.secrets,
      kv: store.kv,
      log: this.log.child('channels'),
      clock: this.clock,
    });
    this.writer = new EventWriter(
      store,
      this.log.child('store'),
      (events) => this.afterStored(events),
      // The rules see new events in the transaction that stores them when they are caught up, and the fates of
      // finished actions are recorded in it too: one commit per batch of events instead of three.
      (events) => bothAfter(this.outbox.recordFinished(), this.processor.processAppended(events)),
    );
    this.flags = new FlagManager(store, this.clock, (e) => void this.writer.appendNow(SELF_SOURCE, e), (flags) => {
      this.broadcast('flags', flags);
      // A hold flag cleared (or set): the center releases what it held as one summary.
      this.notifications?.changed();
    });
    // Checks hold their downs, and rules with `context.maintenance` gate, by the settings' windows and the flag.
    this.maintenanceSources = { scheduled: () => this.config.current.settings.maintenance.windows, manual: () => this.flags.isSet(MAINTENANCE_FLAG) };
    setMaintenanceSources(this.maintenanceSources);
    this.host = new MonitorHost({
      definitions,
      stateFor: (id) => store.monitorState.forMonitor(id),
      versionsFor: (id) => store.versions.forMonitor(id),
      emit: async (id, e, state) => {
        await this.writer.emit(id, e, state);
      },
      log: this.log.child('monitor'),
      onHealth: (h) => {
        this.broadcast('health', h);
        // Constructed later than the monitor host: a health report during construction finds no forwarding yet.
        this.forwarding?.inventoryChanged();
      },
      saveSecrets: (id, values) => this.saveMonitorSecrets(id, values),
    });
    // The store keeps the last traceLimitPerRule traces of every rule (durably, and that is what the UI lists); a
    // second copy in the engine's memory would only hold on to events, so the engine keeps none.
    this.rules = new RuleEngine({ maxTracesPerRule: 0, actionKinds: this.actionKinds });
    this.ruleTests = new RuleTests(store.file, store.events, this.log.child('rule-test'), (testId, phase, done) => this.broadcast('ruleTest', { testId, phase, done }));
    this.loadRules();
    this.notifications = new NotificationCenter({
      store,
      clock: this.clock,
      log: this.log.child('notifications'),
      settings: () => this.config.current.settings.notifications,
      // The stored rows, not flags.list(): reading must not clear an expired flag mid-decision (its clearing calls back).
      flags: () => store.flags.all(),
      ruleName: (id) => {
        const r = this.ruleById(id) as { name?: string } | undefined;
        return r?.name || id;
      },
      ruleRouting: (id) => {
        const r = this.ruleById(id) as { then?: unknown[] } | undefined;
        const n = r?.then?.find((a): a is { notify: RuleRouting } => typeof a === 'object' && a !== null && 'notify' in a);
        if (!n) return undefined;
        const own: RuleRouting = {};
        if (Array.isArray(n.notify.channels)) own.channels = n.notify.channels;
        if (typeof n.notify.throughHolds === 'boolean') own.throughHolds = n.notify.throughHolds;
        return own;
      },
      eventInfo: (id) => {
        const e = store.events.get(id);
        return e ? { type: e.type, source: e.source, ts: Date.parse(e.ts), backfill: e.tags.includes(BACKFILL_TAG) } : null;
      },
      eventLink: (id) => {
        const e = store.events.get(id);
        if (!e) return null;
        const field = this.eventLinkFields().get(e.type);
        const link = field ? e.fields[field] : undefined;
        // Only an address inside the UI: a field an event carries is the monitor's data, not a place to send a click.
        return typeof link === 'string' && UI_LINK.test(link) ? link : null;
      },
      // Sends to phone/chat channels are actions in the channel's lane, like any other: one code path (retries,
      // idempotency key, dead letters); the dispatcher reports each attempt back (onOutcome below).
      channels: opts.outboundChannels ?? {
        list: () => this.config.current.channels.filter((c) => c.enabled).map((c) => ({ id: c.id, type: c.type, name: c.name })),
        enqueue: (id, message) => enqueueChannelSend(store, id, message),
        wake: () => this.outbox.wake(),
        queued: (noticeId, channelId) => {
          const st = store.outbox.get(channelSendKey(noticeId, channelId))?.status;
          if (!st) return null;
          return st === 'done' ? 'done' : st === 'failed' || st === 'discarded' || st === 'skipped' ? 'failed' : 'pending';
        },
      },
      push: (n) => this.broadcast('notification', n),
      pushStatus: (st) => this.broadcast('notificationStatus', st),
    });
    this.executors.set('notify', notifyExecutor(() => this.notifications));
    this.executors.set('webhook', webhookExecutor());
    this.executors.set('command', commandExecutor(() => this.config.current.settings.commandsEnabled));
    this.addMonitorActions();
    this.executors.set('channel', channelExecutor(this.channels));
    this.outbox = new OutboxDispatcher(store, this.executors, this.log.child('actions'), {
      retryBaseMs: opts.actionRetry?.baseMs,
      retryCapMs: opts.actionRetry?.capMs,
      onDeadLetter: (item, error) => this.actionFailed(item, error),
      onOutcome: (item, o) => {
        const send = channelSendOf(item);
        if (send) this.notifications.channelOutcome(send.noticeId, send.channelId, o);
      },
      onLaneHealth: () => this.broadcast('actions', actionsStatus(this)),
      commitPending: () => this.writer.pending,
    });
    this.processor = new RuleProcessor(
      store,
      this.rules,
      this.flags,
      this.clock,
      this.log.child('rules'),
      () => this.outbox.wake(),
      (id) => {
        const e = store.events.get(id);
        if (e) this.broadcast('event', forList(stripSeq(e)));
      },
      (a) => this.outbox.laneOf(a),
      (err) => {
        this.ruleRuntimeErrors.delete(err.ruleId);
        this.ruleRuntimeErrors.set(err.ruleId, err);
        if (this.ruleRuntimeErrors.size > 1_000) this.ruleRuntimeErrors.delete(this.ruleRuntimeErrors.keys().next().value!);
      },
      this.outbox,
    );
    this.retention = new RetentionSweeper(store, () => this.config.current, this.log.child('retention'));
    this.forwarding = new ForwardingController(this, opts.forward, (s) => this.broadcast('forwarding', s), (agentId) => this.broadcast('fleet', { agentId }));
    const deployments = createDeployments(this);
    this.unfollowCliDeploys = deployments.follow();
    this.handler = dispatch(createHandlers(this, this.signIns, deployments));
    config.onExternalChange = (change) => this.configChangedOutside(change);
  }

  /** Why config.json on disk is not in force (a hand edit that does not validate), or null. */
  configProblem(): string | null {
    const e = this.config.loadError;
    return e ? `${e.file} line ${e.line}: ${e.problem} (running on the configuration before that edit)` : null;
  }

  /**
   * config.json was changed by another process (`panoptes opml import`, `rules import`, an editor): bring rules,
   * monitors and settings in line with it and tell the open windows, or tell them why it was refused.
   */
  private configChangedOutside(change: ExternalChange): void {
    if (this.closed) return;
    if (change.kind === 'invalid') {
      this.broadcast('config', { problem: this.configProblem() });
      return;
    }
    this.configChanged(change.before, change.after);
  }

  /** The configuration changed from `before` to `after` (outside the app, or by a change from the desktop). */
  configChanged(before: ConfigDocument, after: ConfigDocument): void {
    if (this.closed) return;
    this.store.traces.limitPerRule = after.settings.traceLimitPerRule;
    if (JSON.stringify(before.rules) !== JSON.stringify(after.rules)) {
      this.loadRules();
      this.broadcast('rules', { changed: true });
    }
    const old = new Map(before.monitors.map((m) => [m.id, JSON.stringify(m)]));
    const now = new Set(after.monitors.map((m) => m.id));
    const restarts: Promise<void>[] = [];
    for (const m of after.monitors) if (old.get(m.id) !== JSON.stringify(m)) restarts.push(this.restartMonitor(m.id));
    for (const id of old.keys()) if (!now.has(id)) restarts.push(this.host.stop(id));
    void Promise.allSettled(restarts).then(() => {
      if (this.closed) return;
      this.broadcast('monitors', this.config.current.monitors.map((m) => monitorInfoOf(this, m)));
    });
    this.broadcast('config', { problem: null });
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const log = opts.log ?? createLogger('engine');
    secureDataDir(opts.dataDir, (m) => log.warn(m));
    // A folder with a config was in use before: its database must hold history (an empty one is refused).
    const store = openStore(opts.dataDir, { expectHistory: existsSync(path.join(opts.dataDir, 'config.json')), warn: (m) => log.warn(m) });
    try {
      const config = await ConfigStore.open(opts.dataDir, log.child('config'));
      if (config.created) {
        await config.update((d) => {
          if (opts.seedDefaultRules !== false) d.rules = defaultRules() as typeof d.rules;
          markAllMigrated(d);
        });
      } else await migrateConfig(config, log.child('config'));
      const definitions = opts.definitions ?? (await loadMonitorTypes(log));
      const engine = new Engine(opts.dataDir, store, config, definitions, { ...opts, log });
      await engine.startUp(opts.startMonitors !== false);
      return engine;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /** Numbers about Panoptes itself, for the `panoptes.health` events of the system monitor. */
  stats(): { eventsStored: number; processingLagMs: number | null; storeBytes: number | null } {
    const next = this.store.events.readAfter(this.processor.cursor, 1)[0];
    let storeBytes: number | null = null;
    try {
      storeBytes = ['', '-wal'].reduce((sum, ext) => sum + (existsSync(this.store.file + ext) ? statSync(this.store.file + ext).size : 0), 0);
    } catch {
      storeBytes = null;
    }
    return { eventsStored: this.store.events.maxSeq(), processingLagMs: next ? Math.max(0, Date.now() - Date.parse(next.receivedAt)) : 0, storeBytes };
  }

  private async startUp(startMonitors: boolean): Promise<void> {
    setPanoptesStatsProvider(() => this.stats());
    this.keepHostHolds();
    this.unwatchConfig = this.config.watch();
    await this.forwarding.start();
    this.flags.schedule();
    this.notifications.start();
    this.writer.scheduleIndexing(); // catch up on anything stored but not indexed before a crash
    this.processor.wake();
    this.outbox.wake();
    this.retention.start();
    if (startMonitors) await this.syncMonitors();
  }

  /**
   * A server's "wait until" (429/503 + Retry-After, held by the per-host limiter for every page and feed on it) is
   * kept in the store and given back at start, before any monitor checks: a restart does not ask early.
   */
  private keepHostHolds(): void {
    for (const h of this.store.kv.get<HostHold[]>(HOST_HOLDS_KEY) ?? []) {
      if (typeof h?.host === 'string' && Number.isFinite(h.until) && h.until > Date.now()) sharedHostLimiter.holdOff(h.host, h.until, String(h.reason ?? ''));
    }
    this.unkeepHolds = sharedHostLimiter.onHold(() => {
      if (!this.closed) this.store.kv.set(HOST_HOLDS_KEY, sharedHostLimiter.holds());
    });
  }

  /** Bring running instances in line with the config document (and the paused switch). */
  async syncMonitors(): Promise<void> {
    const wanted = new Map(this.config.current.monitors.map((m) => [m.id, m]));
    for (const h of this.host.allHealth()) {
      if (!wanted.has(h.monitorId) || !wanted.get(h.monitorId)!.enabled) await this.host.stop(h.monitorId);
    }
    for (const m of wanted.values()) {
      if (!m.enabled) continue;
      if (this.paused) {
        await this.host.stop(m.id, 'paused');
        this.host.markPaused(this.specOf(m));
      } else await this.host.start(this.specOf(m));
    }
  }

  async restartMonitor(id: string): Promise<void> {
    const m = this.config.current.monitors.find((x) => x.id === id);
    if (!m || !m.enabled) return this.host.stop(id);
    if (this.paused) return this.host.markPaused(this.specOf(m));
    await this.host.start(this.specOf(m));
  }

  specOf(m: MonitorEntry) {
    return { id: m.id, type: m.type, name: m.name, config: m.config, secrets: this.secrets.get(m.id) };
  }

  /**
   * Secrets a running monitor or its action changed (a renewed or refused OAuth grant). When that changes who it is
   * signed in as, or that it must sign in again, the monitor list is pushed so the UI says so at once.
   */
  private saveMonitorSecrets(id: string, values: Record<string, string | null>): void {
    const m = this.config.current.monitors.find((x) => x.id === id);
    const def = m ? this.definitions.get(m.type) : undefined;
    const before = JSON.stringify(signedInOf(def, this.secrets.get(id), m?.config) ?? null);
    this.secrets.set(id, values);
    if (!this.closed && JSON.stringify(signedInOf(def, this.secrets.get(id), m?.config) ?? null) !== before) {
      this.broadcast('monitors', this.config.current.monitors.map((x) => monitorInfoOf(this, x)));
    }
  }

  secretFieldsOf(type: string): string[] {
    const def = this.definitions.get(type);
    return def ? secretFields(def) : [];
  }

  healthOf(id: string): MonitorHealth {
    return this.host.health(id);
  }

  /** This instance as its retained status describes it to the other machines (Settings → Machines). */
  inventory(): AgentInventory {
    let lastEvent: AgentInventory['lastEvent'] = null;
    const max = this.store.events.maxSeq();
    const e = max > 0 ? this.store.events.readAfter(max - 1, 1)[0] : undefined;
    if (e) lastEvent = { ts: e.ts, type: e.type, title: e.title.slice(0, 200) };
    return {
      monitors: this.config.current.monitors.map((m) => {
        const h = this.healthOf(m.id);
        return { id: m.id, type: m.type, name: m.name, enabled: m.enabled, status: h.status, message: h.message };
      }),
      lastEvent,
      paused: this.paused,
    };
  }

  async setPaused(paused: boolean): Promise<void> {
    this.paused = paused;
    this.store.kv.set('paused', paused);
    await this.syncMonitors();
    this.broadcast('paused', { paused });
    // Other machines are told: the status (Settings → Machines) and, on an agent managed from a desktop, its
    // configuration state (the desktop's Monitors view of this machine).
    this.forwarding?.inventoryChanged();
    this.forwarding?.remoteConfig()?.pausedChanged();
  }

  /** Rules by id for the notification center's per-notification questions, rebuilt when the config is replaced. */
  private rulesIndex: { of: readonly unknown[]; byId: Map<string, ConfigDocument['rules'][number]> } | null = null;

  private ruleById(id: string): ConfigDocument['rules'][number] | undefined {
    const rules = this.config.current.rules;
    // Every config change replaces the document (parsed anew), so the array's identity says when to rebuild.
    if (this.rulesIndex?.of !== rules) this.rulesIndex = { of: rules, byId: new Map(rules.map((r) => [r.id, r])) };
    return this.rulesIndex.byId.get(id);
  }

  loadRules(): void {
    const { rules, errors } = validateRules(this.config.current.rules as unknown[], this.actionKinds);
    this.ruleErrors = errors;
    for (const e of errors) this.log.warn(`rule ${e.ruleId ?? '?'} not loaded: ${e.path}: ${e.message}`);
    // Rules edited by hand never pass through the builder's warnings: the log says them.
    for (const r of rules) for (const w of ruleWarnings(r)) this.log.warn(`rule ${r.id}: ${w.path}: ${w.message}`);
    this.rules.setRules(rules);
    this.processor?.rulesChanged();
  }

  /** Emit an event of Panoptes' own (or of a shell signal) through the same durable path as a monitor's. */
  emit(source: string, event: NewEvent): Promise<StoredEvent | null> {
    return this.writer.emit(source, event);
  }

  /** Take in an event made on another machine; a redelivered id is dropped. */
  ingest(event: PanoptesEvent): Promise<StoredEvent | null> {
    return this.writer.ingest(event);
  }

  onEvent(listener: (e: PanoptesEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private afterStored(events: StoredEvent[]): void {
    for (const e of events) {
      const plain = stripSeq(e);
      // Pages get the event capped like a list's (a page asks for the whole of one it shows); listeners get it whole.
      this.broadcast('event', forList(plain));
      for (const l of this.eventListeners) {
        try {
          l(plain);
        } catch (err) {
          this.log.warn(`event listener failed: ${(err as Error).message}`);
        }
      }
    }
    if (events.length) this.processor.stored(events[events.length - 1]!.seq);
  }

  /**
   * An action became a dead letter: say so as an event rules can act on. Not for actions that were themselves
   * fired by such an event, so a rule that reports failures to a failing destination cannot feed itself.
   */
  private actionFailed(item: OutboxItem, error: string): void {
    if (this.closed) return;
    this.broadcast('actions', actionsStatus(this));
    // A notification's send to a channel: its cause is the event the notification is about.
    const send = channelSendOf(item);
    const causeId = send ? (this.store.notifications.get(send.noticeId)?.event_id ?? null) : item.eventId;
    const cause = !causeId || causeId.startsWith('at:') ? null : this.store.events.get(causeId);
    if (cause?.type === ACTION_FAILED) return;
    const kind = Object.keys(item.action)[0] ?? 'unknown';
    const channelName = send ? (this.config.current.channels.find((c) => c.id === send.channelId)?.name ?? send.channelId) : '';
    void this.emit(SELF_SOURCE, {
      type: ACTION_FAILED,
      title: send ? `A notification could not be sent to ${channelName}` : `A ${kind} action of rule ${item.ruleId} failed for good`,
      body: error,
      fields: { ruleId: item.ruleId, eventId: item.eventId, actionIndex: item.actionIndex, kind, destination: item.lane, error, attempts: item.attempts + 1 },
      tags: ['panoptes', 'action-failed'],
    }).catch((err) => this.log.warn(`could not record that an action failed: ${(err as Error).message}`));
  }


  broadcast<T extends Topic>(topic: T, data: Pushes[T]): void {
    for (const c of this.connections) c.push(topic, data);
  }

  /** Serve the protocol on a channel (a WebSocket, a MessagePort). */
  connect(channel: Channel): Connection {
    const conn = serveChannel(channel, this.handler, () => this.connections.delete(conn));
    this.connections.add(conn);
    return conn;
  }

  /** In-process calls (CLI commands that opened the engine themselves, tests). */
  request = <M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> => this.handler(method, params) as Promise<ResultOf<M>>;

  /**
   * The actions monitor types provide (mail: `email`, irc: `chat`, mqtt: `mqtt`), each sending through the
   * monitors of its type the user set up. An engine kind of the same name wins; a clash is logged.
   */
  private addMonitorActions(): void {
    for (const def of this.definitions.values()) {
      for (const [kind, action] of Object.entries(def.actions ?? {})) {
        if (this.executors.has(kind)) {
          this.log.warn(`monitors/${def.type}: action "${kind}" is already provided; skipped`);
          continue;
        }
        const host: ActionHost = {
          accounts: () => this.config.current.monitors.filter((m) => m.type === def.type).map((m) => ({ id: m.id, name: m.name, config: m.config, secrets: this.secrets.get(m.id) })),
          saveSecrets: (accountId, values) => {
            if (this.config.current.monitors.some((m) => m.id === accountId && m.type === def.type)) this.saveMonitorSecrets(accountId, values);
          },
          mqttBroker: () => actionBroker(this),
        };
        this.executors.set(kind, action.executor(host));
      }
    }
  }

  /** Where the monitor types' routes are served in this process (the agent's server, the desktop's route server). */
  routesAddress: { url: string | null; problem: string | null } = { url: null, problem: 'nothing serves monitor routes in this process' };

  /** Tell the forms where routes are served (`url` without a trailing slash), or why they are not. */
  servesRoutesAt(url: string | null, problem: string | null = null): void {
    this.routesAddress = { url: url?.replace(/\/+$/, '') ?? null, problem: url ? null : problem };
  }

  /** The HTTP routes of the monitor types (webhook, heartbeat), longest prefix first, for whichever server serves them. */
  monitorRoutes(): MonitorRoute[] {
    return [...this.definitions.values()].flatMap((d) => d.routes ?? []).sort((a, b) => b.prefix.length - a.prefix.length);
  }

  newNotificationId(): string {
    return newId();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unkeepHolds();
    this.signIns.close();
    this.unwatchConfig();
    this.unfollowCliDeploys();
    this.ruleTests.close();
    for (const c of this.connections) c.close();
    await this.host.stopAll();
    await this.forwarding.stop();
    this.writer.flush();
    this.processor.close();
    // Actions under way are stopped (and left to be retried on the next start) before their connections close, so
    // closing a connection is not mistaken for a failed attempt.
    await this.outbox.close();
    for (const e of this.executors.values()) await e.close?.().catch((err: Error) => this.log.warn(`closing an action: ${err.message}`));
    await this.notifications.close();
    this.flags.dispose();
    this.retention.stop();
    setMaintenanceSources(null, this.maintenanceSources);
    this.store.close();
  }
}
