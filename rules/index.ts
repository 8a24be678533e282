/** The rules engine's public surface: the rule format and its validation, the engine, and replay. */
export type { Rule, Condition, LeafCondition, Match, Pattern, Action, RuleIssue, ActionKinds } from './schema.js';
export { validateRule, validateRules, ruleSchema, NO_ACTION_KINDS } from './schema.js';
export { ruleWarnings } from './warnings.js';
export type { RuleEnv, RenderedAction, Firing, RuleOutput, Trace, EventRef, Verdict, FiringKind } from './types.js';
export type { ConditionResult } from './conditions.js';
export { RuleEngine } from './engine.js';
export { replay, type ReplayFiring, type ReplayMiss, type ReplayOptions } from './replay.js';
