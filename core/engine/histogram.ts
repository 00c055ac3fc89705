/**
 * A log-linear histogram of non-negative integers (latencies in ns), in the spirit of HDR
 * histograms: values below 256 are exact, larger ones are kept within 1/128 (0.8 %) of their
 * value. Only the span of buckets values fell in is stored, in whole rows of 128 buckets (one row
 * per power of two), widened when a value falls outside it: latencies cluster in a few powers of
 * two, so a histogram (there is one per VM) stays small and warm in cache, and recording is one
 * increment in one typed array. Recording allocates only when the span widens; quantiles cost one
 * pass over the span.
 *
 * @module
 */

import { DOUBLE } from "./double_fields.ts";

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
  /** Counts of buckets `#first` to `#first + #counts.length - 1`; buckets outside hold none. */
  #counts: Uint32Array | undefined;
  /** The first bucket of `#counts` (a multiple of the row length). */
  #first = 0;
  /** How many values were recorded. */
  count = 0;
  /** Their sum. */
  sum = DOUBLE;
  /** The smallest value recorded (Infinity when empty). */
  min = Infinity;
  /** The largest value recorded (0 when empty). */
  max = 0;

  /** An empty histogram. */
  constructor() {
    this.sum = 0; // a double from the start (`double_fields.ts`)
  }

  /** Records one value (rounded to an integer, clamped at 0). */
  record(value: number): void {
    const v = value > 0 ? Math.round(value) : 0;
    const bucket = Math.min(bucketOf(v), BUCKETS - 1);
    let counts = this.#counts, at = bucket - this.#first;
    if (counts === undefined || at < 0 || at >= counts.length) {
      counts = this.#cover(bucket, bucket);
      at = bucket - this.#first;
    }
    counts[at]!++;
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
    // No bucket below the minimum's holds a count (the span is wider: room to grow).
    for (let i = Math.max(0, bucketOf(this.min) - this.#first); i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(Math.max(lowerBound(this.#first + i), this.min), this.max);
    }
    return this.max;
  }

  /** How many recorded values are at most `bound` (within the histogram's precision). */
  countAtMost(bound: number): number {
    if (bound < 0 || this.#counts === undefined) return 0;
    const last = Math.min(bucketOf(Math.floor(bound)), BUCKETS - 1) - this.#first;
    let seen = 0;
    for (let i = 0; i <= last && i < this.#counts.length; i++) seen += this.#counts[i]!;
    return seen;
  }

  /** Adds every value of `other` into this histogram. */
  merge(other: Histogram): void {
    const theirs = other.#counts;
    if (theirs !== undefined && other.count > 0) {
      // Only the buckets from the minimum's to the maximum's hold counts: the rest of a span is
      // room it kept to grow, often most of it (a domain's latencies merge thousands of VMs').
      const from = Math.max(other.#first, bucketOf(other.min));
      const to = Math.min(other.#first + theirs.length - 1, bucketOf(other.max));
      const counts = this.#cover(from, to);
      const offset = other.#first - this.#first;
      for (let i = from - other.#first; i <= to - other.#first; i++) {
        counts[offset + i]! += theirs[i]!;
      }
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * Widens the span, in whole rows, to take buckets `from` to `to`; returns the counts. A span
   * that must widen at least doubles (on the side it widens to): a VM's latencies reach new powers
   * of two one after another as a run warms up, and a new array at each (with its copy) cost a run
   * of thousands of VMs more than recording did.
   */
  #cover(from: number, to: number): Uint32Array {
    const old = this.#counts;
    let first = from - (from % SUB), end = to - (to % SUB) + SUB;
    if (old !== undefined) {
      if (from >= this.#first && to < this.#first + old.length) return old;
      const oldEnd = this.#first + old.length;
      if (first < this.#first) first = Math.max(0, Math.min(first, this.#first - old.length));
      else first = this.#first;
      if (end > oldEnd) end = Math.min(BUCKETS, Math.max(end, oldEnd + old.length));
      else end = oldEnd;
    }
    const counts = new Uint32Array(end - first);
    if (old !== undefined) counts.set(old, this.#first - first);
    this.#counts = counts;
    this.#first = first;
    return counts;
  }
}

/** A histogram's summary: latency percentiles in ns. */
export interface Latency {
  /** Mean. */
  mean: number;
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Maximum. */
  max: number;
}

/**
 * Summarises a histogram.
 *
 * @example
 * ```ts
 * import { Histogram, latencyOf } from "./histogram.ts";
 * const h = new Histogram();
 * for (let v = 1; v <= 100; v++) h.record(v);
 * console.assert(latencyOf(h).p50 === 50 && latencyOf(h).mean === 51);
 * ```
 */
export function latencyOf(histogram: Histogram): Latency {
  return {
    mean: Math.round(histogram.mean()),
    p50: histogram.quantile(0.5),
    p99: histogram.quantile(0.99),
    max: histogram.max,
  };
}

/** An empty latency summary. */
export function noLatency(): Latency {
  return { mean: 0, p50: 0, p99: 0, max: 0 };
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
