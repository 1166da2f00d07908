// One call's request from start to settlement. It is at once the queue entry, the
// exchange a connection carries, the whole-request deadline on the shared clock and
// the AbortSignal listener (via `handleEvent`), so a request costs one object and a
// promise: no closures, no Timeout.
import type { Connection, Exchange } from '../conn/connection.js';
import { arm, disarm, type Timed } from '../conn/timers.js';
import { AbortError, type HttpClientPoolError, RequestTimeoutError } from '../errors.js';
import type { Response } from '../response.js';
import type { Queued } from './queue.js';
import { nextRequestId, requestEndChannel, requestErrorChannel, type RequestInfo } from '../diagnostics.js';

/** What a request reports back to its origin pool. */
export interface RequestOwner {
  readonly origin: string;
  /** Takes a queued request out of the queue. */
  unqueue(req: PendingRequest): void;
  /** The request settled, one way or the other. */
  settled(req: PendingRequest): void;
}

export class PendingRequest implements Exchange, Queued<PendingRequest>, Timed {
  // Encoded form, filled by RequestEncoder.encode().
  head: Buffer = EMPTY;
  body: Buffer | null = null;
  closeAfter = false;

  readonly id = nextRequestId();
  readonly bodiless: boolean;
  readonly retryable: boolean;
  pipelinable = false;
  seq = 0;
  conn: Connection | null = null;
  written = false;
  reused = false;
  retried = false;
  /** Dials that failed while this request waited on them. */
  dialFailures = 0;

  prev: PendingRequest | null = null;
  next: PendingRequest | null = null;
  queued = false;

  deadline = 0;
  clockIndex = -1;

  readonly promise: Promise<Response>;
  private resolve!: (res: Response) => void;
  private reject!: (err: Error) => void;
  private settledFlag = false;
  private owner: RequestOwner | null = null;
  private readonly signal: AbortSignal | null;
  private readonly timeoutMs: number;

  constructor(
    private readonly method: string,
    private readonly path: string,
    bodiless: boolean,
    retryable: boolean,
    signal: AbortSignal | null,
    timeoutMs: number,
  ) {
    this.bodiless = bodiless;
    this.retryable = retryable;
    this.signal = signal;
    this.timeoutMs = timeoutMs;
    this.promise = new Promise<Response>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Starts the whole-request timer and listens to the signal; from here on it can be cancelled. */
  start(owner: RequestOwner): void {
    this.owner = owner;
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
    const conn = this.conn;
    if (conn !== null) {
      err.socketId = conn.id;
      err.phase = conn.phaseOf(this);
      conn.withdraw(this);
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
