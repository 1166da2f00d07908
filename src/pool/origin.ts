// The slots of one origin, the same for both backends: the wait queue, the
// round-robin choice, and one dispatch loop (`pump`) that alone moves requests from
// the queue onto slots. Slots report what happened (a request to move, requests to
// resend, a socket connected) and end with `wake()`; nothing calls back into a slot
// while the loop runs, and the loop never runs inside itself. Also: ready(), close()
// and destroy(), the dial-failure move, and stats. A backend supplies the slots.
import { isIP } from 'node:net';
import { AddressBook, isLookupFailure } from '../conn/addresses.js';
import { makeTLSOptions, SessionCache, type Endpoint } from '../conn/dial.js';
import { connectErrorChannel } from '../diagnostics.js';
import { ProxyError, type HttpClientPoolError } from '../errors.js';
import { proxyFor } from '../conn/proxy-env.js';
import { makeRoute } from '../conn/proxy.js';
import type { Body, Config, Headers } from '../options.js';
import { RequestEncoder, withUpgrade } from '../parser/request.js';
import type { Call } from './call.js';
import { RoundRobin } from './choose.js';
import { Queue } from './queue.js';
import { atTurnEnd, type TurnEnd } from './turn.js';
import { Recycler, Request, type DispatchHandler, type RequestOwner } from './request.js';
import type { DestroyReason, Slot, SlotReports } from './slot.js';
import type { OriginStats } from './stats.js';
import type { Target } from './target.js';
import { AbortError, ConnectError } from '../errors.js';

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

/** What an origin tells its client, for undici's events (`connect`, `disconnect`, `connectionError`, `drain`). */
export interface OriginEvents {
  connected(origin: string, id: number): void;
  disconnected(origin: string, id: number): void;
  connectionFailed(origin: string, id: number, err: HttpClientPoolError): void;
  /** A request that had to wait was handed to a socket, and nothing waits any more. */
  drained(origin: string): void;
}

/** How a backend makes its slots and readies a request for them. */
export interface Backend {
  createSlot(id: number, ctx: SlotContext): Slot;
  /** Sockets are recycled when the host's address set changes (`dnsRefreshInterval`). */
  readonly followsAddresses: boolean;
  /** Every slot dials when the origin opens; otherwise only a request or `ready()` dials. */
  readonly dialsEagerly: boolean;
  /**
   * Settled requests may be used again for new calls (see Recycler): nothing of the
   * backend holds a request after it settled.
   */
  readonly recyclesRequests: boolean;
  /** Readies a checked, encoded request for this backend's slots (NodePool builds node:http's headers). */
  /** `proxyHeaders`: the proxy's headers when requests go to a proxy in absolute form (sent first, as defaults), else null. */
  prepare(req: Request, headers: Headers | undefined, body: Body | null | undefined, config: Config, hostHeader: string, proxyHeaders: Headers | null): void;
}

export class Origin implements RequestOwner, SlotReports, TurnEnd {
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
  /** Batched requests are queued: the turn's end will hand them out (pool/turn.ts). */
  private turnEndDue = false;
  /** The turn's end is handing them out now. */
  private atEnd = false;
  /** The last pump left requests no slot could take (dispatch() returns false then). */
  private unplaced = false;
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
  /** The proxy its sockets go through (`scheme://host:port`), or null. */
  readonly proxy: string | null;
  /** Headers for a proxy that gets the requests themselves (absolute form); null otherwise. */
  private readonly proxyHeaders: Headers | null;
  readonly absoluteProxy: string | null;
  /** Requests waiting before a retry (pool/retry.ts): in no queue and on no slot. */
  private readonly retryWaits = new Set<Request>();
  /** Holds the process while requests wait to be retried (the shared clock does not). */
  private waitHold: NodeJS.Timeout | null = null;
  /** Retries of responses each slot carried. */
  private readonly retriesBySlot: number[];
  /** A request had to wait in the queue: the client hears when nothing waits any more. */
  needDrain = false;
  /** Which slots have a socket that connected (only those disconnect). */
  private readonly live: boolean[] = [];

  constructor(
    target: Target,
    config: Config,
    backend: Backend,
    private readonly events: OriginEvents | null = null,
  ) {
    this.config = config;
    this.backend = backend;
    this.recycler = backend.recyclesRequests ? new Recycler(RECYCLED_KEPT) : null;
    this.origin = target.origin;
    const tls = target.secure ? makeTLSOptions(target.hostname, config.tls, config.insecureSkipVerify) : null;
    // Unix-socket targets ignore proxies.
    const server = config.socketPath === undefined ? proxyFor(config.proxy, target.secure, target.hostname, target.port) : null;
    const route = server === null ? null : makeRoute(server, target.secure, target.hostname, target.port, makeTLSOptions(server.hostname, config.tls, config.insecureSkipVerify));
    const endpoint: Endpoint = {
      origin: target.origin,
      hostname: target.hostname,
      port: target.port,
      socketPath: config.socketPath,
      tls,
      proxy: route,
    };
    this.proxy = server?.uri ?? null;
    this.hostHeader = target.hostHeader;
    // An http target through a proxy: the proxy gets the requests in absolute form, with its headers.
    const absolute = route !== null && !route.tunnel;
    this.proxyHeaders = absolute ? server!.headers : null;
    this.absoluteProxy = absolute ? server!.uri : null;
    this.encoder = absolute
      ? new RequestEncoder(target.hostHeader, { ...server!.headers, ...config.headers }, target.origin)
      : new RequestEncoder(target.hostHeader, config.headers);
    this.retriesBySlot = new Array<number>(config.size).fill(0);
    // A host name may stand for several backends: spread the slots over its addresses
    // (through a proxy the proxy resolves it).
    this.addresses =
      config.socketPath === undefined && route === null && isIP(target.hostname) === 0
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

  /** Dials every slot up front (where the backend does), so traffic spreads from the first request on. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.addresses?.start();
    if (this.backend.dialsEagerly) for (const s of this.slots) s.connect();
  }

  /**
   * Sends a checked call: its response read whole (`handler` null), or handed to
   * `handler` as it arrives. Throws `InvalidArgumentError` for a bad header or body,
   * before anything is sent.
   */
  send(method: string, call: Call, body: Body | null | undefined, handler: DispatchHandler | null): Request {
    const req = this.newRequest(method, call, handler);
    req.headersTimeout = call.headersTimeout;
    req.bodyTimeout = call.bodyTimeout;
    req.blocking = call.blocking;
    this.encoder.encode(req, method, call.path, call.headers, body, call.expectContinue);
    if (call.upgrade !== null) {
      req.upgrade = 1;
      req.protocol = call.upgrade;
      req.head = withUpgrade(req.head, call.upgrade);
    } else if (method === 'CONNECT') req.upgrade = 2;
    this.backend.prepare(req, call.headers, body, this.config, this.hostHeader, this.proxyHeaders);
    if (call.idempotent !== null) req.retryable = call.idempotent;
    req.batched = call.batched;
    if (call.signal?.aborted) throw abortedAtCall(this.origin, call.signal);
    this.open();
    this.active++;
    req.start(this, call.retry, call.idempotent ?? undefined);
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

  /**
   * Fails every queued and in-flight request, each with its own error from `reason()`
   * (or all with the caller's error itself), and closes the slots at once.
   */
  destroy(reason: DestroyReason): void {
    this.closing = true;
    this.addresses?.stop();
    for (let req = this.queue.shift(); req !== null; req = this.queue.shift()) this.failQueued(req, reason);
    // Those waiting to be retried are queued in all but name.
    for (const req of [...this.retryWaits]) {
      this.unwait(req);
      this.failQueued(req, reason);
    }
    for (const s of this.slots) s.destroy(reason);
    this.rejectReady(typeof reason === 'function' ? reason() : reason);
    this.maybeDrained();
  }

  /** A request that is on no socket fails with the caller's own error, or a fresh one of ours. */
  private failQueued(req: Request, reason: DestroyReason): void {
    if (typeof reason !== 'function') return req.fail(reason);
    const err = reason();
    err.origin ??= this.origin;
    err.phase ??= 'queue';
    req.fail(err);
  }

  stats(now: number): OriginStats {
    const sockets = this.slots.map((s) => s.stats(now));
    for (const s of sockets) s.retries = this.retriesBySlot[s.id] ?? 0;
    return { origin: this.origin, proxy: this.proxy, queued: this.queue.length, retryWaiting: this.retryWaits.size, sockets };
  }

  // ---- RequestOwner

  unqueue(req: Request): void {
    if (req.waiting) this.unwait(req);
    else this.queue.remove(req);
  }

  retryWait(req: Request, _statusCode: number, _delayMs: number): void {
    if (req.carrierId >= 0) this.retriesBySlot[req.carrierId]!++;
    this.retryWaits.add(req);
    this.waitHold ??= setInterval(noop, 1 << 30);
  }

  retryNow(req: Request): void {
    this.unwait(req);
    this.queue.unshift(req);
    this.pump();
  }

  private unwait(req: Request): void {
    this.retryWaits.delete(req);
    if (this.retryWaits.size !== 0 || this.waitHold === null) return;
    clearInterval(this.waitHold);
    this.waitHold = null;
  }

  settled(_req: Request): void {
    this.active--;
    if (this.closing) this.maybeDrained();
    else if (this.active === 0) this.maybeUnused();
  }

  // ---- SlotReports

  connected(id: number): void {
    this.addresses?.succeeded(id);
    this.live[id] = true;
    this.events?.connected(this.origin, id);
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
    if (connectErrorChannel.hasSubscribers) connectErrorChannel.publish({ origin: this.origin, socketId: id, error: err });
    this.events?.connectionFailed(this.origin, id, err);
    this.rejectReady(err);
    if (isLookupFailure(err.cause)) return this.lookupFailed(req, err);
    this.addresses?.failed(id);
    if (req === null) return;
    // Nothing was sent, so any method may move to another slot; give up once every slot
    // failed it. A proxy's refusal is its answer, not a slot's bad luck: it fails at once.
    if (++req.dialFailures >= this.slots.length || this.closing || err instanceof ProxyError) req.fail(err);
    else this.queue.unshift(req);
  }

  /**
   * The host name did not resolve: no slot can do better (they share the lookup, and its
   * failure is kept a while, see AddressBook), so the request and every queued one fail
   * now, each with its own ConnectError and the lookup's error as cause.
   */
  private lookupFailed(req: Request | null, err: HttpClientPoolError): void {
    if (req !== null) req.fail(err);
    const cause = err.cause as Error;
    for (let q = this.queue.shift(); q !== null; q = this.queue.shift()) {
      q.fail(new ConnectError(`connect failed: ${cause.message}`, { cause, origin: this.origin, phase: 'dial' }));
    }
  }

  requeue(reqs: Request[]): void {
    // Ahead of the queue, in their original order.
    for (let i = reqs.length - 1; i >= 0; i--) this.queue.unshift(reqs[i]!);
  }

  wake(): void {
    this.pump();
  }

  atTurnEnd(): void {
    this.turnEndDue = false;
    this.atEnd = true;
    try {
      this.pump();
    } finally {
      this.atEnd = false;
    }
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

  /** Slot `id` lost its last socket: maybe nothing is left of the origin. */
  emptied(id: number): void {
    if (this.live[id] === true) {
      this.live[id] = false;
      this.events?.disconnected(this.origin, id);
    }
    this.maybeUnused();
  }

  /** A socket was lost, or the last request settled. */
  private maybeUnused(): void {
    if (this.sweepQueued || this.onUnused === null || this.closing || !this.unused()) return;
    // Decided after the current callback: a slot may dial again at once (recycling), and
    // a caller answered just now may be sending to this origin again.
    this.sweepQueued = true;
    queueMicrotask(this.sweep);
  }

  /**
   * The dispatch loop: hands the queue's requests, oldest first, to the next slot in
   * round-robin order that can take each. Strict FIFO: a request no slot can take
   * stops it, and so does a batched one before its turn's end (which runs the loop
   * again). A report that arrives while it runs (a slot that took a request and failed
   * at once, say) makes it go round again instead of running inside itself.
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
        if (req.batched && !this.atEnd) {
          if (!this.turnEndDue) {
            this.turnEndDue = true;
            atTurnEnd(this);
          }
          break;
        }
        const i = this.rr.pick(this.slots, req, this.woken, this.active);
        if (i < 0) {
          this.unplaced = true;
          break;
        }
        if (i === this.woken) this.woken = -1;
        this.queue.shift();
        req.carrierId = i;
        // A dispatch handler hears of it now, and may abort it then and there.
        if (req.starting()) this.slots[i]!.take(req);
      }
    } while (this.again);
    this.pumping = false;
    if (this.queue.length !== 0) return;
    this.unplaced = false;
    if (this.needDrain) {
      this.needDrain = false;
      this.events?.drained(this.origin);
    }
  }

  /**
   * Requests wait for a slot: the last pump left some that no slot could take, or
   * batched ones wait for the turn's end and more are started than the slots carry at once.
   */
  get waiting(): boolean {
    return this.unplaced || (this.queue.length !== 0 && this.active > this.slots.length * this.config.pipelining);
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
  emptied(id: number): void {
    this.origin.emptied(id);
  }
  get awaited(): boolean {
    return this.origin.awaited;
  }
}

/** The rejection of a call whose signal had already fired: nothing was sent. */
export function abortedAtCall(origin: string, signal: AbortSignal): AbortError {
  return new AbortError({ cause: signal.reason, origin, phase: 'call' });
}

function noop(): void {}
