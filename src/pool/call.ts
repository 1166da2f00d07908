// Checks of one call that do not depend on the backend: method, path, options,
// and which origin and request target the path means. Both pools run them before
// touching anything, so both refuse the same bad calls the same way.
import { InvalidArgumentError } from '../errors.js';
import { checkValue, requestOption, unknownOption, type Config, type Headers, type RequestOptions } from '../options.js';
import { validateMethod } from '../parser/request.js';
import { isAbsoluteURL, joinPath, parseURL, type Target } from './target.js';
import { resolveRetry, type RetryPolicy } from './retry.js';

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
  /** Retries by status: the pool's policy or the call's own; null: none. */
  retry: RetryPolicy | null = null;
  /** The caller's `idempotent`, or undefined: the method decides. */
  idempotent: boolean | undefined = undefined;

  /**
   * Checks a call into this object. Throws `InvalidArgumentError` for anything wrong with
   * it: an option name that is none (`init`: the object is a request()/dispatch() init,
   * which also holds `method`, `path` and `body`), a value of the wrong type or range.
   */
  check(config: Config, base: Target | null, method: unknown, path: unknown, options: RequestOptions | undefined, init = false): this {
    validateMethod(method);
    if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
    let headers: Headers | undefined;
    let signal: AbortSignal | null = null;
    let ms = config.requestTimeout;
    let expectContinue = config.expectContinue;
    let retry = config.retry;
    let idempotent: boolean | undefined;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
      checkNames(options, init);
      headers = options.headers;
      if (options.signal !== undefined) signal = options.signal;
      if (options.timeout !== undefined) ms = options.timeout;
      if (options.expectContinue !== undefined) expectContinue = options.expectContinue;
      if (options.retry !== undefined) retry = resolveRetry('retry', options.retry, retry);
      if (options.idempotent !== undefined) idempotent = options.idempotent;
    }
    this.retry = retry;
    this.idempotent = idempotent;
    this.expectContinue = expectContinue;
    this.headers = headers;
    this.signal = signal;
    this.timeoutMs = ms;
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
}

/**
 * Every name in a call's options must be an option of a call (OPTIONS), and its value
 * of the right type. A `for...in` and a Map lookup per name: nothing is allocated.
 */
function checkNames(options: object, init: boolean): void {
  const o = options as Record<string, unknown>;
  for (const name in o) {
    if (init && (name === 'method' || name === 'path' || name === 'body')) continue; // checked apart
    const spec = requestOption(name);
    if (spec === undefined) throw unknownOption(name, 'request', init ? INIT_FIELDS : NO_FIELDS);
    const value = o[name];
    if (value !== undefined) checkValue(spec, value);
  }
}

const INIT_FIELDS = ['method', 'path', 'body'] as const;
const NO_FIELDS = [] as const;
