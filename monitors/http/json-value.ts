// A value inside a JSON answer, addressed by a JSON pointer ("/status/db", RFC 6901) or a small JSONPath subset
// ("$.status.db", "$.items[0].name", "$['odd key']") — enough to pick one value; no filters or wildcards, which
// would need an evaluator that can be made slow.

export type PathStep = string | number;

/** Parse either form into steps; throws a readable error for anything else. */
export function parseJsonPath(path: string): PathStep[] {
  const p = path.trim();
  if (p === '' || p === '$') return [];
  if (p.startsWith('/')) {
    return p
      .slice(1)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (!p.startsWith('$')) throw new Error('start with "/" (JSON pointer) or "$" (JSONPath), e.g. /status or $.status');
  const steps: PathStep[] = [];
  let i = 1;
  while (i < p.length) {
    if (p[i] === '.') {
      let j = i + 1;
      while (j < p.length && p[j] !== '.' && p[j] !== '[') j++;
      const name = p.slice(i + 1, j);
      if (!name) throw new Error(`empty name at position ${i + 1}`);
      if (name === '*') throw new Error('wildcards are not supported; name one value');
      steps.push(name);
      i = j;
    } else if (p[i] === '[') {
      const close = p.indexOf(']', i);
      if (close < 0) throw new Error(`"[" at position ${i + 1} is not closed`);
      const inner = p.slice(i + 1, close).trim();
      const quoted = /^(['"])(.*)\1$/.exec(inner);
      if (quoted) steps.push(quoted[2]!);
      else if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else throw new Error(`"[${inner}]" is not an index or a quoted name (filters are not supported)`);
      i = close + 1;
    } else {
      throw new Error(`unexpected "${p[i]}" at position ${i + 1}`);
    }
  }
  return steps;
}

export function isJsonPath(path: string): boolean {
  try {
    parseJsonPath(path);
    return true;
  } catch {
    return false;
  }
}

/** The value at `steps`, or undefined when something on the way is missing. */
export function valueAt(doc: unknown, steps: PathStep[]): unknown {
  let cur: unknown = doc;
  for (const s of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      const idx = typeof s === 'number' ? s : /^\d+$/.test(s) ? Number(s) : NaN;
      cur = cur[idx];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, String(s))) return undefined;
      cur = (cur as Record<string, unknown>)[String(s)];
    }
  }
  return cur;
}
