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
    if (n === 0) return -1;
    const at = this.cursor < n ? this.cursor : 0;
    if (slots[at]!.canTake(item)) return this.chose(at, n);
    if (hint >= 0 && hint < n && hint !== at && slots[hint]!.canTake(item)) return this.chose(hint, n);
    for (let i = 1; i < n; i++) {
      let idx = at + i;
      if (idx >= n) idx -= n;
      if (idx !== hint && slots[idx]!.canTake(item)) return this.chose(idx, n);
    }
    return -1;
  }

  private chose(idx: number, n: number): number {
    this.cursor = idx + 1 === n ? 0 : idx + 1;
    return idx;
  }
}
