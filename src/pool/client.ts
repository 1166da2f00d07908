// The public call surface both backends share: call checking, one origin per distinct
// origin (dropped again once it has nothing left, unless it is the base URL's), and
// close/destroy over all of them. A backend only says how its slots are made.
import { EventEmitter } from 'node:events';
import { HttpClientPoolError, InvalidArgumentError, PoolClosedError, PoolDestroyedError, SocketError } from '../errors.js';
import { resolveOptions, type BackendName, type Body, type Config, type PoolOptions, type RequestInit, type RequestOptions } from '../options.js';
import { RequestEncoder } from '../parser/request.js';
import type { Response } from '../response.js';
import { Call, CallShape } from './call.js';
import type { DispatchHandler } from './request.js';
import { StreamHandler, type StreamResponse } from './stream.js';
import { Origin, type Backend, type OriginEvents } from './origin.js';
import { poolStats, type PoolStats } from './stats.js';
import { parseURL, type Target } from './target.js';

/** The interface every backend of this library implements. */
export interface Client {
  /** Resolves when every socket of every origin known so far is connected; rejects with the first dial error. */
  ready(): Promise<void>;
  get(path: string, options?: RequestOptions): Promise<Response>;
  /** Plain objects and arrays are sent as JSON (with `content-type: application/json` unless set). */
  post(path: string, body?: Body | null, options?: RequestOptions): Promise<Response>;
  request(init: RequestInit): Promise<Response>;
  /**
   * The request's response goes to `handler` as it arrives: head, body pieces, end (no
   * promise, no Response). A bad call, or a call after close()/destroy(), throws at once
   * (nothing is sent, no handler method is called); every other outcome reaches the handler.
   */
  dispatch(init: RequestInit, handler: DispatchHandler): void;
  /**
   * Resolves at the end of the response head; `body` is a Readable with backpressure (a
   * consumer that stops reading pauses the socket). Errors before the head reject; after
   * it, they destroy the body with the same classes and codes.
   */
  stream(init: RequestInit): Promise<StreamResponse>;
  /** Per-socket counters and totals of every origin; cheap enough to call every second. */
  stats(): PoolStats;
  /** Graceful: new requests are refused with `PoolClosedError`; queued and in-flight ones finish; then every socket closes. Idempotent. */
  close(): Promise<void>;
  /**
   * Immediate: queued and in-flight requests, and a pending `ready()`, reject with `err`
   * itself (the same object, untouched), or each with its own `PoolDestroyedError`; sockets
   * are destroyed. Idempotent.
   */
  destroy(err?: Error): void;
}

/**
 * Both backends' client. An EventEmitter with undici's events: `connect` (origin URL,
 * [client]) when a socket connected, `disconnect` (origin, [client], err) when it went,
 * `connectionError` (origin, [client], err) when a dial failed, `drain` (origin) when
 * requests that had to wait are all on sockets.
 */
export abstract class ClientBase extends EventEmitter implements Client {
  protected readonly config: Config;
  protected readonly base: Target | null;
  private readonly origins = new Map<string, Origin>();
  private closed: Promise<void> | null = null;
  /** Filled by every call (see Call). */
  protected readonly call = new Call();
  private destroyed = false;
  /** Drops an origin that has nothing left, so that a client of many origins does not keep them all. */
  private readonly forget = (o: Origin): void => {
    if (this.origins.get(o.origin) === o) this.origins.delete(o.origin);
  };

  constructor(
    options: PoolOptions | undefined,
    private readonly backend: Backend,
    name: BackendName,
  ) {
    super();
    this.config = resolveOptions(options, name);
    this.base = this.config.baseURL === '' ? null : parseURL(this.config.baseURL, true).target;
    // Default headers are checked now, not at the first request of the first origin.
    new RequestEncoder('', this.config.headers);
  }

  /** Subclasses call this at the end of their constructor: the base URL's sockets start dialing. */
  protected start(): void {
    if (this.base !== null) this.originFor(this.base).open();
  }

  async ready(): Promise<void> {
    if (this.closed !== null) throw this.closedError();
    await Promise.all(Array.from(this.origins.values(), (o) => o.ready()));
  }

  get(path: string, options?: RequestOptions): Promise<Response> {
    return this.send('GET', path, options, undefined);
  }

  post(path: string, body?: Body | null, options?: RequestOptions): Promise<Response> {
    return this.send('POST', path, options, body);
  }

  request(init: RequestInit): Promise<Response> {
    if (init === null || typeof init !== 'object') {
      return Promise.reject(new InvalidArgumentError('request() takes an object with method and path'));
    }
    return this.send(init.method, init.path, init, init.body, CallShape.Init);
  }

  dispatch(init: RequestInit, handler: DispatchHandler): void {
    this.dispatchNative(init, handler);
  }

  /** dispatch() as this library has it: its handler gets views and the flat raw header array. */
  protected dispatchNative(init: RequestInit, handler: DispatchHandler): void {
    if (init === null || typeof init !== 'object') throw new InvalidArgumentError('dispatch() takes an object with method and path');
    checkHandler(handler);
    if (this.closed !== null) throw this.closedError();
    const call = this.call.check(this.config, this.base, init.method, init.path, init, CallShape.Init);
    this.originFor(call.target!).send(init.method, call, init.body, handler);
  }

  /** Sends the call checked into `this.call`; false when it had to wait for a socket (undici's dispatch() result). */
  protected sendChecked(method: string, body: unknown, handler: DispatchHandler): boolean {
    if (this.closed !== null) throw this.closedError();
    const origin = this.originFor(this.call.target!);
    origin.send(method, this.call, body as Body | null | undefined, handler);
    if (!origin.waiting) return true;
    origin.needDrain = true;
    return false;
  }

  /** close() or destroy() was called. */
  protected get closing(): boolean {
    return this.closed !== null;
  }

  stream(init: RequestInit): Promise<StreamResponse> {
    return new Promise((resolve, reject) => this.dispatchNative(init, new StreamHandler(resolve, reject, this.config.bodyTimeout)));
  }

  stats(): PoolStats {
    const now = Date.now();
    return poolStats(Array.from(this.origins.values(), (o) => o.stats(now)));
  }

  close(): Promise<void> {
    this.closed ??= closeAll(Array.from(this.origins.values()));
    return this.closed;
  }

  destroy(err?: Error): void {
    if (err !== undefined && !(err instanceof Error)) throw new InvalidArgumentError('destroy() takes an Error, or nothing');
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed ??= Promise.resolve();
    // Ours: one error per request, so that each carries its own origin, socket and phase.
    // The caller's: every request rejects with it, as it is (as undici's do).
    const reason = err ?? ((): HttpClientPoolError => new PoolDestroyedError());
    for (const o of this.origins.values()) o.destroy(reason);
  }

  private send(method: string, path: string, options: RequestOptions | undefined, body: Body | null | undefined, shape = CallShape.Options): Promise<Response> {
    try {
      if (this.closed !== null) throw this.closedError();
      const call = this.call.check(this.config, this.base, method, path, options, shape);
      const origin = this.originFor(call.target!);
      return origin.send(method, call, body, null).promise!;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private originFor(target: Target): Origin {
    let o = this.origins.get(target.origin);
    if (o === undefined) {
      o = new Origin(target, this.config, this.backend, this.events);
      if (this.base === null || target.origin !== this.base.origin) o.onUnused = this.forget;
      this.origins.set(target.origin, o);
    }
    return o;
  }

  /** What the origins report, as undici's events: built only when someone listens. Not part of the client's own surface. */
  private readonly events: OriginEvents = {
    connected: (origin) => {
      if (this.listenerCount('connect') !== 0) this.emit('connect', new URL(origin), [this]);
    },
    disconnected: (origin) => {
      if (this.listenerCount('disconnect') === 0) return;
      const why = this.destroyed ? new PoolDestroyedError() : this.closed !== null ? new PoolClosedError() : new SocketError('the socket closed', { origin });
      this.emit('disconnect', new URL(origin), [this], why);
    },
    connectionFailed: (origin, _id, err) => {
      if (this.listenerCount('connectionError') !== 0) this.emit('connectionError', new URL(origin), [this], err);
    },
    drained: (origin) => {
      if (this.listenerCount('drain') !== 0) this.emit('drain', new URL(origin), [this]);
    },
  };

  protected closedError(): HttpClientPoolError {
    return this.destroyed ? new PoolDestroyedError() : new PoolClosedError();
  }
}

const HANDLER_METHODS = ['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd', 'onResponseError'] as const;

function checkHandler(handler: unknown): void {
  if (handler === null || typeof handler !== 'object') throw new InvalidArgumentError('dispatch() takes a handler object');
  for (const name of HANDLER_METHODS) {
    const m = (handler as Record<string, unknown>)[name];
    if (m !== undefined && typeof m !== 'function') throw new InvalidArgumentError(`handler.${name} must be a function`);
  }
}

async function closeAll(origins: Origin[]): Promise<void> {
  await Promise.all(origins.map((o) => o.close()));
}
