// The round-robin choice, and nothing else: the next slot after the last one chosen
// that can take the request. With every slot free, request k goes to slot k mod N.
// When the slot at the cursor is busy (its request outlived a lap), the next free slot
// after it is taken, so one slow request costs its own slot a turn and shifts no share
// onto another. That scan is short while at most half the slots are in use. Past half,
// the slot that just reported it can take work (`hint`) is tried before any scan:
// answers come back in any order, and a scan for the one that went idle would cost
// O(slots) a request. (Taking the hint at any load gave one socket of 8 half again the
// others' share at 4 requests in flight on a loaded machine: each slow request handed
// its turn to whichever socket had answered last.)

export interface Choosable<T> {
  canTake(item: T): boolean;
}

export class RoundRobin {
  private cursor = 0;

  /**
   * Index of the next slot in round-robin order that can take `item` (or of `hint`, see
   * above), or -1. `inUse`: the requests not yet settled, counting `item` (an upper
   * bound on those the slots carry); the hint is tried only when they are more than
   * half the slots.
   */
  pick<T>(slots: readonly Choosable<T>[], item: T, hint = -1, inUse = slots.length): number {
    const n = slots.length;
    if (n === 0) return -1;
    const at = this.cursor < n ? this.cursor : 0;
    if (slots[at]!.canTake(item)) return this.chose(at, n);
    if (inUse * 2 <= n) hint = -1;
    else if (hint >= 0 && hint < n && hint !== at && slots[hint]!.canTake(item)) return this.chose(hint, n);
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
