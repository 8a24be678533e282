/**
 * A hash table from strings to values for the index's equality lookups. Events arrive freshly parsed, so every
 * string the index looks up is new to V8, and a `Map` then computes the string's hash in the runtime and chases
 * its entries through the heap: on the machines we measure on that is 200–500 ns for a table of a few thousand
 * values. Here the hash is our own (FNV-1a over the characters, sampled for long strings) and the table is open
 * addressing over flat arrays, so a miss — what nearly every lookup is — reads one typed array slot or two.
 * A hash match is always confirmed by comparing the strings, so collisions cost time, never correctness.
 */
export function hashString(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  if (n <= 24) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    // Long values (URLs, paths) differ mostly at their ends: the first 8 and the last 16 characters, plus the length.
    for (let i = 0; i < 8; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - 16; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  // 0 marks an empty slot.
  return h === 0 ? 1 : h;
}

/**
 * A cheaper hash for short keys that repeat endlessly (sources, types): the length, the first two and the last six
 * characters. Names of one kind differ mostly at their ends (`rss:feed-12`, `rss:feed-13`); a collision only makes
 * a probe compare one more pair of strings.
 */
export function hashSample(s: string): number {
  const n = s.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  if (n > 0) h = Math.imul(h ^ s.charCodeAt(0), 0x01000193);
  if (n > 1) h = Math.imul(h ^ s.charCodeAt(1), 0x01000193);
  for (let i = Math.max(2, n - 6); i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

export class StringTable<V> {
  private hashes: Int32Array;
  /** Key and value side by side (key at 2i, value at 2i + 1): a hit reads one more cache line, not two. */
  private slots: unknown[];
  private mask: number;
  private count = 0;

  constructor(expected = 8) {
    let cap = 16;
    while (cap < expected * 2) cap <<= 1;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<unknown>(cap * 2).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const h = hashString(key);
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) return undefined;
      if (x === h && this.slots[2 * i] === key) return this.slots[2 * i + 1] as V;
    }
  }

  set(key: string, value: V): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const h = hashString(key);
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = this.hashes[i]!;
      if (x === 0) {
        this.hashes[i] = h;
        this.slots[2 * i] = key;
        this.slots[2 * i + 1] = value;
        this.count++;
        return;
      }
      if (x === h && this.slots[2 * i] === key) {
        this.slots[2 * i + 1] = value;
        return;
      }
    }
  }

  forEach(fn: (value: V, key: string) => void): void {
    for (let i = 0; i <= this.mask; i++) if (this.hashes[i] !== 0) fn(this.slots[2 * i + 1] as V, this.slots[2 * i] as string);
  }

  /** Replaces every value by `fn` of it. */
  replaceAll(fn: (value: V) => V): void {
    for (let i = 0; i <= this.mask; i++) if (this.hashes[i] !== 0) this.slots[2 * i + 1] = fn(this.slots[2 * i + 1] as V);
  }

  private grow(): void {
    const { slots, hashes } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<unknown>(cap * 2).fill(undefined);
    this.count = 0;
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== 0) this.set(slots[2 * i] as string, slots[2 * i + 1] as V);
  }
}

/**
 * Equality lookups on any scalar: strings through the StringTable, the rare number, boolean or null keys through a
 * Map (their hashing is cheap and exact).
 */
export class ScalarTable<V> {
  private readonly strings = new StringTable<V>();
  private readonly others = new Map<unknown, V>();

  get size(): number {
    return this.strings.size + this.others.size;
  }

  get(key: unknown): V | undefined {
    if (typeof key === 'string') return this.strings.get(key);
    return this.others.size === 0 ? undefined : this.others.get(key);
  }

  set(key: unknown, value: V): void {
    if (typeof key === 'string') this.strings.set(key, value);
    else this.others.set(key, value);
  }

  forEach(fn: (value: V) => void): void {
    this.strings.forEach((v) => fn(v));
    this.others.forEach((v) => fn(v));
  }

  replaceAll(fn: (value: V) => V): void {
    this.strings.replaceAll(fn);
    for (const [k, v] of this.others) this.others.set(k, fn(v));
  }
}
