import { z } from 'zod';

/** Monitor instance ids are `<type>:<slug>`; they become event sources and appear in rules (`rss:*`). */
export const MONITOR_ID = /^[a-z][a-z0-9_-]*:[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const monitorEntrySchema = z.object({
  id: z.string().regex(MONITOR_ID, 'monitor id must look like "rss:my-feed"'),
  type: z.string().min(1),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).default({}),
  retentionDays: z.number().int().positive().nullable().optional(),
});

/** Rules are checked in depth by the rules engine (bad ones are reported and skipped); here only their frame. */
export const ruleFrameSchema = z.looseObject({ id: z.string().min(1) });

export const settingsSchema = z.object({
  retentionDays: z.number().int().positive().default(90),
  commandsEnabled: z.boolean().default(false),
  notifications: z
    .object({
      holdDuringFlags: z.array(z.string()).default(['dnd']),
      allowHighPriorityThrough: z.boolean().default(true),
      coalescePerMinute: z.number().int().positive().default(5),
    })
    .default({ holdDuringFlags: ['dnd'], allowHighPriorityThrough: true, coalescePerMinute: 5 }),
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  traceLimitPerRule: z.number().int().min(1).max(10_000).default(50),
});

export const configSchema = z.object({
  version: z.literal(1).default(1),
  monitors: z.array(monitorEntrySchema).default([]),
  rules: z.array(ruleFrameSchema).default([]),
  settings: settingsSchema.default(settingsSchema.parse({})),
});

export type ConfigDocument = z.infer<typeof configSchema>;
export type MonitorEntry = z.infer<typeof monitorEntrySchema>;
export type SettingsDoc = z.infer<typeof settingsSchema>;

export function defaultConfig(): ConfigDocument {
  return configSchema.parse({});
}
