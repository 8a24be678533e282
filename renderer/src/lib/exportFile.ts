import type { PanoptesEvent } from '../../../core/event.js';

/** Hand a file to the browser's download (works in the agent page and in Electron; no server round trip). */
export function download(filename: string, content: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

const COLUMNS = ['id', 'ts', 'receivedAt', 'source', 'type', 'title', 'url', 'tags', 'fields', 'body'] as const;

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // Quote every cell; a leading =,+,-,@ is defused so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? "'" + s : s;
  return '"' + safe.replace(/"/g, '""') + '"';
}

export function eventsToCsv(events: PanoptesEvent[]): string {
  const lines = [COLUMNS.join(',')];
  for (const e of events) lines.push(COLUMNS.map((c) => cell(c === 'tags' ? e.tags.join(' ') : e[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
