// Latency histogram in fixed memory, whatever the run length: log-linear buckets
// (values below 128 us exact, above that 64 buckets per power of two, so any
// reported value is within 1.6% of the true one). 1,792 counters, 7 KiB.

const SUB = 64; // buckets per power of two
const LINEAR = 2 * SUB; // values below this have a bucket each
const MAX_EXP = 26; // 128 us << 26 ≈ 2.4 h: anything longer is clamped
const BUCKETS = LINEAR + MAX_EXP * SUB;
const MAX_VALUE = 2 ** 32 - 1;

export class Histogram {
  count = 0;
  min = Infinity;
  max = 0;
  private sum = 0;
  private readonly counts = new Uint32Array(BUCKETS);

  /** Records a value in microseconds (fractions are dropped). */
  record(us: number): void {
    const v = us >= MAX_VALUE ? MAX_VALUE : us > 0 ? Math.floor(us) : 0;
    this.counts[index(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at quantile q (0..1): the upper bound of the bucket holding it, capped at max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upper(i), this.max);
    }
    return this.max;
  }
}

function index(v: number): number {
  if (v < LINEAR) return v;
  const shift = 31 - Math.clz32(v) - 6; // v >> shift is in [64, 127]
  return Math.min(LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB), BUCKETS - 1);
}

function upper(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  const mantissa = ((i - LINEAR) % SUB) + SUB;
  return (mantissa + 1) * 2 ** shift - 1;
}
