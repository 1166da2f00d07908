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
  /** dispatch(): the handler takes views and the flat raw header array (see `zeroCopy`). */
  zeroCopy = false;
  /** Response head and body-gap timeouts of this call (undici's `headersTimeout`, `bodyTimeout`); -1: the pool's. */
  headersTimeout = -1;
  bodyTimeout = -1;
  /** Retries by status: the pool's policy or the call's own; null: none. */
  retry: RetryPolicy | null = null;
  /**
   * Overrides whether the method may be resent and pipelined, and whether a POST or PATCH
   * may be retried by status (`idempotent`, undici's too); null: the method decides.
   */
  idempotent: boolean | null = null;
  /** Nothing pipelines with it (undici's `blocking`). */
  blocking = false;
  /** The protocol it asks to upgrade to (undici's `upgrade`); null: none. */
  upgrade: string | null = null;
  /** Written with the other requests of its event-loop turn, at the turn's end (dispatch(): see pool/turn.ts). */
  batched = false;

  /**
   * Checks a call into this object. Throws `InvalidArgumentError` for anything wrong with
   * it: an option name that is none (see CallShape), a value of the wrong type or range.
   */
  check(config: Config, base: Target | null, method: unknown, path: unknown, options: RequestOptions | undefined, shape = CallShape.Options): this {
    validateMethod(method, shape === CallShape.Undici);
    if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
    this.options(config, options, shape);
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
  checkAt(config: Config, target: Target, method: unknown, path: string, options: RequestOptions | undefined, shape = CallShape.Undici): this {
    validateMethod(method, shape === CallShape.Undici);
    this.options(config, options, shape);
    this.target = target;
    this.path = path;
    return this;
  }

  private options(config: Config, options: RequestOptions | undefined, shape: CallShape): void {
    let headers: Headers | undefined;
    let signal: AbortSignal | null = null;
    let ms = config.requestTimeout;
    let expectContinue = config.expectContinue;
    let zeroCopy = config.zeroCopy;
    let retry = config.retry;
    let idempotent: boolean | null = null;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
      checkNames(options, shape);
      headers = options.headers;
      if (options.signal !== undefined) signal = options.signal;
      if (options.timeout !== undefined) ms = options.timeout;
      if (options.expectContinue !== undefined) expectContinue = options.expectContinue;
      if (options.zeroCopy !== undefined) zeroCopy = options.zeroCopy;
      if (options.retry !== undefined) retry = resolveRetry('retry', options.retry, retry);
      if (options.idempotent !== undefined) idempotent = options.idempotent;
    }
    this.expectContinue = expectContinue;
    this.zeroCopy = zeroCopy;
    this.retry = retry;
    this.idempotent = idempotent;
    this.headers = headers;
    this.signal = signal;
    this.timeoutMs = ms;
    this.headersTimeout = -1;
    this.bodyTimeout = -1;
    this.blocking = false;
    this.upgrade = null;
    this.batched = false;
  }
}

/** What kind of object a call's options come in, which decides the names it may hold. */
export const enum CallShape {
  /** get()/post()'s options: option names only. */
  Options,
  /** request()/stream()'s init: `method`, `path` and `body` too. */
  Init,
  /**
   * dispatch()'s options, undici's (fetch, undici's helpers and interceptors put theirs in):
   * names of ours are checked, any other passes, as undici lets it. CONNECT is allowed (its
   * socket leaves the pool).
   */
  Undici,
}

/**
 * Every name in a call's options must be an option of a call (OPTIONS), and its value
 * of the right type. A `for...in` and a Map lookup per name: nothing is allocated.
 */
function checkNames(options: object, shape: CallShape): void {
  const o = options as Record<string, unknown>;
  for (const name in o) {
    if (shape !== CallShape.Options && (name === 'method' || name === 'path' || name === 'body')) continue; // checked apart
    const spec = requestOption(name);
    if (spec === undefined) {
      if (shape === CallShape.Undici) continue;
      throw unknownOption(name, 'request', shape === CallShape.Init ? INIT_FIELDS : NO_FIELDS);
    }
    const value = o[name];
    if (value !== undefined) checkValue(spec, value);
  }
}

const INIT_FIELDS = ['method', 'path', 'body'] as const;
const NO_FIELDS = [] as const;
