// A dispatched request's controller: the object its handler steers it with. Apart from
// the Request because a request is used again once settled (see Recycler), and a
// controller kept past the end must then reach nothing; it knows its request only
// through `Steered`, the little of it that steering needs.
import type { HttpClientPoolError } from '../errors.js';
import type { Duplex } from 'node:stream';

/**
 * The caller's side of a dispatched request. Every method is optional; `controller` is
 * the same object in every call of one request. `chunk` may be a view into the socket's
 * read buffer, valid only during the call: copy it (`Buffer.from(chunk)`) to keep it.
 * Exactly one of `onResponseEnd` / `onResponseError` is called, once; a handler method
 * that throws ends its request with a `HandlerError` (the throw itself is its `cause`).
 */
export interface DispatchHandler {
  /** The request is about to be written (once, even if it is sent again on another socket). */
  onRequestStart?(controller: DispatchController): void;
  onResponseStart?(controller: DispatchController, statusCode: number, rawHeaders: string[], statusMessage: string): void;
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd?(controller: DispatchController, rawTrailers: readonly string[]): void;
  /** `error` is an `HttpClientPoolError`, or the error the pool was destroyed with (`destroy(err)`). */
  onResponseError?(controller: DispatchController, error: Error): void;
  /**
   * The connection switched protocols (a 101 to `upgrade`, a 2xx to CONNECT): `socket`
   * has left the pool and is the handler's (its slot dials a new one). Ends the request
   * in place of `onResponseEnd`.
   */
  onRequestUpgrade?(controller: DispatchController, statusCode: number, rawHeaders: string[], socket: Duplex): void;
}

/** The controller of a request this library dispatches itself (stream()): it may also end it with its own error. */
export interface LibraryController extends DispatchController {
  /** Ends the request with `err` (its socket is dropped if it was on one). */
  giveUp(err: HttpClientPoolError): void;
}

/** Steers one dispatched request. */
export interface DispatchController {
  /** Ends the request now with `AbortError` (`reason` as its cause); its socket is dropped if it was on one. */
  abort(reason?: unknown): void;
  /** Stops reading the response's socket (backpressure down to TCP); the body timer stops too. */
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
  readonly paused: boolean;
  /** What `abort()` was given; null until then. */
  readonly reason: unknown;
  /** The response head's raw headers (flat name, value list), set before `onResponseStart`. */
  rawHeaders: string[] | null;
  /** The trailers' raw list, set before `onResponseEnd`. */
  rawTrailers: readonly string[] | null;
}

/** What a controller needs of its request. */
export interface Steered {
  readonly settled: boolean;
  /** The request's controller now (another one once the request was used again). */
  readonly controller: DispatchController | null;
  /** Its signal fired. */
  readonly signalled: boolean;
  abortByCaller(reason: unknown): void;
  pauseByCaller(paused: boolean): void;
  giveUp(err: HttpClientPoolError): void;
}

/**
 * A dispatched request's controller, handed to its handler, and what steering it keeps.
 * One per dispatch, apart from the Request: the request may be used again once settled
 * (see Recycler), and a controller kept past the end must then reach nothing. Its own
 * state is private (`#`): a handler sees undici's members only, `paused`, `aborted` and
 * `reason` read-only; `abort`, `pause`, `resume` and the raw header fields may be
 * replaced by a handler (undici's dump interceptor assigns `abort`).
 */
export class Dispatched implements LibraryController {
  /** The response head's raw headers (flat name, value list), set before `onResponseStart` (undici 8's fetch reads it). */
  rawHeaders: string[] | null = null;
  /** The trailers' raw list, set before `onResponseEnd`. */
  rawTrailers: readonly string[] | null = null;
  readonly #handler: DispatchHandler;
  readonly #req: Steered;
  #paused = false;
  /** onRequestStart was called (it is called once, even when the request is sent again). */
  #began = false;
  /** abort() ended it, with this reason. */
  #cancelled = false;
  #reason: unknown = null;
  /** The response's status, for the request-end event. */
  #status = 0;

  constructor(handler: DispatchHandler, req: Steered) {
    this.#handler = handler;
    this.#req = req;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get aborted(): boolean {
    return this.#cancelled || (this.#req.controller === this && this.#req.signalled);
  }

  /** What abort() was given (undici's `reason`); null when it was not aborted. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The request, until it settled. */
  get #live(): Steered | null {
    const r = this.#req;
    return r.settled || r.controller !== this ? null : r;
  }

  abort(reason?: unknown): void {
    const r = this.#live;
    if (r === null) return;
    this.#cancelled = true;
    this.#reason = reason ?? null;
    r.abortByCaller(reason);
  }

  pause(): void {
    const r = this.#live;
    if (r === null || this.#paused) return;
    this.#paused = true;
    r.pauseByCaller(true);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#live?.pauseByCaller(false);
  }

  /** Ends the request with `err` (its socket is dropped if it was on one): for this library's own handlers. */
  giveUp(err: HttpClientPoolError): void {
    this.#live?.giveUp(err);
  }

  // Request's side (the names are not on the handler's interface).
  static handlerOf(d: Dispatched): DispatchHandler {
    return d.#handler;
  }

  /** True the first time: onRequestStart is due. */
  static begin(d: Dispatched): boolean {
    if (d.#began) return false;
    d.#began = true;
    return true;
  }

  static setStatus(d: Dispatched, status: number): void {
    d.#status = status;
  }

  static statusOf(d: Dispatched): number {
    return d.#status;
  }
}
