/**
 * A log-linear histogram of non-negative integers (latencies in ns), in the spirit of HDR
 * histograms: values below 256 are exact, larger ones are kept within 1/128 (0.8 %) of their
 * value. Counts are kept in rows of 128 buckets, one per power of two, allocated the first time a
 * value falls in them: latencies cluster in a few powers of two, so a histogram (there is one per
 * VM) stays a few KiB and warm in cache. Recording allocates nothing once a row exists; quantiles
 * cost one pass over the buckets.
 *
 * @module
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
// Values up to 2^46 ns (about 19.5 hours) get their own buckets; larger ones share the last.
const BUCKETS = (46 - SUB_BITS + 1) * SUB;
/** Buckets are kept in rows of `SUB`, one row per power of two (the first row holds 0 to 127). */
const ROWS = BUCKETS / SUB;

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
  /** Counts by bucket: row `b >> SUB_BITS`, entry `b % SUB`; rows never touched are undefined. */
  #rows: (number[] | undefined)[] | undefined;
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
    const bucket = Math.min(bucketOf(v), BUCKETS - 1);
    const rows = this.#rows ??= new Array<number[] | undefined>(ROWS).fill(undefined);
    (rows[bucket >> SUB_BITS] ??= newRow())[bucket & (SUB - 1)]!++;
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
    const rows = this.#rows!;
    let seen = 0;
    for (let row = 0; row < ROWS; row++) {
      const counts = rows[row];
      if (counts === undefined) continue;
      for (let i = 0; i < SUB; i++) {
        seen += counts[i]!;
        if (seen >= rank) {
          return Math.min(Math.max(lowerBound(row * SUB + i), this.min), this.max);
        }
      }
    }
    return this.max;
  }

  /** How many recorded values are at most `bound` (within the histogram's precision). */
  countAtMost(bound: number): number {
    if (bound < 0 || this.#rows === undefined) return 0;
    const last = Math.min(bucketOf(Math.floor(bound)), BUCKETS - 1);
    let seen = 0;
    for (let i = 0; i <= last; i++) seen += this.#rows[i >> SUB_BITS]?.[i & (SUB - 1)] ?? 0;
    return seen;
  }

  /** Adds every value of `other` into this histogram. */
  merge(other: Histogram): void {
    if (other.#rows !== undefined) {
      const rows = this.#rows ??= new Array<number[] | undefined>(ROWS).fill(undefined);
      for (let row = 0; row < ROWS; row++) {
        const theirs = other.#rows[row];
        if (theirs === undefined) continue;
        const counts = rows[row] ??= newRow();
        for (let i = 0; i < SUB; i++) counts[i]! += theirs[i]!;
      }
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

/**
 * A row of zero counts: a plain array (small integers, kept unboxed), which V8 allocates far more
 * cheaply than a typed array; with one histogram per VM, rows are allocated throughout a run.
 */
function newRow(): number[] {
  return new Array<number>(SUB).fill(0);
}

function bucketOf(v: number): number {
  if (v < 2 * SUB) return v;
  // The highest set bit gives the power of two, the next SUB_BITS bits the bucket within it; below
  // 2^32 that is integer arithmetic (`>>>` takes v as an unsigned 32-bit integer).
  if (v < 0x1_0000_0000) {
    const exponent = 31 - Math.clz32(v);
    return (exponent - SUB_BITS + 1) * SUB + ((v >>> (exponent - SUB_BITS)) - SUB);
  }
  const exponent = Math.floor(Math.log2(v));
  const shifted = Math.floor(v / 2 ** (exponent - SUB_BITS));
  return (exponent - SUB_BITS + 1) * SUB + (shifted - SUB);
}

function lowerBound(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const exponent = Math.floor(bucket / SUB) + SUB_BITS - 1;
  return (SUB + (bucket % SUB)) * 2 ** (exponent - SUB_BITS);
}
