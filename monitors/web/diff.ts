// Line diff between two versions of a page's text: which lines are new and which are gone, in page order.
// An LCS table is exact but quadratic, so past a size limit we fall back to comparing line multisets, which gives
// the same answer whenever lines were added or removed rather than moved.
export interface LineDiff {
  added: string[];
  removed: string[];
}

const MAX_TABLE = 4_000_000;

export function diffLines(before: string[], after: string[]): LineDiff {
  // Shared head and tail cost nothing to skip and make the table small for typical edits.
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const b = before.slice(start, endB);
  const a = after.slice(start, endA);
  if (!b.length || !a.length) return { added: a, removed: b };
  if ((b.length + 1) * (a.length + 1) > MAX_TABLE) return multisetDiff(b, a);

  const cols = a.length + 1;
  const table = new Uint32Array((b.length + 1) * cols);
  for (let i = b.length - 1; i >= 0; i--) {
    for (let j = a.length - 1; j >= 0; j--) {
      table[i * cols + j] = b[i] === a[j] ? table[(i + 1) * cols + j + 1]! + 1 : Math.max(table[(i + 1) * cols + j]!, table[i * cols + j + 1]!);
    }
  }
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < b.length && j < a.length) {
    if (b[i] === a[j]) {
      i++;
      j++;
    } else if (table[(i + 1) * cols + j]! >= table[i * cols + j + 1]!) {
      removed.push(b[i++]!);
    } else {
      added.push(a[j++]!);
    }
  }
  while (i < b.length) removed.push(b[i++]!);
  while (j < a.length) added.push(a[j++]!);
  return { added, removed };
}

function multisetDiff(before: string[], after: string[]): LineDiff {
  const count = new Map<string, number>();
  for (const l of before) count.set(l, (count.get(l) ?? 0) + 1);
  const added: string[] = [];
  for (const l of after) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added.push(l);
  }
  const removed: string[] = [];
  for (const l of before) {
    const n = count.get(l) ?? 0;
    if (n > 0) {
      removed.push(l);
      count.set(l, n - 1);
    }
  }
  return { added, removed };
}
