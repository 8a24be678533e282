import type { ActionRef, ActionsStatus, DeadLetterInfo, Pushes } from '../../core/protocol.js';
import type { HandlersOf } from '../../core/rpc/server.js';
import type { OutboxItem, Store } from '../../core/store/index.js';
import type { LaneStatus } from '../outbox-dispatcher.js';
import { idempotencyKey } from '../idempotency.js';
import { actionKind } from '../rule-processor.js';
import { channelSendOf } from '../actions/channel.js';

/** What the actions' handlers reach in the engine. */
export interface ActionsHost {
  readonly store: Store;
  readonly config: { readonly current: { rules: unknown[] } };
  readonly outbox: { laneStatus(): LaneStatus[]; wake(): void };
  broadcast(topic: 'actions', data: Pushes['actions']): void;
}

/** Destinations' health and the dead letters, with Retry and Discard. */
export function actionHandlers(engine: ActionsHost) {
  return {
    'actions.status': () => actionsStatus(engine),
    'actions.deadLetters': (p) => {
      const limit = p.limit ?? 100;
      const items = engine.store.outbox.deadLetters(limit, p.before).map((i) => deadLetterInfo(engine, i));
      return { items, total: engine.store.outbox.countDeadLetters(), next: items.length === limit ? (items[items.length - 1]!.failedAt ?? null) : null };
    },
    'actions.retry': (p) => {
      const retried = engine.store.outbox.retryDeadLetter(ref(p));
      if (retried) {
        engine.outbox.wake();
        engine.broadcast('actions', actionsStatus(engine));
      }
      return { retried };
    },
    'actions.discard': (p) => {
      const discarded = engine.store.outbox.discardDeadLetter(ref(p));
      if (discarded) engine.broadcast('actions', actionsStatus(engine));
      return { discarded };
    },
  } satisfies HandlersOf<'actions'>;
}

export function actionsStatus(engine: Pick<ActionsHost, 'store' | 'outbox'>): ActionsStatus {
  return { lanes: engine.outbox.laneStatus(), deadLetters: engine.store.outbox.countDeadLetters() };
}

const ref = (p: ActionRef): ActionRef => ({ ruleId: p.ruleId, eventId: p.eventId, actionIndex: p.actionIndex });

function deadLetterInfo(engine: ActionsHost, i: OutboxItem): DeadLetterInfo {
  const rule = (engine.config.current.rules as { id?: string; name?: string }[]).find((r) => r.id === i.ruleId);
  // A notification's send to a channel (engine/actions/channel.ts) names the notification, not a rule and event.
  const send = channelSendOf(i);
  const event = send || i.eventId.startsWith('at:') ? null : engine.store.events.get(i.eventId);
  const notice = send ? (i.action as { channel?: { notification?: { title?: string } } }).channel?.notification : undefined;
  return {
    ...ref(i),
    ruleName: send ? 'Notification center' : (rule?.name ?? null),
    eventTitle: send ? (notice?.title ?? null) : (event?.title ?? null),
    kind: actionKind(i.action),
    destination: i.lane || actionKind(i.action),
    lastError: i.lastError,
    attempts: i.attempts,
    failedAt: i.doneAt,
    idempotencyKey: idempotencyKey(i.ruleId, i.eventId, i.actionIndex),
  };
}
