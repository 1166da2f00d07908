// FIFO of requests waiting for a free socket. Intrusive links on the requests
// themselves: push, shift and removal from the middle (abort, timeout) are O(1)
// and allocate nothing.

export interface Queued<T> {
  prev: T | null;
  next: T | null;
  queued: boolean;
}

export class Queue<T extends Queued<T>> {
  length = 0;
  private first: T | null = null;
  private last: T | null = null;

  push(item: T): void {
    item.prev = this.last;
    item.next = null;
    if (this.last === null) this.first = item;
    else this.last.next = item;
    this.last = item;
    item.queued = true;
    this.length++;
  }

  /** Puts `item` first: a request that lost its socket goes ahead of later ones. */
  unshift(item: T): void {
    item.prev = null;
    item.next = this.first;
    if (this.first === null) this.last = item;
    else this.first.prev = item;
    this.first = item;
    item.queued = true;
    this.length++;
  }

  peek(): T | null {
    return this.first;
  }

  shift(): T | null {
    const item = this.first;
    if (item !== null) this.remove(item);
    return item;
  }

  remove(item: T): void {
    if (!item.queued) return;
    if (item.prev === null) this.first = item.next;
    else item.prev.next = item.next;
    if (item.next === null) this.last = item.prev;
    else item.next.prev = item.prev;
    item.prev = item.next = null;
    item.queued = false;
    this.length--;
  }
}
