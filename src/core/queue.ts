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
  private head: T | null = null;
  private tail: T | null = null;

  push(item: T): void {
    item.prev = this.tail;
    item.next = null;
    if (this.tail === null) this.head = item;
    else this.tail.next = item;
    this.tail = item;
    item.queued = true;
    this.length++;
  }

  /** Puts `item` first: a request that lost its socket goes ahead of later ones. */
  unshift(item: T): void {
    item.prev = null;
    item.next = this.head;
    if (this.head === null) this.tail = item;
    else this.head.prev = item;
    this.head = item;
    item.queued = true;
    this.length++;
  }

  peek(): T | null {
    return this.head;
  }

  shift(): T | null {
    const item = this.head;
    if (item !== null) this.remove(item);
    return item;
  }

  remove(item: T): void {
    if (!item.queued) return;
    if (item.prev === null) this.head = item.next;
    else item.prev.next = item.next;
    if (item.next === null) this.tail = item.prev;
    else item.next.prev = item.prev;
    item.prev = item.next = null;
    item.queued = false;
    this.length--;
  }
}
