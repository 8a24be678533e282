/**
 * Read/unread for the live feed, kept in localStorage: everything up to a watermark id is read ("mark all
 * read"), plus a bounded set of ids opened individually. Ids are ULIDs, so comparing strings compares time.
 */
const KEY = 'panoptes.read';
const MAX_IDS = 2_000;

interface Stored {
  upTo: string;
  ids: string[];
}

function load(): Stored {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? '') as Stored;
    if (typeof s.upTo === 'string' && Array.isArray(s.ids)) return s;
  } catch {
    /* first run or storage off */
  }
  return { upTo: '', ids: [] };
}

export class ReadState {
  private upTo: string;
  private ids: Set<string>;
  constructor() {
    const s = load();
    this.upTo = s.upTo;
    this.ids = new Set(s.ids);
  }
  isRead(id: string): boolean {
    return id <= this.upTo || this.ids.has(id);
  }
  markRead(id: string): void {
    if (this.isRead(id)) return;
    this.ids.add(id);
    if (this.ids.size > MAX_IDS) this.ids = new Set([...this.ids].sort().slice(-MAX_IDS));
    this.save();
  }
  /**
   * Mark these (what a filter shows) read, leaving the rest as they are. Individually kept ids are bounded, so past
   * MAX_IDS the oldest marks fall away; "mark all read" without a filter moves the watermark instead.
   */
  markManyRead(ids: Iterable<string>): void {
    for (const id of ids) if (!this.isRead(id)) this.ids.add(id);
    if (this.ids.size > MAX_IDS) this.ids = new Set([...this.ids].sort().slice(-MAX_IDS));
    this.save();
  }
  markAllRead(newestId: string): void {
    if (newestId > this.upTo) this.upTo = newestId;
    this.ids = new Set([...this.ids].filter((i) => i > this.upTo));
    this.save();
  }
  private save(): void {
    try {
      localStorage.setItem(KEY, JSON.stringify({ upTo: this.upTo, ids: [...this.ids] }));
    } catch {
      /* storage off: read state lasts for this page only */
    }
  }
}
