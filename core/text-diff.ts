/**
 * Differences between two versions of a text, for people: by lines (what a changed page's event lists) or by words
 * (what the diff viewer colours inside a changed sentence). jsdiff's Myers algorithm; past a size where its cost
 * would stall the process, lines are compared as sets and words fall back to lines.
 */

/** jsdiff, loaded by the first diff asked for (the diff viewer), not with the engine (#22: idle memory). */
let jsdiff: typeof import('diff') | undefined;

export type DiffMode = 'lines' | 'words';

export interface DiffPart {
  value: string;
  added?: boolean;
  removed?: boolean;
}

export interface TextDiff {
  parts: DiffPart[];
  /** Lines added and removed (counted by line even in word mode), for "+3 lines, −1". */
  added: number;
  removed: number;
}

const MAX_WORD_DIFF_CHARS = 200_000;

export async function diffText(before: string, after: string, mode: DiffMode = 'lines'): Promise<TextDiff> {
  const { diffArrays, diffLines } = (jsdiff ??= await import('diff'));
  const lines = diffLines(withEol(before), withEol(after), { timeout: 2_000 }) ?? [{ value: before, removed: true }, { value: after, added: true }];
  let added = 0;
  let removed = 0;
  for (const p of lines) {
    const n = ((p as { count?: number }).count ?? p.value.split('\n').length - 1) || 1;
    if (p.added) added += n;
    if (p.removed) removed += n;
  }
  if (mode === 'words' && before.length + after.length <= MAX_WORD_DIFF_CHARS) {
    // Words are what lies between spaces, so a price reads "1.20 → 0.99", not "1|0.|20|99" as jsdiff's own word
    // diff (which splits at punctuation) would colour it.
    const words = diffArrays(before.split(/(\s+)/), after.split(/(\s+)/), { timeout: 2_000 } as never) as Array<{ value: string[]; added?: boolean; removed?: boolean }> | undefined;
    if (words) return { parts: words.map((w) => clean({ value: w.value.join(''), added: w.added, removed: w.removed })), added, removed };
  }
  return { parts: lines.map(clean), added, removed };
}

/** "+3 lines, −1": what changed, short enough for a notification title. */
export function diffSummary(added: number, removed: number): string {
  if (!added && !removed) return 'no change';
  const parts: string[] = [];
  if (added) parts.push(`+${added} line${added === 1 ? '' : 's'}`);
  if (removed) parts.push(added ? `−${removed}` : `−${removed} line${removed === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function withEol(s: string): string {
  return s && !s.endsWith('\n') ? s + '\n' : s;
}

function clean(p: { value: string; added?: boolean; removed?: boolean }): DiffPart {
  const out: DiffPart = { value: p.value };
  if (p.added) out.added = true;
  if (p.removed) out.removed = true;
  return out;
}
