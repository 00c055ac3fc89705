/**
 * A log-linear histogram of non-negative integers (latencies in ns), in the spirit of HDR
 * histograms: values below 256 are exact, larger ones are kept within 1/128 (0.8 %) of their
 * value. Recording allocates nothing; quantiles cost one pass over the buckets.
 *
 * @module
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
// Values up to 2^46 ns (about 19.5 hours) get their own buckets; larger ones share the last.
const BUCKETS = (46 - SUB_BITS + 1) * SUB;

/**
 * Latency distribution with count, sum, min, max and quantiles.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram();
 * for (let v = 1; v <= 100; v++) h.record(v);
 * console.assert(h.quantile(0.5) === 50 && h.max === 100);
 * ```
 */
export class Histogram {
  #counts: Uint32Array | undefined;
  /** How many values were recorded. */
  count = 0;
  /** Their sum. */
  sum = 0;
  /** The smallest value recorded (Infinity when empty). */
  min = Infinity;
  /** The largest value recorded (0 when empty). */
  max = 0;

  /** Records one value (rounded to an integer, clamped at 0). */
  record(value: number): void {
    const v = value > 0 ? Math.round(value) : 0;
    (this.#counts ??= new Uint32Array(BUCKETS))[Math.min(bucketOf(v), BUCKETS - 1)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The mean, or 0 when empty. */
  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /**
   * The value at quantile `q` in [0, 1] (nearest rank), within the histogram's precision; 0 when
   * empty. The result never exceeds `max`.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank >= this.count) return this.max;
    const counts = this.#counts!;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(Math.max(lowerBound(i), this.min), this.max);
    }
    return this.max;
  }

  /** How many recorded values are at most `bound` (within the histogram's precision). */
  countAtMost(bound: number): number {
    if (bound < 0 || this.#counts === undefined) return 0;
    const last = Math.min(bucketOf(Math.floor(bound)), BUCKETS - 1);
    let seen = 0;
    for (let i = 0; i <= last; i++) seen += this.#counts[i]!;
    return seen;
  }

  /** Adds every value of `other` into this histogram. */
  merge(other: Histogram): void {
    if (other.#counts !== undefined) {
      const counts = this.#counts ??= new Uint32Array(BUCKETS);
      for (let i = 0; i < BUCKETS; i++) counts[i]! += other.#counts[i]!;
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

function bucketOf(v: number): number {
  if (v < 2 * SUB) return v;
  const exponent = v < 0x1_0000_0000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  const shifted = Math.floor(v / 2 ** (exponent - SUB_BITS));
  return (exponent - SUB_BITS + 1) * SUB + (shifted - SUB);
}

function lowerBound(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const exponent = Math.floor(bucket / SUB) + SUB_BITS - 1;
  return (SUB + (bucket % SUB)) * 2 ** (exponent - SUB_BITS);
}
