/**
 * Maintenance: times when checks going down is expected. Three kinds, one question ("is this in maintenance now?"):
 * - a check's own windows (its `maintenance` option),
 * - scheduled windows in the settings, for every check or for the checks carrying one of their tags
 *   ("Sundays 02:00–04:00 for tag nas"), one-off or recurring,
 * - the context flag `maintenance`, set by hand (Flags, a rule's flag action, `panoptes flag set maintenance --for 1h`):
 *   maintenance everywhere while it is on.
 * Checks hold their downs while in maintenance; rules say `"context": { "maintenance": false }` to stay quiet then.
 *
 * The schedule is process-wide on purpose, like the checks' dependency registry: checks are separate monitor
 * instances, the engine owns the settings and the flags, and this is where the two meet.
 */
import { z } from 'zod';

export const MAINTENANCE_FLAG = 'maintenance';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const windowFields = {
  from: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  days: z.array(z.enum(DAYS)).optional(),
  start: z.string().regex(HHMM, 'a time like "02:00"').optional(),
  end: z.string().regex(HHMM, 'a time like "04:30"').optional(),
};
type WindowShape = { from?: string | undefined; until?: string | undefined; start?: string | undefined; end?: string | undefined };
const complete = (w: WindowShape) => (w.from !== undefined && w.until !== undefined) || (w.start !== undefined && w.end !== undefined);
const completeMessage = { message: 'give "from" and "until" (one-off) or "start" and "end" (recurring)' };

/**
 * A maintenance window: one-off (`from`/`until`, ISO times) or recurring (`start`–`end` local time, on `days`, every
 * day when none are given; an `end` before `start` runs past midnight).
 */
export const maintenanceWindowSchema = z.object(windowFields).refine(complete, completeMessage);
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

/** A window kept in the settings: named, for every check (no tags) or for the checks carrying any of `tags`. */
export const scheduledMaintenanceSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids use letters, digits and _ . : - (at most 64)'),
    name: z.string().trim().min(1).max(200),
    tags: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
    ...windowFields,
  })
  .refine(complete, completeMessage);
export type ScheduledMaintenance = z.infer<typeof scheduledMaintenanceSchema>;

const toMin = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

export function windowOpen(w: MaintenanceWindow, now: number): boolean {
  if (w.from !== undefined && w.until !== undefined) return now >= Date.parse(w.from) && now < Date.parse(w.until);
  const d = new Date(now);
  const minutes = d.getHours() * 60 + d.getMinutes();
  const start = toMin(w.start!);
  const end = toMin(w.end!);
  const dayOk = (day: number) => !w.days?.length || w.days.includes(DAYS[day]!);
  if (start <= end) return dayOk(d.getDay()) && minutes >= start && minutes < end;
  // Past midnight: the evening part belongs to today, the morning part to the day before.
  return (minutes >= start && dayOk(d.getDay())) || (minutes < end && dayOk((d.getDay() + 6) % 7));
}

export function inMaintenance(windows: readonly MaintenanceWindow[], now: number): boolean {
  return windows.some((w) => windowOpen(w, now));
}

/** A scheduled window applies to a check (or an event) with these tags: every one when it names none. */
export const appliesTo = (w: ScheduledMaintenance, tags: readonly string[]) => !w.tags.length || w.tags.some((t) => tags.includes(t));

export interface MaintenanceSources {
  scheduled: () => readonly ScheduledMaintenance[];
  manual: () => boolean;
}
const NONE: MaintenanceSources = { scheduled: () => [], manual: () => false };
let sources: MaintenanceSources = NONE;
/** Each running check's own windows and tags, by monitor id (kept by core/check-state). */
const checks = new Map<string, { windows: readonly MaintenanceWindow[]; tags: readonly string[] }>();

/**
 * The engine says where the settings' windows and the flag are read (lazily, so they are always current); null
 * when it closes (only if `owner`'s are the ones in force: another engine of the process may have taken over).
 */
export function setMaintenanceSources(s: MaintenanceSources | null, owner?: MaintenanceSources): void {
  if (s === null && owner !== undefined && sources !== owner) return;
  sources = s ?? NONE;
}

export function registerCheckMaintenance(id: string, windows: readonly MaintenanceWindow[], tags: readonly string[]): void {
  checks.set(id, { windows, tags });
}

export function unregisterCheckMaintenance(id: string): void {
  checks.delete(id);
}

export type MaintenanceReason = { kind: 'flag' } | { kind: 'scheduled'; id: string; name: string } | { kind: 'own' };

/**
 * Why `source` (a monitor id, or null for an event of no check) with `tags` is in maintenance at `now`, or null.
 * A check's own windows and tags come from its registration; an event's tags count too.
 */
export function maintenanceReason(source: string | null, tags: readonly string[], now: number): MaintenanceReason | null {
  if (sources.manual()) return { kind: 'flag' };
  const own = source !== null ? checks.get(source) : undefined;
  if (own && inMaintenance(own.windows, now)) return { kind: 'own' };
  const allTags = own ? [...tags, ...own.tags] : tags;
  for (const w of sources.scheduled()) if (appliesTo(w, allTags) && windowOpen(w, now)) return { kind: 'scheduled', id: w.id, name: w.name };
  return null;
}

export const isInMaintenance = (source: string | null, tags: readonly string[], now: number): boolean => maintenanceReason(source, tags, now) !== null;

export function describeReason(r: MaintenanceReason): string {
  if (r.kind === 'flag') return 'the maintenance flag is on';
  if (r.kind === 'own') return 'in a maintenance window';
  return `in maintenance window "${r.name}"`;
}

/** The running checks in maintenance now, with why (the Checks view's badges). */
export function checksInMaintenance(now: number): { id: string; reason: string }[] {
  const out: { id: string; reason: string }[] = [];
  for (const id of checks.keys()) {
    const r = maintenanceReason(id, [], now);
    if (r) out.push({ id, reason: describeReason(r) });
  }
  return out;
}
