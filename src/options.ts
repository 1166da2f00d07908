// Pool options: types, defaults and validation. Every timer is documented by
// the phase it covers; 0 turns a timer off.
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Blob as NodeBlob } from 'node:buffer';
import { InvalidArgumentError } from './errors.js';

/** Header values as callers give them. `undefined` entries are skipped. */
export type HeaderValue = string | number | readonly string[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;

/** TLS settings passed through to `tls.connect` (`ca`, `cert`, `key`, `servername`, ...). */
export type TLSOptions = Omit<ConnectionOptions, 'socket' | 'host' | 'port' | 'path' | 'session'>;

export interface PoolOptions {
  /** Origin plus an optional base path, e.g. `https://api.internal:8443/v1`. Default `''`: every call gives an absolute URL. */
  baseURL?: string;
  /** Sockets per origin. Default 8. Each socket carries one request at a time. */
  size?: number;
  /** TCP connect only: from `connect()` to the socket's `connect` event. Default 10 000 ms. */
  dialTimeout?: number;
  /** TLS handshake only: from TCP connected to `secureConnect`. Default 10 000 ms. */
  tlsTimeout?: number;
  /**
   * From the request fully written to the socket to the end of the response head
   * (1xx interim responses do not stop it). Does not cover the body. Default 30 000 ms.
   */
  responseHeaderTimeout?: number;
  /**
   * The longest gap between two reads of the response body, from the end of the
   * response head to its last byte (a slow but steady body never trips it). The
   * socket is dropped. Default 30 000 ms.
   */
  bodyTimeout?: number;
  /**
   * While a request (head and body) is being written: the longest time with no byte of it
   * taken by the kernel, i.e. a server that stopped reading. The socket is dropped.
   * Default 30 000 ms.
   */
  writeTimeout?: number;
  /**
   * The whole request: queue wait, dial, TLS, write, head and body. Default 0 (off).
   * A per-request `timeout` overrides it.
   */
  requestTimeout?: number;
  /**
   * How long a keep-alive socket may sit idle before it is closed; the slot re-dials
   * on its next request. Lowered to the server's `Keep-Alive: timeout=N` hint minus
   * 1 s. Default 60 000 ms.
   */
  idleConnTimeout?: number;
  /**
   * Requests with a body send `Expect: 100-continue` and hold the body back until the
   * server's 100 (a final response first ends the request there, the body unsent), for
   * at most `expectContinueTimeout`. Such a body goes as a stream: never resent. A
   * per-request `expectContinue` overrides it. Default false.
   */
  expectContinue?: boolean;
  /** How long a request with `expectContinue` waits for the 100 before it sends its body anyway. 0: no limit. Default 1 000 ms. */
  expectContinueTimeout?: number;
  /** Skip TLS certificate and host name verification. For tests only. Default false. */
  insecureSkipVerify?: boolean;
  /** Extra options for `tls.connect`: `ca`, `cert`, `key`, `servername`, ... */
  tls?: TLSOptions;
  /** Most bytes of response header names and values, as llhttp counts them (not the status line or line ends). Default 16 384. */
  maxHeaderSize?: number;
  /** Most bytes of response body; beyond it the request fails and its socket is dropped. Default Infinity. */
  maxResponseSize?: number;
  /** Headers sent with every request; a per-request header of the same name replaces it. */
  headers?: Headers;
  /** Connect to this unix socket instead of the origin's host and port. */
  socketPath?: string;
  /**
   * Sockets per slot. `NodePool`: each of its `size` agents may open this many (default 1).
   * `Pool`: 1 by construction (each slot is one socket); other values are refused.
   */
  maxConnsPerHost?: number;
  /**
   * Requests in flight per socket (HTTP/1.1 pipelining). Default 1. Only idempotent
   * requests are pipelined; others wait for the socket's pipeline to drain. `Pool` only.
   */
  pipelining?: number;
  /**
   * Resolve the host to all its addresses with this function (same shape as
   * `net.connect`'s `lookup`, called with `{ all: true }`) instead of `dns.lookup`.
   */
  lookup?: LookupFunction;
  /**
   * How often the host's addresses are looked up again (also on every re-dial); when
   * the set changes the sockets are recycled to follow it. Default 30 000 ms; 0: only
   * on re-dials.
   */
  dnsRefreshInterval?: number;
  /**
   * A socket older than this (±10% jitter) sends `connection: close` on its next
   * request, lets that response finish and re-dials. Default 0 (off).
   */
  maxConnAge?: number;
  /** A socket's request number N (this value) goes out with `connection: close`, then the slot re-dials. Default 0 (off). */
  maxRequestsPerConn?: number;
  /**
   * `dispatch()` hands its handler the flat raw header array and body chunks that are views
   * into the socket's reused read buffer, valid only during the call (no copy, no headers
   * object). Default false: undici's form (a headers object, chunks the handler keeps).
   * A per-request `zeroCopy` overrides it.
   */
  zeroCopy?: boolean;
}

/** Options of one call. */
export interface RequestOptions {
  headers?: Headers;
  signal?: AbortSignal;
  /** Whole-request timeout in ms for this call; overrides `requestTimeout`. 0 turns it off. */
  timeout?: number;
  /** Send `Expect: 100-continue` and wait for the 100 before the body (see the pool option); overrides it. */
  expectContinue?: boolean;
  /** dispatch(): views and the flat raw header array instead of undici's form (see the pool option); overrides it. */
  zeroCopy?: boolean;
}

/**
 * A body sent as it is read: a `Readable`, any async iterable of bytes or strings, a web
 * `ReadableStream` or a `Blob`. With a `content-length` header (or a Blob's size) it goes
 * with that length; without one, `transfer-encoding: chunked`. Never resent.
 */
export type StreamBody = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array> | Blob | NodeBlob;

/** A request body: plain objects and arrays are sent as JSON; strings and bytes as they are; streams as read. */
export type Body = string | Buffer | Uint8Array | StreamBody | Record<string, unknown> | readonly unknown[];

export interface RequestInit extends RequestOptions {
  method: string;
  /** Path relative to `baseURL`, or an absolute `http(s)://` URL. */
  path: string;
  body?: Body | null;
}

export const defaults = {
  baseURL: '',
  size: 8,
  dialTimeout: 10_000,
  tlsTimeout: 10_000,
  responseHeaderTimeout: 30_000,
  bodyTimeout: 30_000,
  writeTimeout: 30_000,
  requestTimeout: 0,
  idleConnTimeout: 60_000,
  expectContinue: false,
  expectContinueTimeout: 1_000,
  insecureSkipVerify: false,
  maxHeaderSize: 16_384,
  maxResponseSize: Infinity,
  maxConnsPerHost: 1,
  pipelining: 1,
  dnsRefreshInterval: 30_000,
  maxConnAge: 0,
  maxRequestsPerConn: 0,
  zeroCopy: false,
} as const;

/** Options after defaults and validation. */
export interface Config {
  readonly baseURL: string;
  readonly size: number;
  readonly dialTimeout: number;
  readonly tlsTimeout: number;
  readonly responseHeaderTimeout: number;
  readonly bodyTimeout: number;
  readonly writeTimeout: number;
  readonly requestTimeout: number;
  readonly idleConnTimeout: number;
  readonly expectContinue: boolean;
  readonly expectContinueTimeout: number;
  readonly insecureSkipVerify: boolean;
  readonly tls: TLSOptions;
  readonly maxHeaderSize: number;
  readonly maxResponseSize: number;
  readonly headers: Headers;
  readonly socketPath: string | undefined;
  readonly maxConnsPerHost: number;
  readonly pipelining: number;
  readonly lookup: LookupFunction | undefined;
  readonly dnsRefreshInterval: number;
  readonly maxConnAge: number;
  readonly maxRequestsPerConn: number;
  readonly zeroCopy: boolean;
}

export function resolveOptions(options: PoolOptions | undefined): Config {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError('options must be an object');
  }
  const o = options ?? {};
  if (o.baseURL !== undefined && typeof o.baseURL !== 'string') {
    throw new InvalidArgumentError('baseURL must be a string');
  }
  if (o.insecureSkipVerify !== undefined && typeof o.insecureSkipVerify !== 'boolean') {
    throw new InvalidArgumentError('insecureSkipVerify must be a boolean');
  }
  if (o.expectContinue !== undefined && typeof o.expectContinue !== 'boolean') {
    throw new InvalidArgumentError('expectContinue must be a boolean');
  }
  if (o.zeroCopy !== undefined && typeof o.zeroCopy !== 'boolean') {
    throw new InvalidArgumentError('zeroCopy must be a boolean');
  }
  if (o.tls !== undefined && (o.tls === null || typeof o.tls !== 'object')) {
    throw new InvalidArgumentError('tls must be an object');
  }
  if (o.headers !== undefined && (o.headers === null || typeof o.headers !== 'object')) {
    throw new InvalidArgumentError('headers must be an object');
  }
  if (o.lookup !== undefined && typeof o.lookup !== 'function') {
    throw new InvalidArgumentError('lookup must be a function');
  }
  if (o.socketPath !== undefined && (typeof o.socketPath !== 'string' || o.socketPath === '')) {
    throw new InvalidArgumentError('socketPath must be a non-empty string');
  }
  return Object.freeze({
    baseURL: o.baseURL ?? defaults.baseURL,
    size: integer('size', o.size, defaults.size, 1),
    dialTimeout: timeout('dialTimeout', o.dialTimeout, defaults.dialTimeout),
    tlsTimeout: timeout('tlsTimeout', o.tlsTimeout, defaults.tlsTimeout),
    responseHeaderTimeout: timeout('responseHeaderTimeout', o.responseHeaderTimeout, defaults.responseHeaderTimeout),
    bodyTimeout: timeout('bodyTimeout', o.bodyTimeout, defaults.bodyTimeout),
    writeTimeout: timeout('writeTimeout', o.writeTimeout, defaults.writeTimeout),
    requestTimeout: timeout('requestTimeout', o.requestTimeout, defaults.requestTimeout),
    idleConnTimeout: timeout('idleConnTimeout', o.idleConnTimeout, defaults.idleConnTimeout),
    expectContinue: o.expectContinue ?? defaults.expectContinue,
    expectContinueTimeout: timeout('expectContinueTimeout', o.expectContinueTimeout, defaults.expectContinueTimeout),
    insecureSkipVerify: o.insecureSkipVerify ?? defaults.insecureSkipVerify,
    tls: o.tls ?? {},
    maxHeaderSize: integer('maxHeaderSize', o.maxHeaderSize, defaults.maxHeaderSize, 1),
    maxResponseSize:
      o.maxResponseSize === Infinity
        ? Infinity
        : integer('maxResponseSize', o.maxResponseSize, defaults.maxResponseSize, 0),
    headers: o.headers ?? {},
    socketPath: o.socketPath,
    maxConnsPerHost: integer('maxConnsPerHost', o.maxConnsPerHost, defaults.maxConnsPerHost, 1),
    pipelining: integer('pipelining', o.pipelining, defaults.pipelining, 1),
    lookup: o.lookup,
    dnsRefreshInterval: timeout('dnsRefreshInterval', o.dnsRefreshInterval, defaults.dnsRefreshInterval),
    maxConnAge: timeout('maxConnAge', o.maxConnAge, defaults.maxConnAge),
    maxRequestsPerConn: integer('maxRequestsPerConn', o.maxRequestsPerConn, defaults.maxRequestsPerConn, 0),
    zeroCopy: o.zeroCopy ?? defaults.zeroCopy,
  });
}

/** Milliseconds, 0 = off. Timers beyond 2^31-1 ms cannot be armed by Node, so they are refused. */
export function timeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2_147_483_647) {
    throw new InvalidArgumentError(`${name} must be a number of milliseconds from 0 to 2147483647, got ${String(value)}`);
  }
  return value;
}

function integer(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
