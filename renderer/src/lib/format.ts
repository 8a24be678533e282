export function timeAgo(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86_400) return `${Math.round(s / 86_400)} d ago`;
  return new Date(t).toLocaleDateString();
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Monitor kind from an instance id (`rss:hn` → `rss`) or an event type (`feed.item` → `feed`). */
export function kindOf(sourceOrType: string): string {
  return sourceOrType.split(/[:.]/)[0] ?? sourceOrType;
}

// Sources that are not monitor types (a monitor type's badge comes from its folder, through monitors.types).
// Short labels rather than emoji: emoji fonts are missing on many Linux desktops and render as boxes.
const OTHER_LABELS: Record<string, string> = { panoptes: 'APP', flag: 'FLAG' };

/** A compact label and a stable hue for a monitor kind, for the badge shown beside events and monitors. */
export function kindBadge(sourceOrType: string, badges: ReadonlyMap<string, string> = new Map()): { label: string; hue: number } {
  const kind = kindOf(sourceOrType);
  let h = 0;
  for (const c of kind) h = (h * 31 + c.charCodeAt(0)) % 360;
  return { label: badges.get(kind) ?? OTHER_LABELS[kind] ?? kind.slice(0, 4).toUpperCase(), hue: h };
}

/** Split text around case-insensitive occurrences of the search words, for highlighting. */
export function highlightParts(text: string, query: string): { text: string; hit: boolean }[] {
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/["*()^:]/g, '').trim())
    .filter((w) => w.length > 1 && !/^(AND|OR|NOT|NEAR)$/.test(w));
  if (!words.length || !text) return [{ text, hit: false }];
  const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const splitter = new RegExp('(' + alternatives + ')', 'gi');
  const whole = new RegExp('^(?:' + alternatives + ')$', 'i');
  return text.split(splitter).filter((p) => p !== '').map((p) => ({ text: p, hit: whole.test(p) }));
}

const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;

/** Text cut around the ISO times in it (as the engine writes them: UTC, `…Z`), each time marked, in order. */
export function isoTimesIn(text: string): { text: string; iso?: string }[] {
  const out: { text: string; iso?: string }[] = [];
  let at = 0;
  for (const m of text.matchAll(ISO_TIME)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: m[0], iso: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length || !out.length) out.push({ text: text.slice(at) });
  return out;
}
