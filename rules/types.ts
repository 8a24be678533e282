import type { PanoptesEvent } from '../core/event.js';
/** What the engine hands to its caller: rendered actions, firings with their traces, and the environment it needs. */
import type { ConditionResult } from './conditions.js';

export interface RuleEnv {
  /** Engine time in ms: wall time live, event time in replay. */
  now: number;
  flags: Record<string, boolean>;
  /** IANA zone for `context.time` gates; the machine's local zone when absent. */
  timeZone?: string;
  /**
   * `context.maintenance` gates: is an event of `source` with `tags` in maintenance at `at` (core/maintenance)?
   * Without it, maintenance is the `maintenance` flag alone.
   */
  maintenance?: (source: string | null, tags: readonly string[], at: number) => boolean;
}

export type RenderedAction =
  | { notify: { title: string; body: string; url: string | null; priority: 'low' | 'normal' | 'high' | 'urgent'; sound: boolean; own?: boolean } }
  | { flag: { set?: string; clear?: string; toggle?: string; for?: string } }
  | { tag: { add: string[] } }
  | { webhook: { url: string; method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; headers: Record<string, string>; body: string | null; timeoutMs?: number } }
  | { command: { argv: string[]; timeoutMs?: number } }
  | { stop: true }
  /** A kind a monitor type contributes (`email`, `chat`, `mqtt`, …), as its declaration rendered it. */
  | Record<string, Record<string, unknown>>;

/** A short copy of an event kept in temporal state and traces (bodies are cut so state stays small). */
export type EventRef = Pick<PanoptesEvent, 'id' | 'ts' | 'source' | 'type' | 'title' | 'body' | 'url' | 'fields' | 'tags'>;

export type FiringKind = 'event' | 'count' | 'absence' | 'after-absence' | 'sequence' | 'digest';

export interface Trace {
  ruleId: string;
  at: string;
  kind: FiringKind;
  eventIds: string[];
  /** The `by` group the firing belongs to ('' when the rule has no `by`). */
  key?: string;
  /** Each `when`/`if` node's result on the event that completed the firing. */
  conditions?: ConditionResult[];
  context?: { flags?: Record<string, { want: boolean; was: boolean }>; time?: { localMinutes: number; day: number }; maintenance?: { want: boolean; was: boolean } };
  /** Window contents for count/sequence/digest/absence firings. */
  window?: { within?: string; events: { id: string; ts: string }[]; count?: number };
  /** Firings held back by `throttle` since the previous one that went through. */
  throttle?: { per: string; suppressedSinceLast: number };
  actions: RenderedAction[];
  renderErrors?: string[];
  /** Why the rule could not be evaluated on this event (no actions ran). */
  error?: string;
}

export interface Firing {
  ruleId: string;
  ruleName: string;
  at: string;
  eventIds: string[];
  actions: RenderedAction[];
  trace: Trace;
}

export interface RuleOutput {
  firings: Firing[];
  /** A firing rule had a `stop` action: no later rule saw this event. */
  stopped: boolean;
  /** Rules that could not be evaluated on this event (their patterns went over the matching time budget). */
  errors?: { ruleId: string; message: string }[];
  /**
   * Notifying rules that matched but held back: their throttle (`throttled`) or their context gate — a flag, their
   * hours — (`suppressed`). `reason` in plain words, as of then; the notification center keeps it for "why".
   */
  withheld?: Withheld[];
}

export interface Withheld {
  ruleId: string;
  ruleName: string;
  eventId: string;
  fate: 'throttled' | 'suppressed';
  reason: string;
}

export interface Verdict {
  ruleId: string;
  matched: boolean;
  reason: string;
  details?: unknown;
}
