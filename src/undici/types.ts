// The parts of undici's contract this library meets, declared here (structurally) so
// that neither the code nor the published types need undici installed.
import type { Duplex } from 'node:stream';
import type { DispatchController } from '../pool/request.js';

/** undici's request options as `dispatch()` takes them (fetch, `undici.request`, interceptors). */
export interface DispatchOptions {
  /** Where to send it (`http(s)://host:port`); wins over `baseURL`. Without it, `path` is absolute or relative to `baseURL`. */
  origin?: string | URL;
  /** The request target (with its query), or without `origin` an absolute URL or a path under `baseURL`. */
  path: string;
  method: string;
  /** An object, a flat `[name, value, ...]` list, `[name, value]` pairs or an iterable of them. */
  headers?: unknown;
  body?: unknown;
  /** Appended to `path` as its query string. */
  query?: Record<string, any> | null;
  /** Overrides whether the method may be resent and pipelined. */
  idempotent?: boolean | null;
  /** Nothing is pipelined behind it. */
  blocking?: boolean | null;
  /** The socket closes after this request (`connection: close`). */
  reset?: boolean | null;
  expectContinue?: boolean | null;
  /** TLS server name; must be the origin's host (or the pool's `tls.servername`). */
  servername?: string | null;
  /** Response head timeout of this request, ms (the pool's `responseHeaderTimeout`). */
  headersTimeout?: number | null;
  /** Body-gap timeout of this request, ms (the pool's `bodyTimeout`). */
  bodyTimeout?: number | null;
  /** Must be 0 or absent: redirects are the redirect interceptor's (`compose`). */
  maxRedirections?: number | null;
  /** A protocol to upgrade to (`websocket`): the socket leaves the pool. */
  upgrade?: string | boolean | null;
  signal?: unknown;
  /** Whole-request timeout, ms (this library's). */
  timeout?: number;
  /** This library's: views and the flat raw header array (see the pool option). */
  zeroCopy?: boolean;
}

/**
 * A raw header list, `[name, value, ...]`. undici's own clients give Buffers; this
 * library gives strings (undici's consumers, fetch among them, read both).
 */
export type RawList = (string | Buffer)[];

/** The controller undici's new-style handlers get: this library's dispatch controller, which has undici's members. */
export type UndiciController = DispatchController;

/** undici's handler, either style: new (undici 7+, `onRequestStart` ...) or legacy (`onConnect` ...). */
export interface UndiciHandler {
  onRequestStart?(controller: UndiciController, context: unknown): void;
  onRequestUpgrade?(controller: UndiciController, statusCode: number, headers: Record<string, string | string[]>, socket: Duplex): void;
  onResponseStart?(controller: UndiciController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void;
  onResponseData?(controller: UndiciController, chunk: Buffer): void;
  onResponseEnd?(controller: UndiciController, trailers: Record<string, string | string[]>): void;
  onResponseError?(controller: UndiciController, error: Error): void;
  onResponseStarted?(): void;
  onConnect?(abort: (reason?: unknown) => void, context?: unknown): void;
  onHeaders?(statusCode: number, rawHeaders: RawList, resume: () => void, statusText: string): boolean | void;
  onData?(chunk: Buffer): boolean | void;
  onComplete?(rawTrailers: RawList | null): void;
  onError?(error: Error): void;
  onUpgrade?(statusCode: number, rawHeaders: RawList, socket: Duplex): void;
}

/** undici's interceptor: takes the next `dispatch` and gives one that wraps it. */
export type DispatchFn = (options: DispatchOptions, handler: UndiciHandler) => boolean;
export type Interceptor = (dispatch: DispatchFn) => DispatchFn;
