// Pool options: types, defaults, and OPTIONS, the one list every check, refusal and
// README table comes from. Every timer is documented by the phase it covers; 0 turns a
// timer off. Unknown names are refused.
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Blob as NodeBlob } from 'node:buffer';
import { InvalidArgumentError } from './errors.js';
import { misnamed } from './option-names.js';
import { resolveProxy, type ProxyEnv, type ProxyOption, type ProxySettings } from './conn/proxy-env.js';
import { resolveRetry, type RetryOption, type RetryPolicy } from './pool/retry.js';

import type { Headers } from './headers.js';
export type { Headers, HeaderValue } from './headers.js';

/** TLS settings passed through to `tls.connect` (`ca`, `cert`, `key`, `servername`, ...). */
export type TLSOptions = Omit<ConnectionOptions, 'socket' | 'host' | 'port' | 'path' | 'session'>;

export interface PoolOptions {
  /** Origin plus an optional base path, e.g. `https://api.internal:8443/v1`. Default `''`: every call gives an absolute URL. */
  baseURL?: string;
  /** Sockets per origin, 1 to 4096. Default 8. Each socket carries one request at a time. */
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
   * requests are pipelined; others wait for the socket's pipeline to drain. 1 to 1024.
   * `Pool` only: `NodePool` refuses it.
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
   * on re-dials. `Pool` only: `NodePool` refuses it (it looks up on re-dials only).
   */
  dnsRefreshInterval?: number;
  /**
   * A socket older than this (±10% jitter) sends `connection: close` on its next
   * request, lets that response finish and re-dials. Default 0 (off). `Pool` only:
   * `NodePool` refuses it.
   */
  maxConnAge?: number;
  /** A socket's request number N (this value) goes out with `connection: close`, then the slot re-dials. Default 0 (off). `Pool` only: `NodePool` refuses it. */
  maxRequestsPerConn?: number;
  /**
   * Every target through this proxy: `http://[user:pass@]host:port`, `https://...` (TLS to
   * the proxy, with the `tls` option's CA), or `{ uri, headers }`. https targets get one
   * CONNECT tunnel per socket, http targets go in absolute form. Unix sockets ignore it.
   */
  proxy?: ProxyOption;
  /**
   * Proxy variables to use instead of `proxy`: `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`
   * (lowercase names win). Without `proxy` and `proxyEnv`, `process.env` is read when
   * NODE_USE_ENV_PROXY=1.
   */
  proxyEnv?: ProxyEnv;
  /** Retry answered requests by status: a number of retries, or the policy (see Retries). Default off. */
  retry?: RetryOption;
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
  /** This call's retry policy, replacing the pool's; false or 0: no retries. */
  retry?: RetryOption;
  /** The request may be resent and retried on a status whatever its method (true: a POST or PATCH too), or never (false). */
  idempotent?: boolean;
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

/**
 * Every option, once: its name, what it takes, its default, where it is given (to a
 * pool's constructor, to a call, or both), which backend takes it, and what it does in
 * a line. Validation, NodePool's refusal of `Pool`-only options, the near-miss
 * suggestions and the README's options tables all come from this list (a test checks
 * the README against it): adding an option is one entry here.
 */
export interface OptionSpec {
  readonly name: keyof PoolOptions | keyof RequestOptions;
  readonly type: ValueType;
  /** Smallest and largest value of a number (`ms` is 0 to 2^31-1 unless given). */
  readonly min?: number;
  readonly max?: number;
  /** The default as the README shows it. */
  readonly shown: string;
  /** `pool`: a constructor option; `request`: an option of one call; `both`. */
  readonly scope: 'pool' | 'request' | 'both';
  /** `Pool`: `NodePool` refuses it. */
  readonly backends: 'both' | 'Pool';
  /** What a `resolved` option takes, as the README shows it. */
  readonly shapes?: string;
  readonly doc: string;
}

/**
 * `ms`: milliseconds, 0 = off, at most 2^31-1 (Node cannot arm a longer timer).
 * `integer`: a safe integer in [min, max]; `bytes`: the same, or Infinity.
 */
/** `resolved`: a value of several shapes, checked by the option's own resolver (proxy, retry). */
export type ValueType = 'string' | 'path' | 'boolean' | 'object' | 'function' | 'signal' | 'ms' | 'integer' | 'bytes' | 'resolved';

const MAX_MS = 2_147_483_647;

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'baseURL', type: 'string', shown: "`''`", scope: 'pool', backends: 'both', doc: 'origin plus an optional base path; no query or fragment' },
  { name: 'size', type: 'integer', min: 1, max: 4096, shown: '8', scope: 'pool', backends: 'both', doc: 'sockets per origin; each carries one request at a time' },
  { name: 'dialTimeout', type: 'ms', shown: '10 000 ms', scope: 'pool', backends: 'both', doc: 'TCP connect only' },
  { name: 'tlsTimeout', type: 'ms', shown: '10 000 ms', scope: 'pool', backends: 'both', doc: 'TLS handshake only, from TCP connected to handshake done' },
  { name: 'responseHeaderTimeout', type: 'ms', shown: '30 000 ms', scope: 'pool', backends: 'both', doc: 'from the request fully written to the end of the response head (1xx responses do not stop it); not the body' },
  { name: 'writeTimeout', type: 'ms', shown: '30 000 ms', scope: 'pool', backends: 'both', doc: 'while the request (head and body, streamed or not) is being written: the longest time with no byte of it taken; a server that stopped reading fails it, and the socket is dropped' },
  { name: 'bodyTimeout', type: 'ms', shown: '30 000 ms', scope: 'pool', backends: 'both', doc: 'the longest gap between two reads of the response body, from the end of the head to its last byte; a slow but steady body never trips it. The socket is dropped' },
  { name: 'requestTimeout', type: 'ms', shown: '0 (off)', scope: 'pool', backends: 'both', doc: 'the whole request: queue wait, dial, TLS, write, head and body; a per-request `timeout` overrides it' },
  { name: 'expectContinue', type: 'boolean', shown: '`false`', scope: 'both', backends: 'both', doc: 'requests with a body send `Expect: 100-continue` and wait for the 100 before the body; per request it overrides the pool\'s' },
  { name: 'expectContinueTimeout', type: 'ms', shown: '1 000 ms', scope: 'pool', backends: 'both', doc: 'how long such a request waits for the 100 before it sends its body anyway; 0: no limit' },
  { name: 'idleConnTimeout', type: 'ms', shown: '60 000 ms', scope: 'pool', backends: 'both', doc: 'an idle keep-alive socket is closed after this; lowered to the server\'s `Keep-Alive: timeout=` hint minus 1 s' },
  { name: 'insecureSkipVerify', type: 'boolean', shown: '`false`', scope: 'pool', backends: 'both', doc: 'skip certificate and host name verification (tests only)' },
  { name: 'tls', type: 'object', shown: '-', scope: 'pool', backends: 'both', doc: '`ca`, `cert`, `key`, `servername`, ... passed to `tls.connect`' },
  { name: 'maxHeaderSize', type: 'integer', min: 1, max: 16_777_216, shown: '16 384', scope: 'pool', backends: 'both', doc: 'most bytes of response header names and values (as llhttp counts them)' },
  { name: 'maxResponseSize', type: 'bytes', min: 0, max: Number.MAX_SAFE_INTEGER, shown: '`Infinity`', scope: 'pool', backends: 'both', doc: 'most bytes of response body; beyond it `ResponseTooLargeError` and the socket is dropped' },
  { name: 'headers', type: 'object', shown: '-', scope: 'both', backends: 'both', doc: 'the pool\'s are sent with every request; a call\'s replace those of the same name' },
  { name: 'socketPath', type: 'path', shown: '-', scope: 'pool', backends: 'both', doc: 'connect over this unix socket instead of TCP' },
  { name: 'pipelining', type: 'integer', min: 1, max: 1024, shown: '1', scope: 'pool', backends: 'Pool', doc: 'requests in flight per socket; see Pipelining below' },
  { name: 'lookup', type: 'function', shown: '`dns.lookup`', scope: 'pool', backends: 'both', doc: 'resolves the host to all its addresses (same shape as `net.connect`\'s `lookup`, called with `{ all: true }`); slot i dials address i mod k' },
  { name: 'dnsRefreshInterval', type: 'ms', shown: '30 000 ms', scope: 'pool', backends: 'Pool', doc: 'how often the addresses are looked up again (also on re-dials); when the set changes, sockets are recycled to follow it; 0: only on re-dials (`NodePool` looks up on re-dials only)' },
  { name: 'maxConnAge', type: 'ms', shown: '0 (off)', scope: 'pool', backends: 'Pool', doc: 'a socket older than this (±10% jitter) sends `connection: close` on its next request and re-dials after that response' },
  { name: 'maxRequestsPerConn', type: 'integer', min: 0, max: MAX_MS, shown: '0 (off)', scope: 'pool', backends: 'Pool', doc: 'a socket\'s Nth request goes out with `connection: close`, then the slot re-dials' },
  { name: 'maxConnsPerHost', type: 'integer', min: 1, max: 4096, shown: '1', scope: 'pool', backends: 'both', doc: '`NodePool`: sockets each of its `size` agents may open; `Pool`: must be 1' },
  { name: 'proxy', type: 'resolved', shapes: 'URL string, `URL` or object', shown: '-', scope: 'pool', backends: 'both', doc: 'every target through this proxy: `http://[user:pass@]host:port`, `https://...` or `{ uri, headers }`; https targets get one CONNECT tunnel per socket, http targets go in absolute form; see Proxies' },
  { name: 'proxyEnv', type: 'object', shown: '-', scope: 'pool', backends: 'both', doc: '`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` to use instead of `proxy` (lowercase names win); without either, `process.env` when `NODE_USE_ENV_PROXY=1`' },
  { name: 'retry', type: 'resolved', shapes: 'number, object or `false`', shown: 'off', scope: 'both', backends: 'both', doc: 'retry answered requests by status: a number of retries or `{ limit, statuses, methods, minDelay, maxDelay, maxRetryAfter }`; per request it replaces the pool\'s; see Retries' },
  { name: 'idempotent', type: 'boolean', shown: 'by method', scope: 'request', backends: 'both', doc: '`true` lets a POST or PATCH be retried by status (see Retries)' },
  { name: 'zeroCopy', type: 'boolean', shown: '`false`', scope: 'both', backends: 'both', doc: '`dispatch()` hands its handler the flat raw header array and body chunks that are views into the socket\'s read buffer, valid only during the call; `false`: undici\'s form (a headers object, chunks the handler keeps); per request it overrides the pool\'s' },
  { name: 'signal', type: 'signal', shown: '-', scope: 'request', backends: 'both', doc: 'an `AbortSignal`; aborting rejects with `AbortError`' },
  { name: 'timeout', type: 'ms', shown: '`requestTimeout`', scope: 'request', backends: 'both', doc: 'whole-request timeout of this call, overriding `requestTimeout` (0 = off)' },
];

const POOL_SPECS = new Map(OPTIONS.filter((o) => o.scope !== 'request').map((o) => [o.name as string, o]));
const REQUEST_SPECS = new Map(OPTIONS.filter((o) => o.scope !== 'pool').map((o) => [o.name as string, o]));

/** The spec of a call option, or undefined for a name that is none. */
export function requestOption(name: string): OptionSpec | undefined {
  return REQUEST_SPECS.get(name);
}

/**
 * The error for an option name that is none, with the name probably meant (see
 * option-names.ts): looked for among the options of `scope` (and `extra` names), then
 * among the others, saying where those go.
 */
export function unknownOption(name: string, scope: 'pool' | 'request', extra: readonly string[] = []): InvalidArgumentError {
  return scope === 'pool' ? misnamed(name, 'pool', POOL_SPECS, REQUEST_SPECS, extra) : misnamed(name, 'request', REQUEST_SPECS, POOL_SPECS, extra);
}

/** Checks one option's value against its spec; throws `InvalidArgumentError` saying what it takes. */
export function checkValue(spec: OptionSpec, value: unknown): void {
  const name = spec.name;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string, got ${describe(value)}`);
      return;
    case 'path':
      if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`${name} must be a boolean, got ${describe(value)}`);
      return;
    case 'object':
      if (value === null || typeof value !== 'object') throw new InvalidArgumentError(`${name} must be an object, got ${describe(value)}`);
      return;
    case 'function':
      if (typeof value !== 'function') throw new InvalidArgumentError(`${name} must be a function, got ${describe(value)}`);
      return;
    case 'signal': {
      const s = value as AbortSignal | null;
      if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
        throw new InvalidArgumentError(`${name} must be an AbortSignal, got ${describe(value)}`);
      }
      return;
    }
    case 'ms': {
      const max = spec.max ?? MAX_MS;
      if (typeof value !== 'number' || !(value >= (spec.min ?? 0) && value <= max)) {
        throw new InvalidArgumentError(`${name} must be a number of milliseconds from ${spec.min ?? 0} to ${max}, got ${describe(value)}`);
      }
      return;
    }
    case 'resolved':
      return; // its resolver checks it (resolveProxy, resolveRetry) and names it in the error
    case 'integer':
    case 'bytes': {
      if (spec.type === 'bytes' && value === Infinity) return;
      const min = spec.min ?? 0;
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        const or = spec.type === 'bytes' ? ' (or Infinity)' : '';
        throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}${or}, got ${describe(value)}`);
      }
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
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
  /** Null: every target direct. */
  readonly proxy: ProxySettings | null;
  /** Null: no retries by status. */
  readonly retry: RetryPolicy | null;
  readonly zeroCopy: boolean;
}

/** Which class is being built: `NodePool` refuses the options only `Pool` has. */
export type BackendName = 'Pool' | 'NodePool';

/**
 * Checks a constructor's options against OPTIONS (unknown names, `Pool`-only ones on
 * `NodePool`, each value's type and range) and fills in the defaults.
 */
export function resolveOptions(options: PoolOptions | undefined, backend: BackendName): Config {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError(`options must be an object, got ${describe(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    const spec = POOL_SPECS.get(name);
    if (spec === undefined) throw unknownOption(name, 'pool');
    const value = o[name];
    if (value === undefined) continue;
    if (spec.backends === 'Pool' && backend !== 'Pool') {
      throw new InvalidArgumentError(`${name} is a Pool-only option: NodePool (node:http agents) cannot honour it (use Pool, or leave it out)`);
    }
    checkValue(spec, value);
  }
  const p = o as PoolOptions;
  return Object.freeze({
    baseURL: p.baseURL ?? defaults.baseURL,
    size: p.size ?? defaults.size,
    dialTimeout: p.dialTimeout ?? defaults.dialTimeout,
    tlsTimeout: p.tlsTimeout ?? defaults.tlsTimeout,
    responseHeaderTimeout: p.responseHeaderTimeout ?? defaults.responseHeaderTimeout,
    bodyTimeout: p.bodyTimeout ?? defaults.bodyTimeout,
    writeTimeout: p.writeTimeout ?? defaults.writeTimeout,
    requestTimeout: p.requestTimeout ?? defaults.requestTimeout,
    idleConnTimeout: p.idleConnTimeout ?? defaults.idleConnTimeout,
    expectContinue: p.expectContinue ?? defaults.expectContinue,
    expectContinueTimeout: p.expectContinueTimeout ?? defaults.expectContinueTimeout,
    insecureSkipVerify: p.insecureSkipVerify ?? defaults.insecureSkipVerify,
    tls: p.tls ?? {},
    maxHeaderSize: p.maxHeaderSize ?? defaults.maxHeaderSize,
    maxResponseSize: p.maxResponseSize ?? defaults.maxResponseSize,
    headers: p.headers ?? {},
    socketPath: p.socketPath,
    maxConnsPerHost: p.maxConnsPerHost ?? defaults.maxConnsPerHost,
    pipelining: p.pipelining ?? defaults.pipelining,
    lookup: p.lookup,
    dnsRefreshInterval: p.dnsRefreshInterval ?? defaults.dnsRefreshInterval,
    maxConnAge: p.maxConnAge ?? defaults.maxConnAge,
    maxRequestsPerConn: p.maxRequestsPerConn ?? defaults.maxRequestsPerConn,
    proxy: resolveProxy(p.proxy, p.proxyEnv, process.env),
    retry: resolveRetry('retry', p.retry, null),
    zeroCopy: p.zeroCopy ?? defaults.zeroCopy,
  });
}

/** What a value of `spec` takes, as the README's tables say it. */
function takes(spec: OptionSpec): string {
  switch (spec.type) {
    case 'ms':
      return `ms, ${spec.min ?? 0} to 2^31-1`;
    case 'integer':
      return `integer, ${spec.min ?? 0} to ${spec.max === MAX_MS ? '2^31-1' : (spec.max ?? 0).toLocaleString('en-US').replaceAll(',', ' ')}`;
    case 'bytes':
      return `integer >= ${spec.min ?? 0}, or \`Infinity\``;
    case 'path':
      return 'string';
    case 'signal':
      return '`AbortSignal`';
    case 'resolved':
      return spec.shapes ?? 'see below';
    default:
      return spec.type;
  }
}

/** The README's table of the options given in `scope` (`pool`: the constructors'; `request`: a call's), from OPTIONS. */
export function optionsTable(scope: 'pool' | 'request'): string {
  const rows = OPTIONS.filter((o) => o.scope === scope || o.scope === 'both');
  const lines = ['| option | takes | default | backends | meaning |', '|---|---|---|---|---|'];
  for (const o of rows) lines.push(`| \`${o.name}\` | ${takes(o)} | ${o.shown} | ${o.backends === 'Pool' ? '`Pool` only' : 'both'} | ${o.doc} |`);
  return lines.join('\n');
}

/** The backend table's row of the options `NodePool` refuses (README, "Which backend"). */
export function poolOnlyRow(): string {
  const names = OPTIONS.filter((o) => o.backends === 'Pool').map((o) => `\`${o.name}\``);
  return `| Pool-only options | ${names.join(', ')} | refused with \`InvalidArgumentError\` | what they tune (pipelining, recycling, address refresh) has no hook in \`http.Agent\` |`;
}
