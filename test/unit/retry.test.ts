// The retry policy from numbers and headers alone: option checks, full-jitter backoff
// bounds, Retry-After in seconds and as a date, and the decision per status and attempt.
import { expect } from 'chai';
import { backoff, resolveRetry, retryAfter } from '../../dist/pool/retry.js';
import { InvalidArgumentError } from '../../dist/index.js';

describe('retry policy', () => {
  it('resolves the option: a number, an object, false/0 off, undefined keeps the fallback', () => {
    const p = resolveRetry('retry', 2, null)!;
    expect([p.limit, [...p.statuses], [...p.methods], p.minDelay, p.maxDelay, p.maxRetryAfter]).to.deep.equal([
      2,
      [429, 502, 503, 504],
      ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'],
      100,
      10_000,
      30_000,
    ]);
    expect(resolveRetry('retry', false, p)).to.equal(null);
    expect(resolveRetry('retry', 0, p)).to.equal(null);
    expect(resolveRetry('retry', undefined, p)).to.equal(p);
    expect(resolveRetry('retry', { limit: 1, statuses: [500], methods: ['POST'], minDelay: 5, maxDelay: 5, maxRetryAfter: 0 }, null)!.statuses.has(500)).to.equal(true);
    for (const bad of [-1, 1.5, 101, 'x', true, null, {}, { limit: 1, statuses: ['503'] }, { limit: 1, methods: ['BAD METHOD'] }, { limit: 1, minDelay: -1 }, { limit: 1, minDelay: 10, maxDelay: 5 }]) {
      expect(() => resolveRetry('retry', bad, null), JSON.stringify(bad)).to.throw(InvalidArgumentError);
    }
  });

  it('covers the safe methods; POST and PATCH only when called idempotent; idempotent: false covers nothing', () => {
    const p = resolveRetry('retry', { limit: 1, methods: ['GET', 'POST'] }, null)!;
    expect(['GET', 'POST', 'PATCH', 'PUT'].map((m) => p.covers(m, undefined))).to.deep.equal([true, false, false, false]);
    expect(p.covers('PATCH', true)).to.equal(true);
    expect(p.covers('GET', false)).to.equal(false);
  });

  it('backoff: full jitter between minDelay and the exponential cap, at most maxDelay', () => {
    const table: [number, number, number, number, number][] = [
      // attempt, min, max, r, want
      [1, 100, 10_000, 0, 100],
      [1, 100, 10_000, 1, 100],
      [2, 100, 10_000, 1, 200],
      [3, 100, 10_000, 0.5, 250],
      [10, 100, 10_000, 1, 10_000],
      [10, 100, 10_000, 0, 100],
      [4, 0, 10, 1, 0],
    ];
    for (const [attempt, min, max, r, want] of table) expect(backoff(attempt, min, max, r), `${attempt} ${r}`).to.equal(want);
  });

  it('Retry-After: delay-seconds, an HTTP date from now (past: 0), anything else ignored', () => {
    const now = Date.parse('Mon, 07 Dec 2026 12:00:00 GMT');
    const table: [string[], number][] = [
      [['Retry-After', '3'], 3000],
      [['retry-after', ' 0 '], 0],
      [['RETRY-AFTER', 'Mon, 07 Dec 2026 12:00:10 GMT'], 10_000],
      [['Retry-After', 'Mon, 07 Dec 2026 11:00:00 GMT'], 0],
      [['Retry-After', '-1'], -1],
      [['Retry-After', '1.5'], -1],
      [['Retry-After', 'soon'], -1],
      [['Retry-After', '2026-12-07'], -1],
      [['x-retry-after', '3'], -1],
      [[], -1],
    ];
    for (const [raw, want] of table) expect(retryAfter(raw, now), raw.join(': ')).to.equal(want);
  });

  it('decides per status and attempt; a Retry-After beyond maxRetryAfter is not waited for', () => {
    const p = resolveRetry('retry', { limit: 2, minDelay: 10, maxDelay: 10, maxRetryAfter: 5000 }, null)!;
    const now = Date.now();
    expect(p.delay(1, 503, [], now, () => 0)).to.equal(10);
    expect(p.delay(2, 503, [], now, () => 0)).to.equal(10);
    expect(p.delay(3, 503, [], now, () => 0)).to.equal(-1);
    expect(p.delay(1, 500, [], now, () => 0)).to.equal(-1);
    expect(p.delay(1, 429, ['retry-after', '5'], now)).to.equal(5000);
    expect(p.delay(1, 429, ['retry-after', '6'], now)).to.equal(-1);
  });
});
