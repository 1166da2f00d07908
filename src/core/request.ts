// One call's request from start to settlement, the same for both backends. It is at
// once the queue entry, the whole-request deadline on the shared clock and the
// AbortSignal listener (via `handleEvent`), so a request costs one object and a
// promise: no closures, no Timeout. What a backend's slot does with it on the wire is
// the slot's business; the request only records what the retry rules need.
import { arm, disarm, type Timed } from '../conn/timers.js';
import { nextRequestId, requestEndChannel, requestErrorChannel, type RequestInfo } from '../diagnostics.js';
import { AbortError, type HttpClientPoolError, type Phase, RequestTimeoutError } from '../errors.js';
import { isIdempotent, type Encoded } from '../parser/request.js';
import type { Response } from '../response.js';
import type { Queued } from './queue.js';

/** What a request needs of the slot carrying it. */
export interface Carrier {
  readonly id: number;
  /** The phase `req` is in on this slot, for errors raised from outside (abort, whole-request timeout). */
  phaseOf(req: Request): Phase;
  /** Takes back `req`, which was cancelled; whatever of it is on the wire is given up. */
  withdraw(req: Request): void;
}

/** What a request reports to its origin. */
export interface RequestOwner {
  readonly origin: string;
  /** Takes a queued request out of the queue. */
  unqueue(req: Request): void;
  /** The request settled, one way or the other. */
  settled(req: Request): void;
}

export class Request implements Encoded, Queued<Request>, Timed {
  // Encoded form, filled by RequestEncoder.encode(); NodePool reads only closeAfter.
  head: Buffer = EMPTY;
  body: Buffer | null = null;
  closeAfter = false;

  readonly id = nextRequestId();
  /** HEAD: the response has no body whatever its headers say. */
  readonly bodiless: boolean;
  /** May be sent again when its socket fails before any byte of its response (idempotent method). */
  readonly retryable: boolean;
  /** May share a socket's pipeline with other requests (idempotent, not closing the socket). */
  pipelinable = false;

  /** The slot carrying it, set and cleared by that slot. */
  slot: Carrier | null = null;
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

  prev: Request | null = null;
  next: Request | null = null;
  queued = false;

  deadline = 0;
  clockIndex = -1;

  readonly promise: Promise<Response>;
  private resolve!: (res: Response) => void;
  private reject!: (err: Error) => void;
  private settledFlag = false;
  private owner: RequestOwner | null = null;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly signal: AbortSignal | null,
    private readonly timeoutMs: number,
  ) {
    this.bodiless = method === 'HEAD';
    this.retryable = isIdempotent(method);
    this.promise = new Promise<Response>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Starts the whole-request timer and listens to the signal; from here on it can be cancelled. */
  start(owner: RequestOwner): void {
    this.owner = owner;
    this.pipelinable = this.retryable && !this.closeAfter;
    arm(this, this.timeoutMs);
    this.signal?.addEventListener('abort', this);
  }

  get info(): RequestInfo {
    return { id: this.id, origin: this.owner?.origin ?? '', method: this.method, path: this.path };
  }

  get aborted(): boolean {
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

  succeed(res: Response): void {
    if (!this.settle()) return;
    if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ request: this.info, statusCode: res.statusCode, bodyLength: res.body.length });
    this.resolve(res);
  }

  fail(err: HttpClientPoolError): void {
    if (!this.settle()) return;
    if (requestErrorChannel.hasSubscribers) requestErrorChannel.publish({ request: this.info, error: err });
    this.reject(err);
  }

  /** The whole-request deadline passed. */
  expire(): void {
    this.cancel(new RequestTimeoutError(this.timeoutMs, {}));
  }

  /** The signal fired (EventTarget listener object). */
  handleEvent(): void {
    this.cancel(new AbortError({ cause: this.signal?.reason }));
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

  private settle(): boolean {
    if (this.settledFlag) return false;
    this.settledFlag = true;
    disarm(this);
    this.signal?.removeEventListener('abort', this);
    this.owner?.settled(this);
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
