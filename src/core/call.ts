// Checks of one call that do not depend on the backend: method, path, options,
// and which origin and request target the path means. Both pools run them before
// touching anything, so both refuse the same bad calls the same way.
import { InvalidArgumentError } from '../errors.js';
import { timeout, type Config, type Headers, type RequestOptions } from '../options.js';
import { validateMethod } from '../parser/request.js';
import { isAbsoluteURL, joinPath, parseURL, type Target } from './target.js';

export interface Call {
  /** The origin to send to. */
  readonly target: Target;
  /** Request target for the request line: base path joined, query kept. */
  readonly path: string;
  readonly headers: Headers | undefined;
  readonly signal: AbortSignal | null;
  /** Whole-request timeout in ms, 0 = none. */
  readonly timeoutMs: number;
}

/** Throws `InvalidArgumentError` for anything wrong with the call. */
export function checkCall(config: Config, base: Target | null, method: unknown, path: unknown, options: RequestOptions | undefined): Call {
  validateMethod(method);
  if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
  let headers: Headers | undefined;
  let signal: AbortSignal | null = null;
  let ms = config.requestTimeout;
  if (options !== undefined) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    headers = options.headers;
    if (options.signal !== undefined) signal = checkSignal(options.signal);
    if (options.timeout !== undefined) ms = timeout('timeout', options.timeout, ms);
  }
  if (isAbsoluteURL(path)) {
    const abs = parseURL(path, false);
    return { target: abs.target, path: abs.path, headers, signal, timeoutMs: ms };
  }
  if (base === null) throw new InvalidArgumentError(`path ${JSON.stringify(path)} is relative and the pool has no baseURL`);
  return { target: base, path: joinPath(base.basePath, path), headers, signal, timeoutMs: ms };
}

function checkSignal(signal: unknown): AbortSignal {
  const s = signal as AbortSignal | null;
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  return s;
}
