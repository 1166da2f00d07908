// undici's handlers, both styles, as this library's DispatchHandler: one adapter object
// per request between the request and the caller's handler. It gives undici's forms
// (a headers object, chunks the handler keeps, trailers as an object) and undici's
// error rules: a throw from any callback of the handler, `onResponseEnd` included,
// reaches that handler's error callback once, as it was thrown; `abort(reason)` ends it
// with `reason` itself.
import type { Duplex } from 'node:stream';
import { AbortError, type HttpClientPoolError } from '../errors.js';
import type { DispatchController, DispatchHandler } from '../pool/request.js';
import { headersObject } from './headers.js';
import type { UndiciController, UndiciHandler } from './types.js';

/** undici passes a context to `onRequestStart` / `onConnect`; there is nothing of ours to put in it. */
const CONTEXT: Readonly<Record<string, never>> = Object.freeze({});
const NONE = Symbol('none');

/** undici 8 calls only new-style methods; undici 6 and 7 call legacy ones on a handler without `onRequestStart`. */
export function isLegacy(h: UndiciHandler): boolean {
  if (typeof h.onRequestStart === 'function') return false;
  return (
    typeof h.onConnect === 'function' ||
    typeof h.onHeaders === 'function' ||
    typeof h.onData === 'function' ||
    typeof h.onComplete === 'function' ||
    typeof h.onError === 'function' ||
    typeof h.onUpgrade === 'function'
  );
}

export class UndiciAdapter implements DispatchHandler {
  readonly #h: UndiciHandler;
  readonly #legacy: boolean;
  /** Chunks are views into a reused buffer: each is copied before it is handed on. */
  readonly #copy: boolean;
  /** A throw of the handler's, which ends the request and is what its error callback gets. */
  #thrown: unknown = NONE;
  /** The legacy style's resume (undici's contract hands out a function, not the controller). */
  #resumeFn: (() => void) | null = null;

  constructor(handler: UndiciHandler, legacy: boolean, copy: boolean) {
    this.#h = handler;
    this.#legacy = legacy;
    this.#copy = copy;
  }

  onRequestStart(c: DispatchController): void {
    const h = this.#h;
    try {
      if (!this.#legacy) h.onRequestStart?.(c as UndiciController, CONTEXT);
      else if (h.onConnect !== undefined) h.onConnect((reason?: unknown) => c.abort(reason), CONTEXT);
    } catch (err) {
      this.#throw(c, err);
    }
  }

  onResponseStart(c: DispatchController, statusCode: number, rawHeaders: string[], statusMessage: string): void {
    const h = this.#h;
    try {
      h.onResponseStarted?.();
      if (!this.#legacy) {
        h.onResponseStart?.(c as UndiciController, statusCode, headersObject(rawHeaders), statusMessage);
      } else if (h.onHeaders !== undefined) {
        this.#resumeFn ??= () => c.resume();
        if (h.onHeaders(statusCode, rawHeaders, this.#resumeFn, statusMessage) === false) c.pause();
      }
    } catch (err) {
      this.#throw(c, err);
    }
  }

  onResponseData(c: DispatchController, chunk: Buffer): void {
    const h = this.#h;
    const data = this.#copy ? Buffer.from(chunk) : chunk;
    try {
      if (!this.#legacy) h.onResponseData?.(c as UndiciController, data);
      else if (h.onData !== undefined && h.onData(data) === false) c.pause();
    } catch (err) {
      this.#throw(c, err);
    }
  }

  onResponseEnd(c: DispatchController, rawTrailers: readonly string[]): void {
    const h = this.#h;
    try {
      if (!this.#legacy) h.onResponseEnd?.(c as UndiciController, headersObject(rawTrailers));
      else h.onComplete?.(rawTrailers as string[]);
    } catch (err) {
      // The request has settled; the handler still hears of its own throw, once (undici's RetryHandler counts on it).
      this.#deliver(c, err);
    }
  }

  onRequestUpgrade(c: DispatchController, statusCode: number, rawHeaders: string[], socket: Duplex): void {
    const h = this.#h;
    try {
      if (!this.#legacy) h.onRequestUpgrade?.(c as UndiciController, statusCode, headersObject(rawHeaders), socket);
      else h.onUpgrade?.(statusCode, rawHeaders, socket);
    } catch (err) {
      // The request has settled: the socket is dropped, and the handler hears of its throw.
      socket.destroy();
      this.#deliver(c, err);
    }
  }

  onResponseError(c: DispatchController, err: HttpClientPoolError): void {
    let e: unknown = err;
    if (this.#thrown !== NONE) e = this.#thrown;
    else if (err instanceof AbortError && c.aborted && c.reason !== null) e = c.reason;
    this.#deliver(c, e);
  }

  /** The handler threw before the end: the request ends, and the throw is its error. */
  #throw(c: DispatchController, err: unknown): void {
    if (this.#thrown !== NONE) return;
    this.#thrown = err;
    c.abort(err);
  }

  #deliver(c: DispatchController, err: unknown): void {
    const h = this.#h;
    try {
      if (!this.#legacy) h.onResponseError?.(c as UndiciController, err as Error);
      else h.onError?.(err as Error);
    } catch {
      // Nothing is left to end, and a throw here must not crash the process.
    }
  }
}

/**
 * A legacy-style handler seen as a new-style one, for interceptors (undici 7's and
 * later's speak the new style only): what compose() hands the first interceptor when
 * fetch of undici 6 or 7 dispatches through a composed pool.
 */
export class LegacyAsNew implements UndiciHandler {
  readonly #h: UndiciHandler;
  #resumeFn: (() => void) | null = null;

  constructor(handler: UndiciHandler) {
    this.#h = handler;
  }

  onRequestStart(c: UndiciController, context: unknown): void {
    this.#h.onConnect?.((reason?: unknown) => c.abort(reason), context);
  }

  onResponseStarted(): void {
    this.#h.onResponseStarted?.();
  }

  onRequestUpgrade(_c: UndiciController, statusCode: number, headers: Record<string, string | string[]>, socket: Duplex): void {
    this.#h.onUpgrade?.(statusCode, flatten(headers), socket);
  }

  onResponseStart(c: UndiciController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void {
    const h = this.#h;
    if (h.onHeaders === undefined) return;
    this.#resumeFn ??= () => c.resume();
    if (h.onHeaders(statusCode, flatten(headers), this.#resumeFn, statusMessage ?? '') === false) c.pause();
  }

  onResponseData(c: UndiciController, chunk: Buffer): void {
    if (this.#h.onData?.(chunk) === false) c.pause();
  }

  onResponseEnd(_c: UndiciController, trailers: Record<string, string | string[]>): void {
    this.#h.onComplete?.(flatten(trailers));
  }

  onResponseError(_c: UndiciController, err: Error): void {
    this.#h.onError?.(err);
  }
}

/** A headers object as the flat raw list (an interceptor may have changed the headers: the object is what counts). */
function flatten(headers: Record<string, string | string[]> | null | undefined): string[] {
  const out: string[] = [];
  if (headers === null || headers === undefined) return out;
  for (const name of Object.keys(headers)) {
    const v = headers[name]!;
    if (Array.isArray(v)) for (const one of v) out.push(name, String(one));
    else out.push(name, String(v));
  }
  return out;
}
