/**
 * The Machines form's state, as plain functions: the engine's forwarding settings as an editable draft, and the draft
 * as the update the engine takes. No React here, so the rules of the form read (and test) on their own.
 */
import type { ForwardingInfo, ForwardingUpdate, ValidationIssue } from '../../../core/protocol.js';

export interface BrokerRow {
  url: string;
  /** Empty: keep the stored one. */
  password: string;
  tls: TlsDraft;
  /** Settings the form does not edit (client id, keepalive…) travel along unchanged. */
  rest: Record<string, unknown>;
  passwordStored: boolean;
}

/** A broker's TLS files (paths on the machine the engine runs on; empty: not used) and whether its certificate is checked. */
export interface TlsDraft {
  ca: string;
  cert: string;
  key: string;
  verify: boolean;
}

const noTls = (): TlsDraft => ({ ca: '', cert: '', key: '', verify: true });

function tlsDraftOf(tls: unknown): TlsDraft {
  if (typeof tls !== 'object' || tls === null) return noTls();
  const t = tls as { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  return { ca: t.ca ?? '', cert: t.cert ?? '', key: t.key ?? '', verify: t.rejectUnauthorized !== false };
}

/** A stored broker as a form row: the password never comes back, only whether one is stored. */
function rowOf(ref: { url: string; tls?: unknown }, passwordStored: boolean): BrokerRow {
  const { url, tls, ...rest } = ref as { url: string; tls?: unknown } & Record<string, unknown>;
  return { url, password: '', tls: tlsDraftOf(tls), rest, passwordStored };
}

export interface Draft {
  forwardOn: boolean;
  forward: BrokerRow;
  agentId: string;
  filterText: string;
  subscribe: BrokerRow[];
  embedded: { enabled: boolean; port: string; host: string; password: string; clearPassword: boolean };
  /** Rules' `mqtt` action: its own broker, or (off) the forward broker. */
  actionOn: boolean;
  action: BrokerRow;
}

export const BROKER_EXAMPLE = 'mqtt://user@broker.local:1883';

export const emptyRow = (): BrokerRow => ({ url: '', password: '', tls: noTls(), rest: {}, passwordStored: false });

export function draftOf(info: ForwardingInfo): Draft {
  const f = info.settings.forward;
  const cl = info.commandLineForward;
  const { agentId, filter, ...fRef } = f ?? { url: cl?.url ?? '' };
  const a = info.settings.actionBroker;
  return {
    forwardOn: f !== null || cl !== null,
    forward: rowOf(fRef, info.secretsSet.forward),
    agentId: agentId ?? (f ? '' : cl?.agentId ?? ''),
    filterText: filter && (filter.when !== undefined || filter.if !== undefined) ? JSON.stringify(filter, null, 2) : '',
    subscribe: info.settings.subscribe.map((ref, i) => rowOf(ref, info.secretsSet.subscribe[i] ?? false)),
    embedded: {
      enabled: info.settings.embeddedBroker.enabled,
      port: String(info.settings.embeddedBroker.port),
      host: info.settings.embeddedBroker.host,
      password: '',
      clearPassword: false,
    },
    actionOn: a !== null,
    action: a ? rowOf(a, info.secretsSet.actionBroker) : emptyRow(),
  };
}

/** The draft as the engine's update; a filter that is not JSON is reported here, before anything is sent. */
export function updateOf(d: Draft): { update: ForwardingUpdate } | { issues: ValidationIssue[] } {
  let filter: { when?: unknown; if?: unknown } | undefined;
  if (d.forwardOn && d.filterText.trim()) {
    try {
      filter = JSON.parse(d.filterText) as { when?: unknown; if?: unknown };
    } catch (e) {
      return { issues: [{ path: '$.forward.filter', message: `not JSON: ${(e as Error).message}` }] };
    }
  }
  // TLS fields go as typed: the engine drops empty ones and checks the files.
  const tls = (t: TlsDraft) => ({ ca: t.ca, cert: t.cert, key: t.key, ...(t.verify ? {} : { rejectUnauthorized: false }) });
  const row = (r: BrokerRow) => ({ ...r.rest, url: r.url.trim(), tls: tls(r.tls), ...(r.password ? { password: r.password } : {}) });
  return {
    update: {
      forward: d.forwardOn ? { ...row(d.forward), ...(d.agentId.trim() ? { agentId: d.agentId.trim() } : {}), ...(filter ? { filter } : {}) } : null,
      subscribe: d.subscribe.filter((r) => r.url.trim()).map(row),
      embeddedBroker: {
        enabled: d.embedded.enabled,
        port: Number(d.embedded.port),
        host: d.embedded.host,
        ...(d.embedded.password ? { password: d.embedded.password } : d.embedded.clearPassword ? { password: null } : {}),
      },
      actionBroker: d.actionOn ? row(d.action) : null,
    },
  };
}
