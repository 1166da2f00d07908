// A first-in first-out queue on a ring of slots. Once the ring is large enough, push and
// shift allocate nothing; an array's shift() and `length = 0` reallocate its storage as
// they go, which on a per-request path costs up to 150 bytes a request.

export class Fifo<T> {
  private count = 0;
  private items: (T | undefined)[] = [undefined, undefined, undefined, undefined];
  private head = 0;
  /** Capacity - 1; capacity stays a power of two. */
  private mask = 3;

  /** Number of items. */
  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & this.mask] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  /** The item at position `i` (0 = oldest); `i` must be below `length`. */
  at(i: number): T {
    return this.items[(this.head + i) & this.mask]!;
  }

  indexOf(item: T): number {
    for (let i = 0; i < this.length; i++) if (this.at(i) === item) return i;
    return -1;
  }

  /** Removes the item at position `i`, keeping the order of the others. */
  removeAt(i: number): void {
    for (let j = i; j + 1 < this.length; j++) this.items[(this.head + j) & this.mask] = this.at(j + 1);
    this.count--;
    this.items[(this.head + this.length) & this.mask] = undefined;
  }

  /** Empties the queue and returns its items, oldest first. */
  takeAll(): T[] {
    const all: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) all.push(item);
    return all;
  }

  clear(): void {
    while (this.length !== 0) this.shift();
    this.head = 0;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array<T | undefined>(this.items.length * 2).fill(undefined);
    for (let i = 0; i < this.length; i++) next[i] = this.at(i);
    this.items = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
