// Glob filters ("*.pdf", "reports/**/*.csv") as user patterns: a glob is turned into a pattern by our own code, and
// the result runs on the linear-time engine every user pattern uses (core/user-regex.ts), so no file name can make
// matching slow.
import { UserRegex, userRegexProblem } from '../../core/user-regex.js';

/** `*` any characters but "/", `**` any (including "/"), `?` one character, `{a,b}` either; the rest literal. */
export function globToPattern(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) throw new Error(`"{" at position ${i + 1} is not closed`);
      out += '(?:' + glob.slice(i + 1, close).split(',').map(escape).join('|') + ')';
      i = close;
    } else out += escape(c);
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A pattern without "/" matches the file name anywhere (as .gitignore does); with "/" the path from the folder. */
export function globMatcher(globs: string[]): ((relPath: string) => boolean) | null {
  if (!globs.length) return null;
  const res = globs.map((g) => ({ re: new UserRegex(`^${globToPattern(g)}$`, 'u'), nameOnly: !g.includes('/') }));
  return (rel) => res.some(({ re, nameOnly }) => re.matches(nameOnly ? rel.slice(rel.lastIndexOf('/') + 1) : rel));
}

/** Why a glob cannot be used, in words for the person who typed it; null when it can. */
export function globProblem(glob: string): string | null {
  try {
    return userRegexProblem(`^${globToPattern(glob)}$`, 'u');
  } catch (err) {
    return (err as Error).message;
  }
}
