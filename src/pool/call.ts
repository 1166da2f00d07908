// Checks of one call that do not depend on the backend: method, path, options,
// and which origin and request target the path means. Both pools run them before
// touching anything, so both refuse the same bad calls the same way.
import { InvalidArgumentError } from '../errors.js';
import { timeout, type Config, type Headers, type RequestOptions } from '../options.js';
import { validateMethod } from '../parser/request.js';
import { isAbsoluteURL, joinPath, parseURL, type Target } from './target.js';

/**
 * A checked call: what of it the origin needs. Each client has one and fills it for
 * every call, then hands it on at once (the origin copies what it keeps into the
 * request), so no call allocates one.
 */
export class Call {
  /** The origin to send to. */
  target: Target | null = null;
  /** Request target for the request line: base path joined, query kept. */
  path = '';
  headers: Headers | undefined = undefined;
  signal: AbortSignal | null = null;
  /** Whole-request timeout in ms, 0 = none. */
  timeoutMs = 0;
  /** A body waits for the server's 100 Continue. */
  expectContinue = false;
  /** dispatch(): the handler takes views and the flat raw header array (see `zeroCopy`). */
  zeroCopy = false;
  /** Response head and body-gap timeouts of this call (undici's `headersTimeout`, `bodyTimeout`); -1: the pool's. */
  headersTimeout = -1;
  bodyTimeout = -1;
  /** Overrides whether the method may be resent and pipelined (undici's `idempotent`); null: the method decides. */
  idempotent: boolean | null = null;
  /** Nothing pipelines with it (undici's `blocking`). */
  blocking = false;
  /** The protocol it asks to upgrade to (undici's `upgrade`); null: none. */
  upgrade: string | null = null;

  /** Checks a call into this object. Throws `InvalidArgumentError` for anything wrong with it. */
  check(config: Config, base: Target | null, method: unknown, path: unknown, options: RequestOptions | undefined, tunnels = false): this {
    validateMethod(method, tunnels);
    if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
    this.options(config, options);
    if (isAbsoluteURL(path)) {
      const abs = parseURL(path, false);
      this.target = abs.target;
      this.path = abs.path;
      return this;
    }
    if (base === null) throw new InvalidArgumentError(`path ${JSON.stringify(path)} is relative and the pool has no baseURL`);
    this.target = base;
    this.path = joinPath(base.basePath, path);
    return this;
  }

  /** Checks a call to `target` with `path` as its request target as it is (undici's `origin` and `path`). */
  checkAt(config: Config, target: Target, method: unknown, path: string, options: RequestOptions | undefined, tunnels = false): this {
    validateMethod(method, tunnels);
    this.options(config, options);
    this.target = target;
    this.path = path;
    return this;
  }

  private options(config: Config, options: RequestOptions | undefined): void {
    let headers: Headers | undefined;
    let signal: AbortSignal | null = null;
    let ms = config.requestTimeout;
    let expectContinue = config.expectContinue;
    let zeroCopy = config.zeroCopy;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
      headers = options.headers;
      if (options.signal !== undefined) signal = checkSignal(options.signal);
      if (options.timeout !== undefined) ms = timeout('timeout', options.timeout, ms);
      if (options.expectContinue !== undefined) {
        if (typeof options.expectContinue !== 'boolean') throw new InvalidArgumentError('expectContinue must be a boolean');
        expectContinue = options.expectContinue;
      }
      if (options.zeroCopy !== undefined) {
        if (typeof options.zeroCopy !== 'boolean') throw new InvalidArgumentError('zeroCopy must be a boolean');
        zeroCopy = options.zeroCopy;
      }
    }
    this.expectContinue = expectContinue;
    this.zeroCopy = zeroCopy;
    this.headers = headers;
    this.signal = signal;
    this.timeoutMs = ms;
    this.headersTimeout = -1;
    this.bodyTimeout = -1;
    this.idempotent = null;
    this.blocking = false;
    this.upgrade = null;
  }
}

function checkSignal(signal: unknown): AbortSignal {
  const s = signal as AbortSignal | null;
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  return s;
}
