// Forwarding between Panoptes instances over MQTT, wired to one engine: the forwarder (this instance's events out
// to `panoptes/<agent-id>/events`), receivers (other instances' events in), and an optional embedded broker.
// Nothing here can stop the engine from starting: a bad setting or an unreachable broker is logged and waited out.
import type { ForwardingHost } from './host.js';
import type { ForwardingDoc } from '../../core/config/schema.js';
import { SELF_SOURCE } from '../../core/event.js';
import { loadMqtt, parseBrokerUrl, redactUrl, secretKeyFor, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import { compileForwardFilter } from './filter.js';
import { Forwarder, type ForwarderStatus } from './forwarder.js';
import { Receiver, type ReceiverStatus } from './receiver.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { AGENT_ID, toAgentId } from './wire.js';
import { appRelease } from './release.js';
import type { PeerBook } from './peers.js';
import type { Logger } from '../../core/log.js';
import { RemoteConfigAgent } from '../fleet/agent-side.js';
import { DeskSide } from '../fleet/desk-side.js';
import { AgentKeys, loadIdentity, loadOrCreateAgentKey, type FleetIdentity } from '../fleet/identity.js';
import { signedJson } from '../fleet/wire.js';
import { sealBatch } from '../fleet/seal.js';
import { StampClock } from '../fleet/freshness.js';
import { forgottenBefore } from '../retention.js';

export { FORWARD_CURSOR } from './forwarder.js';

/** Owner of forwarding's entries in the secret store. */
export const SECRETS_OWNER = 'forwarding';

/** `panoptes agent --forward URL [--agent-id NAME]`: the forward target for this run, over the config's. */
export interface ForwardTarget {
  url: string;
  agentId?: string | undefined;
}

export interface ForwardingStatus {
  forward: ForwarderStatus | null;
  receivers: ReceiverStatus[];
  embeddedBroker: { host: string; port: number; running: boolean; error: string | null } | null;
  /** Why something configured is not running, in the words the log used. */
  problems: string[];
}

export interface StartForwardingOptions {
  forward?: ForwardTarget | undefined;
  /** Shared across restarts, so who was seen is not forgotten when settings change. */
  peers?: PeerBook | undefined;
  /** Called when the status may have changed (callers coalesce). */
  onChange?: (() => void) | undefined;
  /** An agent's configuration (or the fate of a change sent to it) changed. */
  onFleetChange?: ((agentId: string) => void) | undefined;
}

export interface ForwardingHandle {
  status(): ForwardingStatus;
  /** Something the retained status tells changed (a monitor's health): publish it again soon. */
  inventoryChanged(): void;
  /** One per broker this instance receives from: the agents' configurations there, and sending them changes. */
  desks(): DeskSide[];
  /** This instance as an agent managed from a desktop (when deployed so and forwarding). */
  remoteConfig(): RemoteConfigAgent | null;
  stop(): Promise<void>;
}

export interface ResolvedBroker {
  address: BrokerAddress;
  tls?: TlsFiles | undefined;
}

/** A broker from settings, with its password from the secret store (never from the config document). */
export function resolveBroker(engine: ForwardingHost, ref: { url: string; tls?: TlsFiles | undefined }): ResolvedBroker {
  const address = parseBrokerUrl(ref.url);
  if (address.password === undefined) {
    const stored = engine.secrets.get(SECRETS_OWNER)[secretKeyFor(address)];
    if (stored !== undefined) address.password = stored;
  }
  return { address, tls: ref.tls };
}

/** The broker the rules' `mqtt` action publishes to: `actionBroker`, else the forward broker; null when neither. */
export function actionBroker(engine: ForwardingHost): ResolvedBroker | null {
  const f = engine.config.current.forwarding;
  const ref = f?.actionBroker ?? f?.forward;
  return ref ? resolveBroker(engine, ref) : null;
}

/**
 * A password typed into a broker URL in the config document is moved to the secret store and the URL rewritten
 * without it, so the document (which is exported, shared, backed up) never keeps it.
 */
async function movePasswordsToSecrets(engine: ForwardingHost): Promise<void> {
  const f = engine.config.current.forwarding;
  if (!f) return;
  const refs = [f.forward, f.actionBroker, ...f.subscribe].filter((r): r is NonNullable<typeof r> => !!r);
  const found: Record<string, string> = {};
  const rewrite = new Map<string, string>();
  for (const r of refs) {
    let a: BrokerAddress;
    try {
      a = parseBrokerUrl(r.url);
    } catch {
      continue;
    }
    if (a.password === undefined) continue;
    found[secretKeyFor(a)] = a.password;
    const u = new URL(a.url);
    if (a.username !== undefined) u.username = encodeURIComponent(a.username);
    rewrite.set(r.url, u.href.replace(/\/$/, ''));
  }
  if (!rewrite.size) return;
  engine.secrets.set(SECRETS_OWNER, found);
  const fix = (r: { url: string } | undefined) => {
    if (r && rewrite.has(r.url)) r.url = rewrite.get(r.url)!;
  };
  await engine.config.update((d) => {
    if (!d.forwarding) return;
    fix(d.forwarding.forward);
    fix(d.forwarding.actionBroker);
    d.forwarding.subscribe.forEach(fix);
  });
  engine.log.info(`moved ${rewrite.size} broker password(s) from the config document to the secret store`);
}

export async function startForwarding(engine: ForwardingHost, overrides: StartForwardingOptions = {}): Promise<ForwardingHandle> {
  const base = engine.log.child('forwarding');
  const problems: string[] = [];
  // What stops a part of forwarding from running is also shown in the settings, not only in the log.
  const log: Logger = {
    debug: (m, d) => base.debug(m, d),
    info: (m, d) => base.info(m, d),
    warn: (m, d) => base.warn(m, d),
    error: (m, d) => {
      problems.push(m);
      base.error(m, d);
    },
    child: (scope) => base.child(scope),
  };
  try {
    await movePasswordsToSecrets(engine);
  } catch (err) {
    log.warn(`could not move broker passwords out of the config document: ${(err as Error).message}`);
  }
  const cfg: ForwardingDoc = engine.config.current.forwarding ?? { subscribe: [] };
  const stops: (() => Promise<void>)[] = [];
  let forwarder: Forwarder | null = null;
  let remoteConfig: RemoteConfigAgent | null = null;
  const desks: DeskSide[] = [];
  const receivers: Receiver[] = [];
  let embedded: EmbeddedBroker | null = null;
  let embeddedError: string | null = null;

  if (cfg.embeddedBroker?.enabled) {
    const s = engine.secrets.get(SECRETS_OWNER);
    const password = s['embeddedBroker.password'];
    try {
      embedded = await startEmbeddedBroker({
        host: cfg.embeddedBroker.host,
        port: cfg.embeddedBroker.port,
        log,
        credentials: password ? { username: s['embeddedBroker.username'] ?? 'panoptes', password } : undefined,
      });
      const e = embedded;
      stops.push(() => e.close());
    } catch (err) {
      embeddedError = (err as Error).message;
      log.error(`the embedded MQTT broker could not listen on ${cfg.embeddedBroker.host}:${cfg.embeddedBroker.port}: ${embeddedError}`);
    }
  }

  const forwardRef = overrides.forward ? { url: overrides.forward.url } : cfg.forward;
  // mqtt.js is loaded only here, when this engine forwards or receives (its clients connect synchronously below).
  if (forwardRef || cfg.subscribe.length || embedded) await loadMqtt();
  const forwardAgentId = toAgentId(overrides.forward?.agentId ?? cfg.forward?.agentId ?? engine.agentId);
  if (forwardRef) {
    const { filter, errors } = compileForwardFilter(cfg.forward?.filter);
    if (errors.length) {
      // Forwarding with a filter the user did not mean could send what they wanted kept; the log keeps the events.
      log.error(`forwarding is off until the filter is fixed: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    } else if (!AGENT_ID.test(forwardAgentId)) {
      log.error(`forwarding is off: agent id ${JSON.stringify(forwardAgentId)} must use letters, digits and . _ - only`);
    } else {
      try {
        const broker = resolveBroker(engine, forwardRef);
        // Managed from a desktop: what this agent says on the broker (status, configuration state, answers) is
        // signed with its own key, so the desktop can tell it from what another broker user publishes.
        const controller = engine.config.current.fleet?.controller;
        const agentKey: FleetIdentity | null = controller ? loadOrCreateAgentKey(engine.dataDir) : null;
        const statusClock = agentKey ? new StampClock(engine.store.kv, 'fleet:epoch:status', (m) => log.warn(m)) : null;
        forwarder = new Forwarder({
          store: engine.store,
          log,
          agentId: forwardAgentId,
          broker: broker.address,
          tls: broker.tls,
          filter,
          keepaliveSeconds: cfg.forward?.keepaliveSeconds,
          version: appRelease().version,
          inventory: () => ({ release: appRelease().release, ...(engine.inventory?.() ?? {}) }),
          onStored: (listener) => engine.onEvent(() => listener()),
          onChange: overrides.onChange,
          // Stamped too, so a status recorded earlier and published again is told from the newest (fleet/freshness.ts).
          encodeStatus: agentKey && statusClock ? (s, kind) => signedJson({ ...s, stamp: kind === 'online' ? statusClock.next() : kind === 'will' ? (statusClock.newEpoch(), statusClock.last()) : statusClock.last() }, agentKey.privateKey) : undefined,
          sealEvents: agentKey ? (texts) => sealBatch(texts, forwardAgentId, agentKey.privateKey) : undefined,
        });
        forwarder.start();
        const f = forwarder;
        stops.push(() => f.stop());
        if (controller && agentKey) {
          const rc = new RemoteConfigAgent({ host: engine, broker: broker.address, tls: broker.tls, agentId: forwardAgentId, controller, agentKey, log: log.child('remote-config') });
          rc.start();
          remoteConfig = rc;
          stops.push(() => rc.stop());
        }
      } catch (err) {
        log.error(`forwarding is off: ${redactUrl((err as Error).message)}`);
      }
    }
  }

  const subscribeRefs: { url: string; tls?: TlsFiles | undefined; clientId?: string | undefined }[] = [...cfg.subscribe];
  // With an embedded broker and nothing else configured, this instance is the hub: listen on it.
  if (embedded && !subscribeRefs.length) subscribeRefs.push({ url: `mqtt://127.0.0.1:${embedded.port}` });
  const selfId = forwarder ? forwardAgentId : null;
  // The keys of the agents deployed from here: their statuses, configuration states and answers must verify.
  const agentKeys = new AgentKeys(engine.dataDir, engine.store.kv);
  for (const ref of subscribeRefs) {
    try {
      const broker = resolveBroker(engine, ref);
      if (embedded && !broker.address.password) {
        const s = engine.secrets.get(SECRETS_OWNER);
        if (s['embeddedBroker.password'] && /^mqtt:\/\/127\.0\.0\.1:/.test(broker.address.url)) {
          broker.address.username = s['embeddedBroker.username'] ?? 'panoptes';
          broker.address.password = s['embeddedBroker.password'];
        }
      }
      const r = new Receiver({
        broker: broker.address,
        tls: broker.tls,
        clientId: ref.clientId ?? `panoptes-rx-${toAgentId(engine.agentId)}`,
        selfAgentId: selfId,
        log,
        kv: engine.store.kv,
        ingest: (e) => engine.ingest(e),
        emit: (e) => engine.emit(SELF_SOURCE, e),
        peers: overrides.peers,
        onChange: overrides.onChange,
        checkStatus: (agentId, payload) => agentKeys.checkState(agentId, payload, 'status'),
        checkEvent: (agentId, payload) => agentKeys.checkEvent(agentId, payload),
        checkEmptyStatus: (agentId) => agentKeys.checkEmpty(agentId, 'status'),
        forgottenBefore: (source) => forgottenBefore(engine.store.kv, source),
      });
      r.start();
      receivers.push(r);
      stops.push(() => r.stop());
      const desk = new DeskSide({
        broker: broker.address,
        tls: broker.tls,
        clientId: `panoptes-ctl-${toAgentId(engine.agentId)}-${desks.length}`,
        identity: () => loadIdentity(engine.dataDir),
        agentKeys,
        log,
        onChange: overrides.onFleetChange,
        onRefused: (agentId, what, why) => overrides.peers?.refused(agentId, what, why),
      });
      desk.start();
      desks.push(desk);
      stops.push(() => desk.stop());
    } catch (err) {
      log.error(`cannot receive from ${redactUrl(ref.url)}: ${redactUrl((err as Error).message)}`);
    }
  }

  let stopped = false;
  let inventoryTimer: NodeJS.Timeout | null = null;
  stops.push(async () => {
    if (inventoryTimer) clearTimeout(inventoryTimer);
  });
  // Health changes come in bursts (every monitor at start), events in streams: at most one status a second.
  const inventoryChanged = () => {
    if (stopped || !forwarder || inventoryTimer) return;
    inventoryTimer = setTimeout(() => {
      inventoryTimer = null;
      forwarder?.publishOnline();
    }, 1_000);
    inventoryTimer.unref?.();
  };
  if (forwarder) {
    // The status tells the last event.
    const off = engine.onEvent(() => inventoryChanged());
    stops.push(async () => off());
  }
  return {
    inventoryChanged,
    desks: () => [...desks],
    remoteConfig: () => remoteConfig,
    status: () => ({
      forward: forwarder?.status() ?? null,
      receivers: receivers.map((r) => r.status()),
      embeddedBroker: embedded
        ? { host: embedded.host, port: embedded.port, running: !stopped, error: null }
        : cfg.embeddedBroker?.enabled
          ? { host: cfg.embeddedBroker.host, port: cfg.embeddedBroker.port, running: false, error: embeddedError }
          : null,
      problems: [...problems],
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Receivers and forwarder first (they use the broker), the embedded broker last.
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch (err) {
          log.warn(`stopping forwarding: ${(err as Error).message}`);
        }
      }
    },
  };
}
