// The opt-in retry policy for answered requests: which statuses and methods are
// retried, how many times, and how long to wait before each attempt (exponential
// backoff with full jitter, or the response's Retry-After). Pure: the request decides
// with it (pool/request.ts) and its origin puts the request back in the queue.
import { InvalidArgumentError } from '../errors.js';

/** The `retry` option: a number of retries with the defaults, or the policy in full. */
export type RetryOption =
  | number
  | false
  | {
      /** Retries at most (attempts = limit + 1). */
      readonly limit: number;
      /** Statuses retried. Default 429, 502, 503, 504. */
      readonly statuses?: readonly number[];
      /** Methods retried. Default GET HEAD OPTIONS PUT DELETE TRACE; POST and PATCH only with `idempotent: true`. */
      readonly methods?: readonly string[];
      /** The shortest wait before a retry, ms. Default 100. */
      readonly minDelay?: number;
      /** The longest backoff, ms. Default 10 000. */
      readonly maxDelay?: number;
      /** A longer `Retry-After` is not waited for: that response is returned at once. Default 30 000 ms. */
      readonly maxRetryAfter?: number;
    };

export const retryDefaults = {
  statuses: [429, 502, 503, 504],
  methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'],
  minDelay: 100,
  maxDelay: 10_000,
  maxRetryAfter: 30_000,
} as const;

export class RetryPolicy {
  constructor(
    readonly limit: number,
    readonly statuses: ReadonlySet<number>,
    readonly methods: ReadonlySet<string>,
    readonly minDelay: number,
    readonly maxDelay: number,
    readonly maxRetryAfter: number,
  ) {}

  /**
   * A request of `method` may be retried on a status at all: a method of the policy's
   * other than POST or PATCH, or any method the caller called idempotent.
   * `idempotent` false keeps even a GET from being retried.
   */
  covers(method: string, idempotent: boolean | undefined): boolean {
    if (idempotent !== undefined) return idempotent;
    return method !== 'POST' && method !== 'PATCH' && this.methods.has(method);
  }

  /**
   * The wait before retry number `attempt` (1 for the first) of a response with
   * `status` and `rawHeaders`, in ms; -1: return this response as it is (a status not
   * retried, no retries left, or a Retry-After longer than `maxRetryAfter`).
   */
  delay(attempt: number, status: number, rawHeaders: readonly string[], nowMs: number, random: () => number = Math.random): number {
    if (attempt > this.limit || !this.statuses.has(status)) return -1;
    const after = retryAfter(rawHeaders, nowMs);
    if (after >= 0) return after > this.maxRetryAfter ? -1 : after;
    return backoff(attempt, this.minDelay, this.maxDelay, random());
  }
}

/**
 * Full jitter: a uniform pick between `min` and the exponential cap `min * 2^(attempt-1)`
 * (at most `max`), so that clients retrying together spread out.
 */
export function backoff(attempt: number, min: number, max: number, r: number): number {
  const cap = Math.min(max, min * 2 ** (attempt - 1));
  return Math.round(min + r * Math.max(0, cap - min));
}

/** A response's Retry-After in ms from `nowMs`: delay-seconds or an HTTP date (past: 0); -1: absent or unreadable. */
export function retryAfter(rawHeaders: readonly string[], nowMs: number): number {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 11 || name.toLowerCase() !== 'retry-after') continue;
    const value = rawHeaders[i + 1]!.trim();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    // An HTTP date has a weekday name and a zone; plain numbers are seconds only.
    if (!/^[A-Za-z]{3},? /.test(value)) return -1;
    const at = Date.parse(value);
    return Number.isNaN(at) ? -1 : Math.max(0, at - nowMs);
  }
  return -1;
}

/** Checks a `retry` option. `undefined` keeps `fallback`; false or 0 turns retries off (null). */
export function resolveRetry(name: string, value: unknown, fallback: RetryPolicy | null): RetryPolicy | null {
  if (value === undefined) return fallback;
  if (value === false || value === 0) return null;
  if (typeof value === 'number') {
    return policy(name, { limit: value });
  }
  if (value === null || typeof value !== 'object') throw new InvalidArgumentError(`${name} must be a number of retries, false or an object with limit`);
  return policy(name, value as Record<string, unknown>);
}

function policy(name: string, o: Record<string, unknown>): RetryPolicy {
  const limit = o['limit'];
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0 || limit > 100) {
    throw new InvalidArgumentError(`${name}.limit must be an integer from 0 to 100, got ${String(limit)}`);
  }
  const statuses = list(name, 'statuses', o['statuses'], retryDefaults.statuses, (s) => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 999);
  const methods = list(name, 'methods', o['methods'], retryDefaults.methods, (m) => typeof m === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m));
  const minDelay = ms(name, 'minDelay', o['minDelay'], retryDefaults.minDelay);
  const maxDelay = ms(name, 'maxDelay', o['maxDelay'], retryDefaults.maxDelay);
  if (maxDelay < minDelay) throw new InvalidArgumentError(`${name}.maxDelay (${maxDelay}) must not be below minDelay (${minDelay})`);
  const maxRetryAfter = ms(name, 'maxRetryAfter', o['maxRetryAfter'], retryDefaults.maxRetryAfter);
  return new RetryPolicy(limit, new Set(statuses as number[]), new Set(methods as string[]), minDelay, maxDelay, maxRetryAfter);
}

function list(name: string, key: string, value: unknown, fallback: readonly unknown[], ok: (v: unknown) => boolean): readonly unknown[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every(ok)) throw new InvalidArgumentError(`${name}.${key} must be an array of ${key === 'statuses' ? 'status codes' : 'method names'}`);
  return value as unknown[];
}

function ms(name: string, key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2_147_483_647) {
    throw new InvalidArgumentError(`${name}.${key} must be a number of milliseconds from 0 to 2147483647, got ${String(value)}`);
  }
  return value;
}

/**
 * One request's retries under its policy: made only for a request the policy covers
 * (so a request without retries carries a null, not this).
 */
export class Retries {
  /** Retries so far. */
  count = 0;
  /** The wait decided for the response being read (dispatch: its body is being discarded); -1: none. */
  pending = -1;

  constructor(readonly policy: RetryPolicy) {}

  /** Decides on a response head: true, it is retried after `pending` ms (its body discarded). */
  decide(status: number, rawHeaders: readonly string[]): boolean {
    this.pending = this.policy.delay(this.count + 1, status, rawHeaders, Date.now());
    return this.pending >= 0;
  }
}
