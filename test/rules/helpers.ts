import type { PanoptesEvent } from '../../core/event.js';
import { validateRules, type Rule } from '../../rules/index.js';

export const T0 = Date.parse('2026-03-02T10:00:00.000Z'); // a Monday
export const MIN = 60_000;

let n = 0;
export function ev(at: number, over: Partial<PanoptesEvent> = {}): PanoptesEvent {
  n++;
  return {
    id: over.id ?? `ev${String(n).padStart(5, '0')}`,
    ts: new Date(at).toISOString(),
    receivedAt: new Date(at).toISOString(),
    source: 'rss:hn',
    type: 'feed.item',
    title: '',
    body: '',
    url: null,
    fields: {},
    tags: [],
    ...over,
  };
}

/** Validate rules as the product does, failing the test loudly if a fixture is itself invalid. */
export function rules(raw: unknown[]): Rule[] {
  const r = validateRules(raw);
  if (r.errors.length) throw new Error('fixture rules invalid: ' + JSON.stringify(r.errors));
  return r.rules;
}
