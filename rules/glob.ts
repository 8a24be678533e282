/** `when.source` / `when.type` values: an exact string or a glob where `*` is any run of characters and `?` one. */

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 's');
}

/** The literal text before the first wildcard: every matching value starts with it (used to index globs). */
export function globPrefix(pattern: string): string {
  const i = pattern.search(/[*?]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

export function compileGlob(pattern: string): (value: string) => boolean {
  if (!isGlob(pattern)) return (v) => v === pattern;
  if (pattern === '*') return () => true;
  // The common "prefix*" shape needs no regex.
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1 && !pattern.includes('?')) {
    const prefix = pattern.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  const re = globToRegExp(pattern);
  return (v) => re.test(v);
}
