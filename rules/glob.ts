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
  // The common "prefix*" shape needs no walk.
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1 && !pattern.includes('?')) {
    const prefix = pattern.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  // By code points, as the regex's `.` was: `?` is one character, an emoji included.
  const glob = [...pattern];
  return (v) => globMatches(glob, [...v]);
}

/**
 * Glob matching without backtracking beyond the last `*`: when a literal run fails after a star, only that star
 * takes one more character, so a match costs at most glob length × value length steps, never the polynomial or
 * exponential walk a regex engine can take on `*a*a*a…b` (a value comes from events, which the user does not write).
 */
function globMatches(glob: string[], value: string[]): boolean {
  let g = 0;
  let v = 0;
  let starAt = -1; // the last `*` seen in the glob
  let resumeAt = 0; // where in the value that star's run would end next
  while (v < value.length) {
    const c = glob[g];
    if (c === '*') {
      starAt = g++;
      resumeAt = v;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      g++;
      v++;
    } else if (starAt >= 0) {
      g = starAt + 1;
      v = ++resumeAt;
    } else return false;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
