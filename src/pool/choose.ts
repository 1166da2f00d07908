// The round-robin choice, and nothing else: the next slot after the last one chosen
// that can take the request. With every slot free, request k goes to slot k mod N.

export interface Choosable<T> {
  canTake(item: T): boolean;
}

export class RoundRobin {
  private cursor = 0;

  /** Index of the next slot in round-robin order that can take `item`, or -1. */
  pick<T>(slots: readonly Choosable<T>[], item: T): number {
    const n = slots.length;
    for (let i = 0; i < n; i++) {
      let idx = this.cursor + i;
      if (idx >= n) idx -= n;
      if (slots[idx]!.canTake(item)) {
        this.cursor = idx + 1 === n ? 0 : idx + 1;
        return idx;
      }
    }
    return -1;
  }
}
