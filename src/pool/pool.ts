// The public client: validates calls, finds the origin's sockets, and closes or
// destroys them all. Everything a call gets wrong is refused here, before any byte
// is written.
import { AbortError, HttpClientPoolError, InvalidArgumentError, PoolClosedError, PoolDestroyedError } from '../errors.js';
import { resolveOptions, timeout, type Body, type Config, type Headers, type PoolOptions, type RequestInit, type RequestOptions } from '../options.js';
import { isIdempotent, RequestEncoder, validateMethod } from '../parser/request.js';
import type { Response } from '../response.js';
import { OriginPool } from './origin.js';
import { PendingRequest } from './request.js';
import { poolStats, type PoolStats } from './stats.js';
import { isAbsoluteURL, joinPath, parseURL, type Target } from './target.js';

/** The interface every backend of this library implements. */
export interface Client {
  ready(): Promise<void>;
  get(path: string, options?: RequestOptions): Promise<Response>;
  post(path: string, body?: Body | null, options?: RequestOptions): Promise<Response>;
  request(init: RequestInit): Promise<Response>;
  stats(): PoolStats;
  close(): Promise<void>;
  destroy(err?: Error): void;
}

export class Pool implements Client {
  private readonly config: Config;
  private readonly base: Target | null;
  private readonly origins = new Map<string, OriginPool>();
  private readonly main: OriginPool | null;
  private closed: Promise<void> | null = null;
  private destroyed = false;

  constructor(options?: PoolOptions) {
    this.config = resolveOptions(options);
    this.base = this.config.baseURL === '' ? null : parseURL(this.config.baseURL, true).target;
    this.main = this.base === null ? null : this.originFor(this.base);
    // With no baseURL no encoder exists yet; refuse bad default headers now, not at first use.
    if (this.main === null) new RequestEncoder('', this.config.headers);
  }

  /** Resolves when every socket of every origin known so far is connected; rejects with the first dial error. */
  ready(): Promise<void> {
    if (this.closed !== null) return Promise.reject(this.closedError());
    return Promise.all(Array.from(this.origins.values(), (o) => o.ready())).then(noop);
  }

  get(path: string, options?: RequestOptions): Promise<Response> {
    return this.send('GET', path, options, undefined);
  }

  /** Plain objects and arrays are sent as JSON (with `content-type: application/json` unless set). */
  post(path: string, body?: Body | null, options?: RequestOptions): Promise<Response> {
    return this.send('POST', path, options, body);
  }

  request(init: RequestInit): Promise<Response> {
    if (init === null || typeof init !== 'object') {
      return Promise.reject(new InvalidArgumentError('request() takes an object with method and path'));
    }
    return this.send(init.method, init.path, init, init.body);
  }

  /** Per-socket counters and totals of every origin; cheap enough to call every second. */
  stats(): PoolStats {
    const now = Date.now();
    return poolStats(Array.from(this.origins.values(), (o) => o.stats(now)));
  }

  /**
   * Graceful close: new requests are refused with `PoolClosedError`; queued and
   * in-flight ones finish; then every socket is closed. Idempotent.
   */
  close(): Promise<void> {
    if (this.closed === null) {
      this.closed = Promise.all(Array.from(this.origins.values(), (o) => o.close())).then(noop);
    }
    return this.closed;
  }

  /** Immediate close: queued and in-flight requests reject with `err` (default `PoolDestroyedError`). Idempotent. */
  destroy(err?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed ??= Promise.resolve();
    const reason = err === undefined ? new PoolDestroyedError() : asPoolError(err);
    for (const o of this.origins.values()) o.destroy(reason);
  }

  private send(method: string, path: string, options: RequestOptions | undefined, body: Body | null | undefined): Promise<Response> {
    let req: PendingRequest;
    let origin: OriginPool;
    try {
      if (this.closed !== null) throw this.closedError();
      validateMethod(method);
      if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
      let headers: Headers | undefined;
      let signal: AbortSignal | null = null;
      let ms = this.config.requestTimeout;
      if (options !== undefined) {
        if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
        headers = options.headers;
        if (options.signal !== undefined) signal = checkSignal(options.signal);
        if (options.timeout !== undefined) ms = timeout('timeout', options.timeout, ms);
      }
      let target: string;
      if (isAbsoluteURL(path)) {
        const abs = parseURL(path, false);
        origin = this.origins.get(abs.target.origin) ?? this.originFor(abs.target);
        target = abs.path;
      } else if (this.main !== null) {
        origin = this.main;
        target = joinPath(this.base!.basePath, path);
      } else {
        throw new InvalidArgumentError(`path ${JSON.stringify(path)} is relative and the pool has no baseURL`);
      }
      req = new PendingRequest(method === 'HEAD', isIdempotent(method), signal, ms);
      origin.encoder.encode(req, method, target, headers, body);
      if (signal?.aborted) throw new AbortError({ cause: signal.reason, origin: origin.origin, phase: 'call' });
    } catch (err) {
      return Promise.reject(err);
    }
    origin.enqueue(req);
    return req.promise;
  }

  private originFor(target: Target): OriginPool {
    const o = new OriginPool(target, this.config);
    this.origins.set(target.origin, o);
    return o;
  }

  private closedError(): HttpClientPoolError {
    return this.destroyed ? new PoolDestroyedError() : new PoolClosedError();
  }
}

function checkSignal(signal: unknown): AbortSignal {
  const s = signal as AbortSignal | null;
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  return s;
}

/** `destroy(err)` rejects with the caller's own error; it must still be a pool error to carry context. */
function asPoolError(err: Error): HttpClientPoolError {
  if (err instanceof HttpClientPoolError) return err;
  return new HttpClientPoolError(err.message, 'HCP_POOL_DESTROYED', { cause: err });
}

function noop(): void {}
