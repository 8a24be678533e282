/** The last `max` firings of a rule, overwritten in place (no shifting a list on every firing). */
export class TraceRing<T> {
  private items: T[] = [];
  private next = 0;
  constructor(private readonly max: number) {}

  push(t: T): void {
    if (this.max <= 0) return;
    if (this.items.length < this.max) this.items.push(t);
    else this.items[this.next] = t;
    this.next = (this.next + 1) % this.max;
  }

  /** Oldest first. */
  list(): T[] {
    return this.items.length < this.max ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}
