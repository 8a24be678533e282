import type { FlagManager } from '../../core/flags.js';
import type { MonitorDefinition, MonitorHealth } from '../../core/monitor.js';
import type { MonitorHost } from '../../core/monitor-host.js';
import type { Pushes, Topic } from '../../core/protocol.js';
import type { ActionKinds, RuleEngine, RuleIssue } from '../../rules/index.js';
import type { ForwardingController } from '../forwarding/controller.js';
import type { ForwardingHost } from '../forwarding/host.js';
import type { NotificationCenter } from '../notifications/center.js';
import type { RuleTests } from '../rule-test/index.js';

/**
 * What the protocol's handlers reach in the engine. The engine passes itself; the handlers see only this, so they
 * depend on the parts they use rather than on the engine module (which imports them).
 */
export interface HandlerHost extends ForwardingHost {
  readonly dataDir: string;
  readonly paused: boolean;
  readonly host: MonitorHost;
  readonly flags: FlagManager;
  readonly rules: RuleEngine;
  readonly ruleErrors: RuleIssue[];
  /** Each rule's last run-time error (see RuleProcessor): its health, shown with the validation problems. */
  readonly ruleRuntimeErrors: ReadonlyMap<string, { ruleId: string; at: string; message: string }>;
  readonly definitions: ReadonlyMap<string, MonitorDefinition>;
  /** The rule actions the monitor types contribute (see engine/monitor-registry.ts ruleActionKinds). */
  readonly actionKinds: ActionKinds;
  readonly forwarding: ForwardingController;
  readonly notifications: NotificationCenter;
  /** Rule tests against history, run in worker threads. */
  readonly ruleTests: RuleTests;
  restartMonitor(id: string): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
  loadRules(): void;
  broadcast<T extends Topic>(topic: T, data: Pushes[T]): void;
  healthOf(id: string): MonitorHealth;
  secretFieldsOf(type: string): string[];
  /** Why config.json on disk is not in force (a hand edit that does not validate), or null. */
  configProblem(): string | null;
  readonly routesAddress: { url: string | null; problem: string | null };
}
