import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { MONITOR_ID, monitorIdFor } from '../../core/config/schema.js';
import { ConfigInvalidError, parseMonitorConfig, secretFields } from '../../core/monitor-host.js';
import { validateRule } from '../../rules/index.js';
import { AskTimeout, FleetConflict, type DeskSide } from '../fleet/desk-side.js';
import type { AskMethod } from '../fleet/wire.js';
import { forgetAgentKey, loadIdentity } from '../fleet/identity.js';
import type { Deployments } from '../fleet/deployments.js';
import type { HandlerHost } from './host.js';

/**
 * Agents' monitors and rules, changed from this desktop. What can be checked here is checked before anything is
 * sent (the same build's monitor types and rule validation), so most mistakes show at the field; the agent checks
 * again and answers applied or refused.
 */
export function fleetHandlers(engine: HandlerHost, deployments: Pick<Deployments, 'running' | 'forget'>) {
  const deskOf = (agentId: string): DeskSide => {
    const d = engine.forwarding.desks().find((x) => x.knows(agentId));
    if (!d) throw new RequestError('not_found', `agent ${agentId} has not published its configuration on any broker this desktop receives from (is it deployed from here, and online at least once?)`);
    return d;
  };
  const change = async (agentId: string, edit: Parameters<DeskSide['change']>[1], ifRevision: string | undefined, opts: { paused?: boolean } = {}) => {
    try {
      return await deskOf(agentId).change(agentId, edit, ifRevision, opts);
    } catch (err) {
      if (err instanceof RequestError) throw err;
      if (err instanceof FleetConflict) throw new RequestError('conflict', err.message);
      throw new RequestError('unavailable', (err as Error).message);
    }
  };
  /**
   * A question to an agent, answered there. An agent known to be offline is not asked (the question is not kept for
   * it); one that does not answer in time is said so, with what else came in its name.
   */
  const ask = async <T>(agentId: string, method: AskMethod, params: Record<string, unknown>, timeoutMs: number, what: string): Promise<T & { verified: boolean }> => {
    const desk = deskOf(agentId);
    const peer = engine.forwarding.peers.list().find((p) => p.agentId === agentId);
    if (peer?.state === 'offline') {
      throw new RequestError('unavailable', `${agentId} is offline (last heard from at ${peer.lastSeen}${peer.reason ? `: ${peer.reason}` : ''}); ${what} runs on that machine, so try again when it is back`);
    }
    let got;
    try {
      got = await desk.ask(agentId, method, params, timeoutMs);
    } catch (err) {
      if (err instanceof AskTimeout) {
        throw new RequestError('unavailable', `${err.message}: it may have gone offline, or be busy; nothing was changed there${err.ignored ? `. Meanwhile ${err.ignored}` : ''}`);
      }
      throw new RequestError('unavailable', (err as Error).message);
    }
    const { answer, verified } = got;
    if (!answer.ok) {
      const code = answer.error?.code === 'invalid' ? 'invalid' : 'unavailable';
      throw new RequestError(code, `${agentId}: ${answer.error?.message ?? 'failed'}`);
    }
    return { ...(answer.result as T), verified };
  };
  return {
    'fleet.testMonitor': async (p) => {
      const def = engine.definitions.get(p.monitor.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.monitor.type}"`);
      const config = p.monitor.config ?? {};
      const sent = secretFields(def).filter((k) => config[k] !== undefined && config[k] !== '');
      if (sent.length) throw new RequestError('invalid', `${sent.join(', ')} cannot be sent to another machine over the broker; set it there`, sent.map((k) => ({ path: `$.${k}`, message: 'set this on that machine' })));
      // The dry run has 20 s there (as here); the rest is the way over the broker and back.
      return ask(p.agentId, 'monitors.test', { type: def.type, config, ...(p.monitor.id ? { id: p.monitor.id } : {}) }, p.timeoutMs ?? 35_000, '"Test now"');
    },
    'fleet.checkNow': (p) => ask(p.agentId, 'monitors.checkNow', { id: p.id }, p.timeoutMs ?? 15_000, '"Check now"'),
    'fleet.events': (p) => ask(p.agentId, 'events.recent', { limit: p.limit ?? 50, ...(p.source ? { source: p.source } : {}) }, p.timeoutMs ?? 15_000, 'reading its events'),
    'fleet.health': (p) => ask(p.agentId, 'monitors.health', {}, p.timeoutMs ?? 15_000, 'reading its health'),
    'fleet.list': () => {
      const id = loadIdentity(engine.dataDir);
      const machines = engine.forwarding.desks().flatMap((d) =>
        d.agents().map((agentId) => {
          const v = d.view(agentId)!;
          return { agentId, broker: d.broker, paired: v.paired, agentRevision: v.agentRevision, pending: v.pending !== null, paused: v.paused, last: v.last };
        }),
      );
      return { publicKey: id?.publicKey ?? null, keyId: id?.keyId ?? null, machines };
    },
    'fleet.get': (p) => deskOf(p.agentId).view(p.agentId)!,
    'fleet.saveMonitor': async (p) => {
      const def = engine.definitions.get(p.monitor.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.monitor.type}"`);
      const name = p.monitor.name.trim();
      if (!name) throw new RequestError('invalid', 'a monitor needs a name', [{ path: '$.name', message: 'required' }]);
      const config = p.monitor.config ?? {};
      const sent = secretFields(def).filter((k) => config[k] !== undefined && config[k] !== '');
      if (sent.length) throw new RequestError('invalid', `${sent.join(', ')} cannot be sent to another machine over the broker; set it there`, sent.map((k) => ({ path: `$.${k}`, message: 'set this on that machine' })));
      return change(
        p.agentId,
        (d) => {
          const ids = new Set(d.monitors.map((m) => String(m.id)));
          const id = p.monitor.id ?? monitorIdFor(def.type, name, ids);
          if (!MONITOR_ID.test(id)) throw new RequestError('invalid', `monitor id "${id}" is malformed`);
          const i = d.monitors.findIndex((m) => m.id === id);
          const entry = { ...(i >= 0 ? d.monitors[i] : {}), id, type: def.type, name, enabled: p.monitor.enabled ?? (i >= 0 ? d.monitors[i]!.enabled !== false : true), config };
          if (i >= 0 && d.monitors[i]!.type !== def.type) throw new RequestError('invalid', `monitor "${id}" there is of type ${String(d.monitors[i]!.type)}, not ${def.type}`);
          // The secrets it has there are not known here: only fields the form can check without them are checked.
          try {
            parseMonitorConfig(def, { ...config, ...Object.fromEntries(secretFields(def).map((k) => [k, 'set-there'])) });
          } catch (err) {
            if (err instanceof ConfigInvalidError) throw new RequestError('invalid', err.message, err.issues);
            throw err;
          }
          if (i >= 0) d.monitors[i] = entry;
          else d.monitors.push(entry);
        },
        p.ifRevision,
      );
    },
    'fleet.removeMonitor': (p) => change(p.agentId, (d) => void (d.monitors = d.monitors.filter((m) => m.id !== p.id)), p.ifRevision),
    'fleet.saveRule': (p) => {
      const r = validateRule(p.rule, engine.actionKinds);
      if (!r.rule || r.errors.length) throw new RequestError('invalid', `the rule is not valid: ${r.errors[0]?.path}: ${r.errors[0]?.message}`, r.errors);
      const rule = p.rule as Record<string, unknown> & { id: string };
      return change(
        p.agentId,
        (d) => {
          const i = d.rules.findIndex((x) => x.id === rule.id);
          if (i >= 0) d.rules[i] = rule;
          else d.rules.push(rule);
        },
        p.ifRevision,
      );
    },
    // All its monitors at once, as its tray's "Pause all monitors": a change like the others (signed, versioned, kept
    // for an agent that is away), which leaves each monitor's own switch alone.
    'fleet.pause': (p) => change(p.agentId, () => {}, p.ifRevision, { paused: p.paused }),
    'fleet.removeRule': (p) => change(p.agentId, (d) => void (d.rules = d.rules.filter((r) => r.id !== p.id)), p.ifRevision),
    // A machine gone for good (sold, reinstalled, renamed): nothing of it is kept. Not while it is online — its next
    // status would bring it back at once, and an agent that runs is stopped with Undeploy (or on that machine).
    'fleet.forget': async (p) => {
      const id = p.agentId;
      const peer = engine.forwarding.peers.list().find((x) => x.agentId === id);
      if (!peer && !engine.forwarding.desks().some((d) => d.knows(id))) throw new RequestError('not_found', `no machine ${id} is known here`);
      if (peer?.state === 'online') throw new RequestError('conflict', `${id} is online: a machine that runs would be back with its next status. Undeploy it, or stop its agent there, then forget it`);
      if (deployments.running(id)) throw new RequestError('conflict', `a deploy, upgrade or undeploy of ${id} is under way; wait for it to end`);
      // Its key first: this desktop ignores an empty status of an agent whose key it holds.
      forgetAgentKey(engine.dataDir, id);
      const r = await engine.forwarding.forgetMachine(id);
      deployments.forget(id);
      return { agentId: id, ...r };
    },
  } satisfies HandlersOf<'fleet'>;
}
