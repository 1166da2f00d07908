// The client as undici's Dispatcher: dispatch() with undici's options and either
// handler style, close/destroy with undici's callbacks, compose(), and what fetch
// reads of a dispatcher. Both public classes extend it; the native path under it
// (pool/client.ts) knows nothing of undici.
import { InvalidArgumentError } from '../errors.js';
import type { PoolOptions, RequestInit } from '../options.js';
import { ClientBase } from '../pool/client.js';
import type { Backend } from '../pool/origin.js';
import type { DispatchHandler } from '../pool/request.js';
import { compose } from './compose.js';
import { isLegacy, UndiciAdapter } from './handler.js';
import { OptionsReader } from './options.js';
import type { DispatchOptions, Interceptor, UndiciHandler } from './types.js';

type Callback = (err: Error | null, data: null) => void;

export abstract class Dispatcher extends ClientBase {
  private readonly reader = new OptionsReader();

  /**
   * @param chunksReused the backend hands out body chunks that are views into a buffer it reuses
   */
  constructor(
    options: PoolOptions | undefined,
    backend: Backend,
    private readonly chunksReused: boolean,
  ) {
    super(options, backend);
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
   */
  override dispatch(options: DispatchOptions | RequestInit, handler: UndiciHandler | DispatchHandler): boolean {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('dispatch() takes an options object');
    if (handler === null || typeof handler !== 'object') throw new InvalidArgumentError('dispatch() takes a handler object');
    if (this.closing) throw this.closedError();
    this.reader.read(this.call, this.config, this.base, options as DispatchOptions);
    const legacy = isLegacy(handler as UndiciHandler);
    const zeroCopy = this.call.zeroCopy;
    const native = zeroCopy && !legacy ? (handler as DispatchHandler) : new UndiciAdapter(handler as UndiciHandler, legacy, !zeroCopy && this.chunksReused);
    return this.sendChecked(options.method, options.body, native);
  }

  /** undici's compose(): a dispatcher whose dispatch() runs through `interceptors` (the first one outermost... as undici orders them). */
  compose(...interceptors: (Interceptor | null | undefined | (Interceptor | null | undefined)[])[]): this {
    return compose(this, interceptors);
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
