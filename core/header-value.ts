/**
 * A header's value, by case-insensitive name, from headers in any of the shapes Node and the DevTools protocol hand
 * them over: an object (a list value gives its first), a flat list of names and values, or a list of pairs.
 */
export function headerOf(headers: unknown, name: string): string | null {
  const wanted = name.toLowerCase();
  if (Array.isArray(headers)) {
    const flat: unknown[] = headers.every((h) => Array.isArray(h)) ? headers.flat() : headers;
    for (let i = 0; i + 1 < flat.length; i += 2) if (String(flat[i]).toLowerCase() === wanted) return String(flat[i + 1]);
    return null;
  }
  if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return String(Array.isArray(v) ? v[0] : v);
  }
  return null;
}
