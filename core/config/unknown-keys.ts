/**
 * config.json is written by hand, and zod's plain objects drop the keys they do not know when they parse: a
 * `settings.retentonDays` (a typo) or a note under `forwarding` would vanish at the app's next save without a word.
 * These put such keys back where they were written, so they are kept through every save and can be reported.
 */

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Set a key as an own data property (a key named `__proto__` stays a key, never the object's prototype). */
function put(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const at = (path: string, k: string) => `${path}.${k}`;

/**
 * `parsed` is what a schema made of `input`: the keys it dropped from `input`'s objects (lists item by item) are
 * put back into `parsed` at the same place. Returns their paths (`$.settings.retentonDays`).
 */
export function restoreUnknownKeys(input: unknown, parsed: unknown, path = '$', found: string[] = []): string[] {
  if (Array.isArray(input) && Array.isArray(parsed)) {
    for (let i = 0; i < Math.min(input.length, parsed.length); i++) restoreUnknownKeys(input[i], parsed[i], `${path}[${i}]`, found);
  } else if (isObject(input) && isObject(parsed)) {
    for (const k of Object.keys(input)) {
      if (Object.hasOwn(parsed, k)) restoreUnknownKeys(input[k], parsed[k], at(path, k), found);
      else if (input[k] !== undefined) {
        put(parsed, k, input[k]);
        found.push(at(path, k));
      }
    }
  }
  return found;
}

/**
 * A section of the document replaced by a new value (the settings or the forwarding a form saved): the keys of
 * `previous` that `parse` does not know are carried into `next` where their object still is and the key is not set.
 * Known keys are not carried, so one the new value leaves out stays out. Objects only: list items may have moved.
 */
export function carryUnknownKeys(previous: unknown, next: unknown, parse: (v: unknown) => unknown): void {
  let known: unknown;
  try {
    known = parse(previous);
  } catch {
    return; // not a valid section: nothing can be told apart
  }
  const walk = (prev: unknown, knownPart: unknown, into: unknown) => {
    if (!isObject(prev) || !isObject(knownPart) || !isObject(into)) return;
    for (const k of Object.keys(prev)) {
      if (!Object.hasOwn(knownPart, k)) {
        if (!Object.hasOwn(into, k) && prev[k] !== undefined) put(into, k, prev[k]);
      } else walk(prev[k], knownPart[k], into[k]);
    }
  };
  walk(previous, known, next);
}
