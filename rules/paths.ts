/**
 * Field paths as rules write them: `title`, `body`, `url`, `source`, `type`, `tags`, or `fields.a.b`.
 * Compiled once into a getter so matching never re-parses a path string.
 */
import type { PanoptesEvent } from '../core/event.js';

export type Getter = (event: PanoptesEvent) => unknown;

const TOP_LEVEL = new Set(['id', 'ts', 'title', 'body', 'url', 'source', 'type', 'tags']);

/** Why a path is not usable, or null when it is. */
export function fieldPathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || !path) return 'a field path is a non-empty string';
  if (TOP_LEVEL.has(path)) return null;
  if (path.startsWith('fields.')) {
    const parts = path.slice('fields.'.length).split('.');
    if (parts.every((p) => p.length > 0 && p.length <= 200)) return null;
    return `"${path}" has an empty segment`;
  }
  return `unknown field "${path}": use title, body, url, source, type, tags or fields.NAME`;
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

export function compilePath(path: string): Getter {
  if (!path.startsWith('fields.')) {
    const key = path as keyof PanoptesEvent;
    return (e) => e[key];
  }
  const parts = path.slice('fields.'.length).split('.');
  // Own properties only: a monitor-supplied object must not let a rule read through the prototype chain.
  if (parts.some((p) => FORBIDDEN_SEGMENTS.has(p))) return () => undefined;
  const own = (o: unknown, k: string): unknown =>
    o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
  if (parts.length === 1) {
    const [a] = parts as [string];
    return (e) => own(e.fields, a);
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (e) => own(own(e.fields, a), b);
  }
  return (e) => {
    let v: unknown = e.fields;
    for (const p of parts) {
      v = own(v, p);
      if (v === undefined) return undefined;
    }
    return v;
  };
}

/** The grouping key of an event under a `by` path; missing values form their own group. */
export function groupKey(get: Getter | null, event: PanoptesEvent): string {
  if (!get) return '';
  const v = get(event);
  if (v === undefined || v === null) return '\u0000';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
