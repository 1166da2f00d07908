// The client as undici's Dispatcher: dispatch() with undici's options and either
// handler style, close/destroy with undici's callbacks, compose(), and what fetch
// reads of a dispatcher. Both public classes extend it; the native path under it
// (pool/client.ts) knows nothing of undici.
import { InvalidArgumentError } from '../errors.js';
import type { BackendName, PoolOptions, RequestInit } from '../options.js';
import type { Response } from '../response.js';
import type { StreamResponse } from '../pool/stream.js';
import { ClientBase } from '../pool/client.js';
import type { Backend } from '../pool/origin.js';
import type { DispatchHandler } from '../pool/request.js';
import { compose } from './compose.js';
import { isLegacy, UndiciAdapter } from './handler.js';
import { OptionsReader } from './options.js';
import type { DispatchOptions, UndiciHandler } from './types.js';

type Callback = (err: Error | null, data: null) => void;

export abstract class Dispatcher extends ClientBase {
  private readonly reader = new OptionsReader();

  /**
   * @param name which class is built (NodePool refuses Pool-only options)
   * @param chunksReused the backend hands out body chunks that are views into a buffer it reuses
   */
  constructor(
    options: PoolOptions | undefined,
    backend: Backend,
    name: BackendName,
    private readonly chunksReused: boolean,
  ) {
    super(options, backend, name);
  }

  /** fetch asks; a pool is never undici's MockAgent. */
  get isMockActive(): boolean {
    return false;
  }

  /**
   * undici's dispatch(): `options` as undici has them (`origin`, `path`, `method`,
   * `headers`, `body`, `query`, ...), `handler` in undici's new style or its legacy one.
   * By default the handler gets undici's headers object (the raw list on
   * `controller.rawHeaders`) and chunks it may keep; with `zeroCopy` it gets this
   * library's form (the flat raw list, views valid during the call). A bad call throws
   * `InvalidArgumentError` before anything is sent. False: it waits for a socket (`drain` follows).
   * (`object` in the handler's type: every undici version's own handler type is taken;
   * its methods are checked at the call.)
   */
  override dispatch(options: DispatchOptions | RequestInit, handler: DispatchHandler): boolean;
  override dispatch(options: DispatchOptions | RequestInit, handler: UndiciHandler | object): boolean;
  override dispatch(options: DispatchOptions | RequestInit, handler: DispatchHandler | UndiciHandler | object): boolean {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('dispatch() takes an options object');
    if (handler === null || typeof handler !== 'object') throw new InvalidArgumentError('dispatch() takes a handler object');
    checkMethods(handler);
    if (this.closing) throw this.closedError();
    this.reader.read(this.call, this.config, this.base, options as DispatchOptions);
    const legacy = isLegacy(handler as UndiciHandler);
    if (this.call.upgrade !== null || options.method === 'CONNECT') {
      const name = legacy ? 'onUpgrade' : 'onRequestUpgrade';
      if (typeof (handler as Record<string, unknown>)[name] !== 'function') {
        throw new InvalidArgumentError(`an upgrade or CONNECT request's handler must have ${name}(): the socket is handed to it`);
      }
    }
    const zeroCopy = this.call.zeroCopy;
    const native = zeroCopy && !legacy ? (handler as DispatchHandler) : new UndiciAdapter(handler as UndiciHandler, legacy, !zeroCopy && this.chunksReused);
    // undici's handlers (fetch, its helpers and interceptors) do much work of their own
    // between two calls: their requests are written together at the end of the turn
    // (pool/turn.ts). A zeroCopy handler, chained from its own callbacks (the load
    // tool), is written at once.
    this.call.batched = native !== handler;
    return this.sendChecked(options.method, options.body, native);
  }

  /**
   * undici's compose(): the pool, with a dispatch() that runs through `interceptors`
   * (`dispatch => (options, handler) => boolean`, e.g. undici's `interceptors.retry()`),
   * given as arguments or as one array; the last one given runs first, as in undici.
   * Typed loosely so that every undici version's interceptor type is taken; each is checked here.
   */
  compose(...interceptors: unknown[]): this {
    return compose(this, interceptors);
  }

  // undici's Dispatcher type also names its own request/stream/pipeline/connect/upgrade
  // helpers as members. This library's request() and stream() are its own; the second
  // signature of each (never callable) and the three below only let a pool stand where
  // a TypeScript `Dispatcher` is expected. undici's helpers are module functions that
  // call dispatch(): `undici.request(url, { dispatcher: pool })`, `undici.pipeline(...)`.
  override request(init: RequestInit): Promise<Response>;
  override request(...undiciForm: never[]): never;
  override request(init: RequestInit): Promise<Response> {
    return super.request(init);
  }

  override stream(init: RequestInit): Promise<StreamResponse>;
  override stream(...undiciForm: never[]): never;
  override stream(init: RequestInit): Promise<StreamResponse> {
    return super.stream(init);
  }

  pipeline(...undiciForm: never[]): never {
    throw notHere('pipeline', undiciForm);
  }

  connect(...undiciForm: never[]): never {
    throw notHere('connect', undiciForm);
  }

  upgrade(...undiciForm: never[]): never {
    throw notHere('upgrade', undiciForm);
  }

  // EventEmitter's types say Function[]; undici's Dispatcher type wants callables.
  override listeners(event: string | symbol): ((...args: any[]) => void)[] {
    return super.listeners(event) as ((...args: any[]) => void)[];
  }

  override rawListeners(event: string | symbol): ((...args: any[]) => void)[] {
    return super.rawListeners(event) as ((...args: any[]) => void)[];
  }

  override close(): Promise<void>;
  override close(callback: Callback): void;
  override close(callback?: Callback): Promise<void> | void {
    const done = super.close();
    if (callback === undefined) return done;
    if (typeof callback !== 'function') throw new InvalidArgumentError('close() takes a callback function');
    void done.then(() => callback(null, null));
  }

  /**
   * Immediate: queued and in-flight requests fail with `err` (default `PoolDestroyedError`).
   * Returns a promise (or calls `callback`) once that is done; undici's forms.
   */
  override destroy(err?: Error | null): Promise<void>;
  override destroy(callback: Callback): void;
  override destroy(err: Error | null | undefined, callback: Callback): void;
  override destroy(err?: Error | null | Callback, callback?: Callback): Promise<void> | void {
    if (typeof err === 'function') {
      callback = err;
      err = undefined;
    }
    super.destroy(err ?? undefined);
    if (callback === undefined) return Promise.resolve();
    if (typeof callback !== 'function') throw new InvalidArgumentError('destroy() takes a callback function');
    queueMicrotask(() => callback(null, null));
  }
}

/**
 * Each callback a handler has must be a function. Read by name, one load per name: the
 * handler is usually of one class at a call site, where a loop over the names would do a
 * keyed (megamorphic) lookup for each name of every call (seen in the load tool's profile).
 */
function checkMethods(handler: object): void {
  const h = handler as UndiciHandler;
  notFunction(h.onRequestStart, 'onRequestStart');
  notFunction(h.onResponseStart, 'onResponseStart');
  notFunction(h.onResponseData, 'onResponseData');
  notFunction(h.onResponseEnd, 'onResponseEnd');
  notFunction(h.onResponseError, 'onResponseError');
  notFunction(h.onRequestUpgrade, 'onRequestUpgrade');
  notFunction(h.onConnect, 'onConnect');
  notFunction(h.onHeaders, 'onHeaders');
  notFunction(h.onData, 'onData');
  notFunction(h.onComplete, 'onComplete');
  notFunction(h.onError, 'onError');
  notFunction(h.onUpgrade, 'onUpgrade');
}

function notFunction(m: unknown, name: string): void {
  if (m !== undefined && typeof m !== 'function') throw new InvalidArgumentError(`handler.${name} must be a function`);
}

function notHere(name: string, _args: unknown[]): TypeError {
  return new TypeError(`pool.${name}() is undici's helper, not this pool's: call undici.${name}(url, { dispatcher: pool, ... })`);
}
