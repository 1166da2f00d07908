// Multi-address dialing: a host name's addresses, shared by the slots of its origin.
// Slot i dials address i mod k, so N sockets spread over every backend a name points
// to. The addresses are looked up again when a slot re-dials (at most once a second,
// shared by the slots dialing together) and every `dnsRefreshInterval`; when the set
// changes, the owner recycles its sockets so they follow the new set. A failed lookup is
// kept for FAILED_LOOKUP_MS: every dial of the origin meanwhile fails with it at once
// instead of asking again (a name that does not resolve would otherwise be looked up by
// each slot, and each request would wait for each lookup).
import * as dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { arm, disarm, type Timed } from './timers.js';

/** Addresses looked up within this long are reused by dials instead of looked up again. */
const REUSE_MS = 1000;
/** A failed lookup is the answer to every dial for this long (the README says so). */
export const FAILED_LOOKUP_MS = 1000;

/** Errors that are a failed lookup of a host name (not a failed connect): see `isLookupFailure`. */
const lookupFailures = new WeakSet<object>();

/** `err` is the failure of a name lookup: no other slot of the origin can do better. */
export function isLookupFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && lookupFailures.has(err);
}

type Lookup = (hostname: string, options: dns.LookupAllOptions, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export class AddressBook implements Timed {
  deadline = 0;
  clockIndex = -1;
  private addrs: LookupAddress[] = [];
  private key = '';
  private resolvedAt = -Infinity;
  /** The last lookup's failure and when it came; null once a lookup succeeded. */
  private failure: NodeJS.ErrnoException | null = null;
  private failedAt = -Infinity;
  private waiting: ((err: NodeJS.ErrnoException | null) => void)[] | null = null;
  /** Per slot: how far to move along the list after dials that failed. */
  private readonly shift: number[] = [];
  private readonly lookup: Lookup;

  constructor(
    private readonly hostname: string,
    lookup: LookupFunction | undefined,
    private readonly refreshMs: number,
    /** Called when the address set changed; null: nobody follows changes. */
    private readonly onChange: (() => void) | null,
    /** Milliseconds from some fixed point (tests give their own clock). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lookup = (lookup ?? dns.lookup) as unknown as Lookup;
  }

  /** Starts the periodic refresh. */
  start(): void {
    arm(this, this.refreshMs);
  }

  stop(): void {
    disarm(this);
  }

  /** The current address set, for stats and tests. */
  get current(): readonly LookupAddress[] {
    return this.addrs;
  }

  /** A `lookup` for `net.connect` that gives slot `slot` its address. */
  lookupFor(slot: number): LookupFunction {
    return (_hostname, _options, cb) => {
      this.get((err) => {
        if (err !== null) return cb(err, '', 0);
        const a = this.addrs[(slot + (this.shift[slot] ?? 0)) % this.addrs.length]!;
        cb(null, a.address, a.family);
      });
    };
  }

  /** Slot `slot` connected: its next dial starts from its own address again. */
  succeeded(slot: number): void {
    this.shift[slot] = 0;
  }

  /** Slot `slot` could not connect to its address: its next dial tries the next one. */
  failed(slot: number): void {
    if (this.addrs.length > 1) this.shift[slot] = (this.shift[slot] ?? 0) + 1;
  }

  expire(): void {
    this.resolve(null);
    arm(this, this.refreshMs);
  }

  private get(done: (err: NodeJS.ErrnoException | null) => void): void {
    const now = this.now();
    if (this.failure !== null && now - this.failedAt < FAILED_LOOKUP_MS) process.nextTick(done, this.failure);
    else if (now - this.resolvedAt < REUSE_MS && this.addrs.length !== 0) process.nextTick(done, null);
    else this.resolve(done);
  }

  /** Looks the host up again; `done` (if any) hears how it went. Lookups under way are shared. */
  private resolve(done: ((err: NodeJS.ErrnoException | null) => void) | null): void {
    if (this.waiting !== null) {
      if (done !== null) this.waiting.push(done);
      return;
    }
    this.waiting = done === null ? [] : [done];
    this.lookup(this.hostname, { all: true }, (err, addresses) => {
      const waiting = this.waiting!;
      this.waiting = null;
      let failure = err;
      if (failure === null && (!Array.isArray(addresses) || addresses.length === 0)) {
        failure = Object.assign(new Error(`no addresses for ${this.hostname}`), { code: 'ENOTFOUND' });
      }
      if (failure !== null) {
        if (typeof failure === 'object') lookupFailures.add(failure);
        this.failure = failure;
        this.failedAt = this.now();
      } else this.failure = null;
      let changed = false;
      if (failure === null) {
        const key = addresses.map((a) => `${a.family}/${a.address}`).sort().join(',');
        changed = this.key !== '' && key !== this.key;
        // The same set in another order (DNS round-robin rotates answers) keeps the old
        // order: slots dialing at different times must still get different addresses.
        if (key !== this.key) this.addrs = addresses;
        if (changed) this.shift.length = 0;
        this.key = key;
        this.resolvedAt = this.now();
      }
      for (const w of waiting) w(failure);
      if (changed && this.onChange !== null) this.onChange();
    });
  }
}
