// One call's request from start to settlement, the same for both backends. It is at
// once the queue entry, the whole-request deadline on the shared clock and the
// AbortSignal listener (via `handleEvent`), so a request costs one object (and, on the
// promise path, a promise): no closures, no Timeout. What a backend's slot does with it
// on the wire is the slot's business; the request only records what the retry rules need.
//
// One class for both ways a response is taken (one shape on every hot path): without a
// handler (get/post/request) the response is read whole and resolves the promise; with
// one (dispatch) the head, each piece of the body and the end go to the handler as they
// arrive, and the request is the handler's controller.
import type { Duplex } from 'node:stream';
import { arm, disarm, now, type Timed } from '../conn/timers.js';
import { nextRequestId, requestEndChannel, requestErrorChannel, requestRetryChannel, type RequestInfo } from '../diagnostics.js';
import { AbortError, HandlerError, type HttpClientPoolError, type Phase, ProxyError, RequestTimeoutError } from '../errors.js';
import { isIdempotent, type Encoded, type Streamed } from '../parser/request.js';
import type { Response } from '../response.js';
import { Dispatched, type DispatchController, type DispatchHandler, type LibraryController } from './controller.js';

export type { DispatchController, DispatchHandler, LibraryController } from './controller.js';
import type { Queued } from './queue.js';
import { Retries, type RetryPolicy } from './retry.js';

/** What a request needs of the slot carrying it. */
export interface Carrier {
  readonly id: number;
  /** The phase `req` is in on this slot, for errors raised from outside (abort, whole-request timeout). */
  phaseOf(req: Request): Phase;
  /** Takes back `req`, which was cancelled; whatever of it is on the wire is given up. */
  withdraw(req: Request): void;
  /** The caller paused (true) or resumed reading `req`'s response. */
  pause(req: Request, paused: boolean): void;
}

/** What a request reports to its origin. */
export interface RequestOwner {
  readonly origin: string;
  /** Takes a queued request out of the queue. */
  unqueue(req: Request): void;
  /** The proxy that gets its requests in absolute form (`scheme://host:port`), or null: a 407 is then the proxy's refusal. */
  readonly absoluteProxy: string | null;
  /** The request settled, one way or the other. */
  settled(req: Request): void;
  /** Its response is to be retried: it waits `delayMs` (on its own deadline), then `retryNow`. */
  retryWait(req: Request, statusCode: number, delayMs: number): void;
  /** Its wait is over: it goes back to the queue, ahead of requests that came later. */
  retryNow(req: Request): void;
}

export class Request implements Encoded, Queued<Request>, Timed {
  // Encoded form, filled by RequestEncoder.encode(); NodePool reads only closeAfter.
  head: Buffer = EMPTY;
  body: Buffer | null = null;
  closeAfter = false;
  streamed: Streamed | null = null;

  id = 0;
  method = '';
  path = '';
  signal: AbortSignal | null = null;
  /** HEAD: the response has no body whatever its headers say. */
  bodiless = false;
  /** May be sent again when its socket fails before any byte of its response (idempotent method, body not streamed). */
  retryable = false;
  /** May share a socket's pipeline with other requests (idempotent, not closing the socket). */
  pipelinable = false;

  /** The slot carrying it, set and cleared by that slot. */
  slot: Carrier | null = null;
  /**
   * What its backend keeps for it from prepare() on (NodePool: its node:http exchange);
   * null for Pool. A field, not a WeakMap: a WeakMap entry per request made every
   * scavenge walk ephemerons (NodePool: ~15 µs a request, see bench/README.md).
   */
  carriage: unknown = null;
  /** Some of it was handed to a socket. */
  written = false;
  /** It went out on a socket that had served a request before. */
  reused = false;
  /** It was already resent once. */
  retried = false;
  /** Position in its socket's write order (raw pipelining: matches write callbacks). */
  seq = 0;
  /** Dials that failed while this request waited on them. */
  dialFailures = 0;
  /** Index of the slot it was last handed to (set by the origin's loop). */
  carrierId = -1;
  /** Retries by status, when a policy covers it; null: none. */
  retries: Retries | null = null;
  /** Waiting before a retry: its deadline is the wait's end (or the whole-request deadline, if sooner). */
  waiting = false;
  /** Its own response head and body-gap timeouts, ms; -1: the pool's. */
  headersTimeout = -1;
  bodyTimeout = -1;
  /** Nothing pipelines with it (undici's `blocking`). */
  blocking = false;
  /** 1: it asks to upgrade (a 101 hands its socket over); 2: it is CONNECT (a 2xx does); 0: neither. */
  upgrade = 0;
  /** It waits for the end of its event-loop turn to be handed to a slot (Call.batched). */
  batched = false;
  /** The protocol it asks to upgrade to (NodePool writes the header itself). */
  protocol = '';
  /** The whole-request deadline on the shared clock; 0: none. Kept while the deadline serves a wait. */
  private endsAt = 0;
  /** While waiting: the wait ends before the whole-request deadline (else that fires first). */
  private waitFirst = false;

  /** Queue links; a settled request in a Recycler is linked through `next`. */
  prev: Request | null = null;
  next: Request | null = null;
  queued = false;

  deadline = 0;
  clockIndex = -1;

  /** Without a handler: settles with the whole response. */
  promise: Promise<Response> | null = null;
  private resolve: ((res: Response) => void) | null = null;
  private reject: ((err: Error) => void) | null = null;
  private settledFlag = false;
  private owner: RequestOwner | null = null;
  private timeoutMs = 0;
  /** dispatch(): the handler's controller and what steering needs; null on the promise path, which so stays small. */
  private dispatched: Dispatched | null = null;
  /** Where it goes once settled, to be used again; null: it is left to the GC. */
  private recycler: Recycler | null = null;

  constructor(method: string, path: string, signal: AbortSignal | null, timeoutMs: number, handler: DispatchHandler | null) {
    this.init(method, path, signal, timeoutMs, handler);
  }

  /**
   * Makes it a new request: from the constructor, or again for a settled request that a
   * Recycler handed back (nothing refers to it any more). Every field is set here.
   */
  init(method: string, path: string, signal: AbortSignal | null, timeoutMs: number, handler: DispatchHandler | null): void {
    this.head = EMPTY;
    this.body = null;
    this.closeAfter = false;
    this.streamed = null;
    this.id = nextRequestId();
    this.method = method;
    this.path = path;
    this.signal = signal;
    this.bodiless = method === 'HEAD';
    this.retryable = isIdempotent(method);
    this.pipelinable = false;
    this.slot = null;
    this.carriage = null;
    this.freshAttempt();
    this.carrierId = -1;
    this.retries = null;
    this.waiting = false;
    this.endsAt = 0;
    this.waitFirst = false;
    this.headersTimeout = -1;
    this.bodyTimeout = -1;
    this.blocking = false;
    this.upgrade = 0;
    this.batched = false;
    this.protocol = '';
    this.prev = null;
    this.next = null;
    this.queued = false;
    this.deadline = 0;
    this.clockIndex = -1;
    this.settledFlag = false;
    this.owner = null;
    this.timeoutMs = timeoutMs;
    this.recycler = null;
    if (handler !== null) {
      this.dispatched = new Dispatched(handler, this);
      this.promise = null;
      this.resolve = null;
      this.reject = null;
    } else {
      this.dispatched = null;
      this.promise = new Promise<Response>((resolve, reject) => {
        this.resolve = resolve;
        this.reject = reject;
      });
    }
  }

  /** Once settled, it goes to `recycler` (its caller holds no reference to it: see Recycler). */
  recycleInto(recycler: Recycler): void {
    this.recycler = recycler;
  }

  /** Its response is handed over in pieces as it arrives (a dispatched request), not read whole. */
  get streams(): boolean {
    return this.dispatched !== null;
  }

  /** A dispatched request's controller (what its handler is given); null on the promise path. */
  get controller(): DispatchController | null {
    return this.dispatched;
  }

  /** The caller paused reading its response (dispatch). */
  get paused(): boolean {
    return this.dispatched?.paused === true;
  }

  /** Starts the whole-request timer and listens to the signal; from here on it can be cancelled. */
  start(owner: RequestOwner, retry: RetryPolicy | null = null, idempotent?: boolean): void {
    this.owner = owner;
    // A streamed body is read once: it can never be sent again.
    // A streamed body is read once, and a socket handed over is not ours to resend on.
    if (this.streamed !== null || this.upgrade !== 0) this.retryable = false;
    else if (retry !== null && retry.covers(this.method, idempotent)) this.retries = new Retries(retry);
    this.pipelinable = this.retryable && !this.closeAfter && !this.blocking;
    arm(this, this.timeoutMs);
    this.endsAt = this.deadline;
    this.signal?.addEventListener('abort', this);
  }

  // ---- retries by status (pool/retry.ts decides; the origin queues it again)

  /** The response just decided on (Retries.decide) is retried: the request waits. */
  private retryLater(statusCode: number): void {
    const r = this.retries!;
    const delay = r.pending;
    r.pending = -1;
    r.count++;
    if (requestRetryChannel.hasSubscribers) {
      requestRetryChannel.publish({ request: this.info, socketId: this.carrierId, statusCode, attempt: r.count, delayMs: delay });
    }
    this.slot = null;
    this.waiting = true;
    // One deadline serves both: the wait's end, or the whole request's if that comes first.
    const left = this.endsAt === 0 ? Infinity : this.endsAt - now();
    // Which of the two it is, decided now: the clock may fire a deadline a little early.
    this.waitFirst = delay < left;
    arm(this, Math.max(1, Math.min(delay, left)));
    this.owner!.retryWait(this, statusCode, delay);
  }

  /** A 407 from a proxy that gets the requests themselves: its refusal, not the target's answer. */
  private proxyRefused(): boolean {
    const proxy = this.owner!.absoluteProxy;
    if (proxy === null) return false;
    this.cancel(new ProxyError(`the proxy ${proxy} asked for proxy authentication (407)`, 407, proxy, {}));
    return true;
  }

  /** The wait ended (expire): a new attempt, as if the request had just been queued. */
  private retryNow(): void {
    if (this.endsAt !== 0) {
      const left = this.endsAt - now();
      if (left <= 0) return this.expire(); // still waiting: it times out in the queue
      arm(this, left);
    }
    this.waiting = false;
    this.freshAttempt();
    this.owner!.retryNow(this);
  }

  /** What one attempt on the wire leaves behind, cleared for the next (a retry, or the request used again). */
  private freshAttempt(): void {
    this.written = false;
    this.reused = false;
    this.retried = false;
    this.seq = 0;
    this.dialFailures = 0;
  }

  get info(): RequestInfo {
    return { id: this.id, origin: this.owner?.origin ?? '', method: this.method, path: this.path };
  }

  /** Its signal fired (a queued request whose signal fired settles in the queue). */
  get signalled(): boolean {
    return this.signal?.aborted === true;
  }

  get settled(): boolean {
    return this.settledFlag;
  }

  // The retry rules, both backends. A request is sent at most twice, and never again
  // once any byte of an answer to it arrived (an interim 1xx included).

  /**
   * The request a broken socket (reset, EOF) was answering may go again if it went out
   * on a reused socket (a fresh one failing is news, not a stale keep-alive), and it is
   * idempotent or none of it was written.
   */
  mayResend(answerBegun: boolean): boolean {
    return !answerBegun && !this.retried && this.reused && (this.retryable || !this.written);
  }

  /** A request pipelined behind others on a socket that was dropped may go again if it is idempotent. */
  mayResendUnanswered(answerBegun: boolean): boolean {
    return !answerBegun && !this.retried && this.retryable;
  }

  // ---- steering, through its Dispatched (the handler's controller)

  /** The caller aborted (controller.abort). */
  abortByCaller(reason: unknown): void {
    if (this.settledFlag) return;
    this.cancel(new AbortError({ cause: reason }));
  }

  /** The caller paused (true) or resumed its response. */
  pauseByCaller(paused: boolean): void {
    if (paused && this.settledFlag) return;
    this.slot?.pause(this, paused);
  }

  // ---- what the slots report
  // Each handler method is called in a try of its own (no closure per call): a throw
  // before the end ends the request with a HandlerError; after it, it has nothing to end.

  /** The request is about to be written for the first time. False: it was cancelled meanwhile. */
  starting(): boolean {
    const d = this.dispatched;
    if (d === null || !Dispatched.begin(d)) return !this.settledFlag;
    const h = Dispatched.handlerOf(d);
    if (h.onRequestStart !== undefined) {
      try {
        h.onRequestStart(d);
      } catch (cause) {
        this.threw(cause);
      }
    }
    return !this.settledFlag;
  }

  /** The whole response, read whole (no handler). */
  succeed(res: Response): void {
    if (this.dispatched !== null) {
      // Not reached: a streamed request's response is handed over in pieces.
      this.responseStart(res.statusCode, res.rawHeaders, res.statusMessage);
      this.responseData(res.body);
      return this.responseEnd(res.rawTrailers, res.body.length);
    }
    if (this.settledFlag) return;
    if (res.statusCode === 407 && this.proxyRefused()) return;
    if (this.retries?.decide(res.statusCode, res.rawHeaders) === true) return this.retryLater(res.statusCode);
    this.settle();
    if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ request: this.info, statusCode: res.statusCode, bodyLength: res.body.length });
    this.resolve!(res);
  }

  /** The request failed; it settles. */
  fail(err: Error): void {
    if (!this.settle()) return;
    if (requestErrorChannel.hasSubscribers) requestErrorChannel.publish({ request: this.info, error: err });
    const d = this.dispatched;
    if (d === null) return this.reject!(err);
    const h = Dispatched.handlerOf(d);
    if (h.onResponseError === undefined) return;
    try {
      h.onResponseError(d, err);
    } catch {
      // Settled already: the throw has nothing left to end, and must not crash the process.
    }
  }

  /** A dispatched request's response head. */
  responseStart(statusCode: number, rawHeaders: string[], statusMessage: string): void {
    const d = this.dispatched;
    if (d === null) return;
    Dispatched.setStatus(d, statusCode);
    if (statusCode === 407 && this.proxyRefused()) return;
    // Retried: this response's head and body are not the handler's (the retry's end is at responseEnd).
    if (this.retries?.decide(statusCode, rawHeaders) === true) return;
    d.rawHeaders = rawHeaders;
    const h = Dispatched.handlerOf(d);
    if (h.onResponseStart === undefined || this.settledFlag) return;
    try {
      h.onResponseStart(d, statusCode, rawHeaders, statusMessage);
    } catch (cause) {
      this.threw(cause);
    }
  }

  /** A piece of a dispatched request's response body. */
  responseData(chunk: Buffer): void {
    const d = this.dispatched;
    if (d === null || (this.retries !== null && this.retries.pending >= 0)) return;
    const h = Dispatched.handlerOf(d);
    if (h.onResponseData === undefined || this.settledFlag) return;
    try {
      h.onResponseData(d, chunk);
    } catch (cause) {
      this.threw(cause);
    }
  }

  /** The end of a dispatched request's response: it settles. */
  responseEnd(rawTrailers: readonly string[], bodyLength: number): void {
    if (this.retries !== null && this.retries.pending >= 0 && !this.settledFlag) return this.retryLater(Dispatched.statusOf(this.dispatched!));
    if (!this.settle()) return;
    const d = this.dispatched;
    if (d === null) return;
    if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ request: this.info, statusCode: Dispatched.statusOf(d), bodyLength });
    d.rawTrailers = rawTrailers;
    const h = Dispatched.handlerOf(d);
    if (h.onResponseEnd === undefined) return;
    try {
      h.onResponseEnd(d, rawTrailers);
    } catch {
      // Settled already: the throw has nothing left to end, and must not crash the process.
    }
  }

  /** The connection switched protocols: `socket` is the handler's; the request settles. */
  upgradedTo(statusCode: number, rawHeaders: string[], socket: Duplex): void {
    if (!this.settle()) return void socket.destroy();
    const d = this.dispatched;
    if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ request: this.info, statusCode, bodyLength: 0 });
    const h = d === null ? undefined : Dispatched.handlerOf(d);
    if (h?.onRequestUpgrade === undefined) return void socket.destroy();
    d!.rawHeaders = rawHeaders;
    try {
      h.onRequestUpgrade(d!, statusCode, rawHeaders, socket);
    } catch {
      // Settled already; the socket is the handler's.
    }
  }

  /** Ends the request with `err` (its socket is dropped if it was on one): for this library's own handlers. */
  giveUp(err: HttpClientPoolError): void {
    this.cancel(err);
  }

  /** The whole-request deadline passed, or a retry's wait ended. */
  expire(): void {
    if (this.waiting && this.waitFirst) {
      this.waitFirst = false;
      return this.retryNow();
    }
    // Still `waiting` while cancelled, so that its origin takes it out of the waiting set.
    this.cancel(new RequestTimeoutError(this.timeoutMs, {}));
  }

  /** The signal fired (EventTarget listener object). */
  handleEvent(): void {
    this.cancel(new AbortError({ cause: this.signal?.reason }));
  }

  private threw(cause: unknown): void {
    if (!this.settledFlag) this.cancel(new HandlerError(cause));
  }

  private cancel(err: HttpClientPoolError): void {
    if (this.settledFlag) return;
    const owner = this.owner!;
    err.origin = owner.origin;
    const slot = this.slot;
    if (slot !== null) {
      err.socketId = slot.id;
      err.phase = slot.phaseOf(this);
      slot.withdraw(this);
    } else {
      err.phase = 'queue';
      owner.unqueue(this);
    }
    this.fail(err);
  }

  /** Marks the request settled; false when it already was. */
  private settle(): boolean {
    if (this.settledFlag) return false;
    this.settledFlag = true;
    this.waiting = false;
    disarm(this);
    this.signal?.removeEventListener('abort', this);
    this.owner?.settled(this);
    // Only an uploaded body's pump may still hold the request; anything else let go of it.
    if (this.recycler !== null && this.streamed === null) this.recycler.retire(this);
    return true;
  }
}

/**
 * Settled requests kept to be used again, so that a call costs no new Request (see
 * Request.init). A request settles deep inside a read, a timer or a handler, where the
 * callers above it may still look at it: it is retired there, and free to reuse only
 * from the next `newTurn()`, which a slot calls where a read begins on an empty stack
 * (every caller of the last turn has returned by then). Without turns (a TLS-only
 * origin) at most `keep` wait, and later ones are left to the GC.
 */
export class Recycler {
  private retired: Request | null = null;
  private retiredCount = 0;
  private free: Request | null = null;
  private freeCount = 0;

  constructor(private readonly keep: number) {}

  /** A request to build with `init`, or null: make a new one. */
  take(): Request | null {
    const r = this.free;
    if (r === null) return null;
    this.free = r.next;
    r.next = null;
    this.freeCount--;
    return r;
  }

  retire(req: Request): void {
    if (this.retiredCount + this.freeCount >= this.keep) return;
    req.next = this.retired;
    this.retired = req;
    this.retiredCount++;
  }

  /** A new turn of the event loop began: what retired before is free. */
  newTurn(): void {
    let r = this.retired;
    if (r === null) return;
    this.retired = null;
    this.retiredCount = 0;
    while (r !== null) {
      const next: Request | null = r.next;
      r.next = this.free;
      this.free = r;
      this.freeCount++;
      r = next;
    }
  }
}

const EMPTY = Buffer.alloc(0);
