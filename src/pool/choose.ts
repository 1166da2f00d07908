// The round-robin choice, and nothing else: the next slot after the last one chosen
// that can take the request. With every slot free, request k goes to slot k mod N.
// Under load, when the slot at the cursor is busy, the slot that just reported it can
// take work (`hint`) is tried before any scan: answers come back in any order, and a
// scan for the one that went idle would cost O(slots) a request.

export interface Choosable<T> {
  canTake(item: T): boolean;
}

export class RoundRobin {
  private cursor = 0;

  /** Index of the next slot in round-robin order that can take `item` (or of `hint`, see above), or -1. */
  pick<T>(slots: readonly Choosable<T>[], item: T, hint = -1): number {
    const n = slots.length;
    if (hint >= 0 && hint < n) {
      let at = this.cursor;
      if (at >= n) at = 0;
      if (at !== hint && !slots[at]!.canTake(item) && slots[hint]!.canTake(item)) {
        this.cursor = hint + 1 === n ? 0 : hint + 1;
        return hint;
      }
    }
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
