// The slots of one origin, the same for both backends: the wait queue, the
// round-robin choice, and one dispatch loop (`pump`) that alone moves requests from
// the queue onto slots. Slots report what happened (a request to move, requests to
// resend, a socket connected) and end with `wake()`; nothing calls back into a slot
// while the loop runs, and the loop never runs inside itself. Also: ready(), close()
// and destroy(), the dial-failure move, and stats. A backend supplies the slots.
import { isIP } from 'node:net';
import { AddressBook } from '../conn/addresses.js';
import { makeTLSOptions, SessionCache, type Endpoint } from '../conn/dial.js';
import { connectErrorChannel } from '../diagnostics.js';
import type { HttpClientPoolError } from '../errors.js';
import type { Body, Config, Headers } from '../options.js';
import { RequestEncoder } from '../parser/request.js';
import type { Call } from './call.js';
import { RoundRobin } from './choose.js';
import { Queue } from './queue.js';
import { Recycler, Request, type DispatchHandler, type RequestOwner } from './request.js';
import type { Slot, SlotReports } from './slot.js';
import type { OriginStats } from './stats.js';
import type { Target } from './target.js';
import { AbortError } from '../errors.js';

/** Settled requests an origin keeps for reuse, at most: about what one turn settles under load. */
const RECYCLED_KEPT = 64;

/** What a slot of either backend is built from. */
export interface SlotContext {
  readonly config: Config;
  readonly endpoint: Endpoint;
  readonly sessions: SessionCache;
  /** The host's addresses when the slots spread over them; null for IP literals and unix sockets. */
  readonly addresses: AddressBook | null;
  readonly reports: SlotReports;
  /** Where settled requests wait to be used again, if the backend allows it: slots call its `newTurn()`. */
  readonly recycler: Recycler | null;
}

/** How a backend makes its slots and readies a request for them. */
export interface Backend {
  createSlot(id: number, ctx: SlotContext): Slot;
  /** Sockets are recycled when the host's address set changes (`dnsRefreshInterval`). */
  readonly followsAddresses: boolean;
  /**
   * Settled requests may be used again for new calls (see Recycler): nothing of the
   * backend holds a request after it settled.
   */
  readonly recyclesRequests: boolean;
  /** Readies a checked, encoded request for this backend's slots (NodePool builds node:http's headers). */
  prepare(req: Request, headers: Headers | undefined, body: Body | null | undefined, config: Config, hostHeader: string): void;
}

export class Origin implements RequestOwner, SlotReports {
  readonly origin: string;
  readonly slots: Slot[] = [];
  private readonly config: Config;
  private readonly encoder: RequestEncoder;
  private readonly hostHeader: string;
  private readonly addresses: AddressBook | null;
  private readonly queue = new Queue<Request>();
  private readonly rr = new RoundRobin();
  private readonly backend: Backend;
  private readonly recycler: Recycler | null;
  /** Requests started and not yet settled. */
  private active = 0;
  private opened = false;
  private closing = false;
  private pumping = false;
  private again = false;
  /** The slot that last reported it can take work, until it is given some; or -1 (see RoundRobin.pick). */
  private woken = -1;
  private onDrained: (() => void) | null = null;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /**
   * Set by the client for every origin but the base URL's. Called, once, when the origin
   * has no socket left and nothing queued, in flight, dialing or awaited; it has then
   * closed its slots for good and stopped its timers, and the client forgets it.
   */
  onUnused: ((o: Origin) => void) | null = null;
  private sweepQueued = false;

  constructor(target: Target, config: Config, backend: Backend) {
    this.config = config;
    this.backend = backend;
    this.recycler = backend.recyclesRequests ? new Recycler(RECYCLED_KEPT) : null;
    this.origin = target.origin;
    const endpoint: Endpoint = {
      origin: target.origin,
      hostname: target.hostname,
      port: target.port,
      socketPath: config.socketPath,
      tls: target.secure ? makeTLSOptions(target.hostname, config.tls, config.insecureSkipVerify) : null,
    };
    this.hostHeader = target.hostHeader;
    this.encoder = new RequestEncoder(target.hostHeader, config.headers);
    // A host name may stand for several backends: spread the slots over its addresses.
    this.addresses =
      config.socketPath === undefined && isIP(target.hostname) === 0
        ? backend.followsAddresses
          ? new AddressBook(target.hostname, config.lookup, config.dnsRefreshInterval, () => this.recycleAll())
          : new AddressBook(target.hostname, config.lookup, 0, null)
        : null;
    const sessions = new SessionCache();
    for (let i = 0; i < config.size; i++) {
      const ctx: SlotContext = { config, endpoint, sessions, addresses: this.addresses, reports: new SlotReporter(this, i), recycler: this.recycler };
      this.slots.push(backend.createSlot(i, ctx));
    }
    this.sweep = this.sweep.bind(this);
  }

  /** Dials every slot up front (where the backend can), so traffic spreads from the first request on. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.addresses?.start();
    for (const s of this.slots) s.connect();
  }

  /**
   * Sends a checked call: its response read whole (`handler` null), or handed to
   * `handler` as it arrives. Throws `InvalidArgumentError` for a bad header or body,
   * before anything is sent.
   */
  send(method: string, call: Call, body: Body | null | undefined, handler: DispatchHandler | null): Request {
    const req = this.newRequest(method, call, handler);
    this.encoder.encode(req, method, call.path, call.headers, body, call.expectContinue);
    this.backend.prepare(req, call.headers, body, this.config, this.hostHeader);
    if (call.signal?.aborted) throw abortedAtCall(this.origin, call.signal);
    this.open();
    this.active++;
    req.start(this);
    if (!req.settled) {
      this.queue.push(req);
      this.pump();
    }
    return req;
  }

  private newRequest(method: string, call: Call, handler: DispatchHandler | null): Request {
    const r = this.recycler;
    if (r === null) return new Request(method, call.path, call.signal, call.timeoutMs, handler);
    let req = r.take();
    if (req === null) req = new Request(method, call.path, call.signal, call.timeoutMs, handler);
    else req.init(method, call.path, call.signal, call.timeoutMs, handler);
    req.recycleInto(r);
    return req;
  }

  /** Resolves when every slot has a connected socket; dials the slots that have none. */
  ready(): Promise<void> {
    if (this.closing) return Promise.resolve();
    for (const s of this.slots) s.connect();
    if (this.allConnected()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject });
      if (this.readyWaiters.length === 1) this.holdAll();
    });
  }

  /** Lets every started request settle, then closes the slots. The client refuses new calls itself. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.onDrained = resolve;
      this.maybeDrained();
    });
  }

  /** Fails every queued and in-flight request, each with its own error from `reason()`, and closes the slots at once. */
  destroy(reason: () => HttpClientPoolError): void {
    this.closing = true;
    this.addresses?.stop();
    for (let req = this.queue.shift(); req !== null; req = this.queue.shift()) {
      const err = reason();
      err.origin ??= this.origin;
      err.phase ??= 'queue';
      req.fail(err);
    }
    for (const s of this.slots) s.destroy(reason);
    this.rejectReady(reason());
    this.maybeDrained();
  }

  stats(now: number): OriginStats {
    return { origin: this.origin, queued: this.queue.length, sockets: this.slots.map((s) => s.stats(now)) };
  }

  // ---- RequestOwner

  unqueue(req: Request): void {
    this.queue.remove(req);
  }

  settled(_req: Request): void {
    this.active--;
    if (this.closing) this.maybeDrained();
    else if (this.active === 0) this.emptied();
  }

  // ---- SlotReports

  connected(id: number): void {
    this.addresses?.succeeded(id);
    if (this.readyWaiters.length !== 0 && this.allConnected()) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w.resolve();
      this.holdAll();
    }
  }

  get awaited(): boolean {
    return this.readyWaiters.length !== 0;
  }

  dialFailed(id: number, req: Request | null, err: HttpClientPoolError): void {
    this.addresses?.failed(id);
    if (connectErrorChannel.hasSubscribers) connectErrorChannel.publish({ origin: this.origin, socketId: id, error: err });
    this.rejectReady(err);
    if (req === null) return;
    // Nothing was sent, so any method may move to another slot; give up once every slot failed it.
    if (++req.dialFailures >= this.slots.length || this.closing) req.fail(err);
    else this.queue.unshift(req);
  }

  requeue(reqs: Request[]): void {
    // Ahead of the queue, in their original order.
    for (let i = reqs.length - 1; i >= 0; i--) this.queue.unshift(reqs[i]!);
  }

  wake(): void {
    this.pump();
  }

  /**
   * Slot `id` may take requests now: it is the first choice when the round-robin one
   * cannot, now or for the next call (a caller answered just now sends its next request
   * from its own callback, after this loop ran with an empty queue).
   */
  wakeFrom(id: number): void {
    this.woken = id;
    this.pump();
  }

  /** A slot lost its last socket, or the last request settled: maybe nothing is left of the origin. */
  emptied(): void {
    if (this.sweepQueued || this.onUnused === null || this.closing || !this.unused()) return;
    // Decided after the current callback: a slot may dial again at once (recycling), and
    // a caller answered just now may be sending to this origin again.
    this.sweepQueued = true;
    queueMicrotask(this.sweep);
  }

  /**
   * The dispatch loop: hands the queue's requests, oldest first, to the next slot in
   * round-robin order that can take each. Strict FIFO: a request no slot can take
   * stops it. A report that arrives while it runs (a slot that took a request and
   * failed at once, say) makes it go round again instead of running inside itself.
   */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    do {
      this.again = false;
      for (let req = this.queue.peek(); req !== null; req = this.queue.peek()) {
        if (req.signalled) {
          // Its signal already fired (one signal shared with a request that just left):
          // it settles as aborted in the queue rather than taking a slot.
          req.handleEvent();
          continue;
        }
        const i = this.rr.pick(this.slots, req, this.woken);
        if (i < 0) break;
        if (i === this.woken) this.woken = -1;
        this.queue.shift();
        // A dispatch handler hears of it now, and may abort it then and there.
        if (req.starting()) this.slots[i]!.take(req);
      }
    } while (this.again);
    this.pumping = false;
  }

  /** Recycles every socket (the host's addresses changed): none fails, each re-dials after its current work. */
  private recycleAll(): void {
    if (this.closing) return;
    for (const s of this.slots) s.recycle();
  }

  /** No socket, and nothing queued, in flight, dialing or awaited. */
  private unused(): boolean {
    if (this.active !== 0 || this.queue.length !== 0 || this.readyWaiters.length !== 0) return false;
    for (const s of this.slots) if (!s.vacant) return false;
    return true;
  }

  /** Forgets the origin if it is still unused: its slots close for good and its refresh timer stops. */
  private sweep(): void {
    this.sweepQueued = false;
    const forget = this.onUnused;
    if (forget === null || this.closing || !this.unused()) return;
    this.closing = true;
    this.addresses?.stop();
    for (const s of this.slots) s.destroy(null);
    forget(this);
  }

  private allConnected(): boolean {
    for (const s of this.slots) if (!s.connected) return false;
    return true;
  }

  private rejectReady(err: Error): void {
    const waiters = this.readyWaiters;
    if (waiters.length === 0) return;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(err);
    this.holdAll();
  }

  /** A `ready()` began or ended waiting: the connecting sockets hold the process only meanwhile. */
  private holdAll(): void {
    for (const s of this.slots) s.hold();
  }

  private maybeDrained(): void {
    if (this.active !== 0 || this.onDrained === null) return;
    this.addresses?.stop();
    for (const s of this.slots) s.destroy(null);
    const done = this.onDrained;
    this.onDrained = null;
    done();
  }
}

/** What one slot reports to its origin: the origin's own reports, and which slot woke it. */
class SlotReporter implements SlotReports {
  constructor(
    private readonly origin: Origin,
    private readonly id: number,
  ) {}
  connected(id: number): void {
    this.origin.connected(id);
  }
  dialFailed(id: number, req: Request | null, err: HttpClientPoolError): void {
    this.origin.dialFailed(id, req, err);
  }
  requeue(reqs: Request[]): void {
    this.origin.requeue(reqs);
  }
  wake(): void {
    this.origin.wakeFrom(this.id);
  }
  emptied(): void {
    this.origin.emptied();
  }
  get awaited(): boolean {
    return this.origin.awaited;
  }
}

/** The rejection of a call whose signal had already fired: nothing was sent. */
export function abortedAtCall(origin: string, signal: AbortSignal): AbortError {
  return new AbortError({ cause: signal.reason, origin, phase: 'call' });
}

