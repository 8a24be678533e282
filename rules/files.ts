/** Reading rule files and event files (JSONL) for the CLI and tests, with messages that point at the problem. */
import type { PanoptesEvent } from '../core/event.js';

/** A rule file holds a JSON array of rules, or a config document whose `rules` is that array. */
export function parseRulesFile(text: string, file: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(doc)) return doc;
  if (doc && typeof doc === 'object' && Array.isArray((doc as { rules?: unknown }).rules)) return (doc as { rules: unknown[] }).rules;
  throw new Error(`${file}: expected a JSON array of rules (or an object with a "rules" array)`);
}

/** One event per line; missing optional parts get defaults, a bad line is reported and skipped. */
export function parseEventsJsonl(text: string): { events: PanoptesEvent[]; errors: string[] } {
  const events: PanoptesEvent[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const n = i + 1;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch (err) {
      errors.push(`line ${n}: not valid JSON (${(err as Error).message})`);
      return;
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) return void errors.push(`line ${n}: an event is a JSON object`);
    if (typeof o.type !== 'string' || !o.type) return void errors.push(`line ${n}: "type" is missing`);
    const ts = typeof o.ts === 'string' ? Date.parse(o.ts) : NaN;
    if (Number.isNaN(ts)) return void errors.push(`line ${n}: "ts" must be an ISO date/time`);
    events.push({
      id: typeof o.id === 'string' && o.id ? o.id : `line-${n}`,
      ts: new Date(ts).toISOString(),
      receivedAt: typeof o.receivedAt === 'string' ? o.receivedAt : new Date(ts).toISOString(),
      source: typeof o.source === 'string' ? o.source : 'unknown',
      type: o.type,
      title: typeof o.title === 'string' ? o.title : '',
      body: typeof o.body === 'string' ? o.body : '',
      url: typeof o.url === 'string' ? o.url : null,
      fields: o.fields && typeof o.fields === 'object' && !Array.isArray(o.fields) ? (o.fields as Record<string, unknown>) : {},
      tags: Array.isArray(o.tags) ? o.tags.map(String) : [],
    });
  });
  return { events, errors };
}

/** `a=true,b=false` (a bare name means true). */
export function parseFlagList(text: string): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value = 'true'] = part.split('=');
    if (!name || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) throw new Error(`--flags: "${part}" is not name=true|false`);
    if (value !== 'true' && value !== 'false') throw new Error(`--flags: "${part}" must be true or false`);
    flags[name] = value === 'true';
  }
  return flags;
}
