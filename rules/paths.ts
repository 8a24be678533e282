/**
 * Field paths as rules write them: `title`, `body`, `url`, `source`, `type`, `tags`, or `fields.a.b`.
 * Compiled once into a getter so matching never re-parses a path string.
 */
import type { PanoptesEvent } from '../core/event.js';

export type Getter = (event: PanoptesEvent) => unknown;

const TOP_LEVEL = new Set(['id', 'ts', 'title', 'body', 'url', 'source', 'type', 'tags', 'agent']);

/**
 * `agent`: the machine an event is from or about — the agent id of a forwarded event's origin, or the agent an
 * `agent.online`/`agent.offline` announcement is about. Events made on this machine have none.
 */
export function agentOf(e: PanoptesEvent): string | undefined {
  if (e.origin) return e.origin.agentId;
  if (e.type === 'agent.online' || e.type === 'agent.offline') {
    const id = (e.fields as Record<string, unknown>).agentId;
    if (typeof id === 'string') return id;
  }
  return undefined;
}

/** Why a path is not usable, or null when it is. */
export function fieldPathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || !path) return 'a field path is a non-empty string';
  if (TOP_LEVEL.has(path)) return null;
  if (path.startsWith('fields.')) {
    const parts = path.slice('fields.'.length).split('.');
    if (parts.every((p) => p.length > 0 && p.length <= 200)) return null;
    return `"${path}" has an empty segment`;
  }
  return `unknown field "${path}": use title, body, url, source, type, tags, agent or fields.NAME`;
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * One small function per path, written for that path: a property read the engine does for every event and rule
 * should be a plain `e.title` or `f.repo` (one shape, one inline cache), not a lookup by a key held in a variable,
 * which every path would share and which V8 then treats as megamorphic.
 */
export function compilePath(path: string): Getter {
  if (!path.startsWith('fields.')) return topLevelGetter(path);
  const parts = path.slice('fields.'.length).split('.');
  // Own properties only: a monitor-supplied object must not let a rule read through the prototype chain.
  if (parts.some((p) => FORBIDDEN_SEGMENTS.has(p))) return () => undefined;
  // The segments become string literals through JSON.stringify (quotes and line separators escaped), so any field
  // name is read as data, never as code.
  let body = 'let v = e.fields;\n';
  for (const p of parts) {
    const k = JSON.stringify(p);
    body += `if (v === null || typeof v !== 'object' || !hasOwn(v, ${k})) return undefined;\nv = v[${k}];\n`;
  }
  body += 'return v;';
  return new Function('hasOwn', `return function get(e) {\n${body}\n};`)(Object.hasOwn) as Getter;
}

function topLevelGetter(path: string): Getter {
  switch (path) {
    case 'title':
      return (e) => e.title;
    case 'body':
      return (e) => e.body;
    case 'url':
      return (e) => e.url;
    case 'source':
      return (e) => e.source;
    case 'type':
      return (e) => e.type;
    case 'tags':
      return (e) => e.tags;
    case 'agent':
      return agentOf;
    case 'id':
      return (e) => e.id;
    case 'ts':
      return (e) => e.ts;
    default:
      return () => undefined;
  }
}

/** The grouping key of an event under a `by` path; missing values form their own group. */
export function groupKey(get: Getter | null, event: PanoptesEvent): string {
  if (!get) return '';
  const v = get(event);
  if (v === undefined || v === null) return '\u0000';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
