// The round-robin choice, and nothing else: the next free slot after the last one
// chosen. With every slot free, request k goes to slot k mod N.

export interface Choosable {
  readonly free: boolean;
}

export class RoundRobin {
  private cursor = 0;

  /** Index of the next free slot in round-robin order, or -1 when none is free. */
  pick(slots: readonly Choosable[]): number {
    const n = slots.length;
    for (let i = 0; i < n; i++) {
      let idx = this.cursor + i;
      if (idx >= n) idx -= n;
      if (slots[idx]!.free) {
        this.cursor = idx + 1 === n ? 0 : idx + 1;
        return idx;
      }
    }
    return -1;
  }
}
