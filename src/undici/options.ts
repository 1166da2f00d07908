// undici's request options as a checked call of this library: `origin` (which wins over
// `baseURL`), `path` with `query`, headers in any of undici's forms, and the per-request
// knobs undici has (`idempotent`, `blocking`, `reset`, `headersTimeout`, `bodyTimeout`).
import { stringify } from 'node:querystring';
import { InvalidArgumentError } from '../errors.js';
import type { Config, Headers, RequestOptions } from '../options.js';
import { CallShape, type Call } from '../pool/call.js';
import { parseURL, type Target } from '../pool/target.js';
import { requestHeaders } from './headers.js';
import type { DispatchOptions } from './types.js';

/** Origins seen, parsed once (fetch names its origin by string on every call). */
const MAX_TARGETS = 256;

export class OptionsReader {
  private readonly targets = new Map<string, Target>();

  /** Checks `opts` into `call`. Throws `InvalidArgumentError` for anything wrong, before anything is sent. */
  read(call: Call, config: Config, base: Target | null, opts: DispatchOptions): void {
    const { method } = opts;
    let path = opts.path;
    if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
    if (opts.query !== undefined && opts.query !== null) path = withQuery(path, opts.query);
    const headers = withReset(requestHeaders(opts.headers), opts.reset);
    const origin = opts.origin;
    // Call reads the options of ours (headers, signal, timeout, expectContinue, zeroCopy, retry, idempotent) and checks them.
    const given = opts as unknown as RequestOptions;
    // CONNECT's socket leaves the pool (undici.connect): allowed here, not in this library's own calls.
    if (origin === undefined || origin === null) call.check(config, base, method, path, given, CallShape.Undici);
    else {
      if (path.charCodeAt(0) !== 47 /* / */ && path !== '*' && method !== 'CONNECT') {
        throw new InvalidArgumentError(`path ${JSON.stringify(path)} must start with "/" when an origin is given`);
      }
      call.checkAt(config, this.target(origin), method, path, given, CallShape.Undici);
    }
    call.headers = headers;
    const max = opts.maxRedirections;
    if (max !== undefined && max !== null && max !== 0) {
      throw new InvalidArgumentError('maxRedirections is not taken by dispatch(): compose the redirect interceptor (pool.compose(interceptors.redirect()))');
    }
    const up = opts.upgrade;
    if (up !== undefined && up !== null && up !== false) {
      if (typeof up !== 'string' || up === '') throw new InvalidArgumentError('upgrade must be a protocol name (e.g. "websocket")');
      if (method === 'CONNECT') throw new InvalidArgumentError('upgrade cannot be given with CONNECT');
      call.upgrade = up;
    }
    if (opts.idempotent !== undefined) call.idempotent = flag('idempotent', opts.idempotent);
    if (opts.blocking !== undefined) call.blocking = flag('blocking', opts.blocking);
    if (opts.headersTimeout !== undefined && opts.headersTimeout !== null) call.headersTimeout = milliseconds('headersTimeout', opts.headersTimeout);
    if (opts.bodyTimeout !== undefined && opts.bodyTimeout !== null) call.bodyTimeout = milliseconds('bodyTimeout', opts.bodyTimeout);
    const sni = opts.servername;
    if (sni !== undefined && sni !== null && sni !== call.target!.hostname && sni !== config.tls.servername) {
      throw new InvalidArgumentError(`servername ${JSON.stringify(sni)} differs from the origin's host: set the pool's tls.servername instead`);
    }
  }

  private target(origin: unknown): Target {
    const key = typeof origin === 'string' ? origin : origin instanceof URL ? origin.origin : null;
    if (key === null) throw new InvalidArgumentError('origin must be a string or a URL');
    let t = this.targets.get(key);
    if (t === undefined) {
      t = parseURL(key, false).target;
      if (this.targets.size >= MAX_TARGETS) this.targets.clear();
      this.targets.set(key, t);
    }
    return t;
  }
}

function withQuery(path: string, query: unknown): string {
  if (typeof query !== 'object') throw new InvalidArgumentError('query must be an object');
  if (path.includes('?') || path.includes('#')) throw new InvalidArgumentError('query cannot be given when path already has "?" or "#"');
  const qs = stringify(query as Record<string, string>);
  return qs === '' ? path : `${path}?${qs}`;
}

function withReset(headers: Headers | undefined, reset: unknown): Headers | undefined {
  if (reset === undefined || reset === null || reset === false) return headers;
  if (reset !== true) throw new InvalidArgumentError('reset must be a boolean');
  return { ...headers, connection: 'close' };
}

function flag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${name} must be a boolean`);
  return value;
}

/** undici's per-request timeouts: milliseconds a timer can be armed for, 0 = off. */
function milliseconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 2_147_483_647)) {
    throw new InvalidArgumentError(`${name} must be a number of milliseconds from 0 to 2147483647, got ${String(value)}`);
  }
  return value;
}
