/**
 * The kernel's seeded pseudo-random numbers: xoshiro128** seeded through splitmix32.
 *
 * Every random choice in a run comes from an `Rng` derived from the workload seed, so a run is a
 * pure function of its inputs. Streams are split by label (`rng.fork("vcpu", 7)`), which keeps a
 * VM's generated behaviour identical whichever policy schedules it.
 *
 * @module
 */

/** The step between splitmix32's states. */
const GOLDEN = 0x9e3779b9;

/**
 * splitmix32's output for a state (already advanced by {@linkcode GOLDEN}). A number, not a pair
 * of state and output: a workload of thousands of vCPUs seeds a generator for each before its
 * run, in code not yet optimized, where a returned array and its destructuring cost more than the
 * arithmetic.
 */
function splitmix32(state: number): number {
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashLabel(seed: number, label: string, index: number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ index, 0x01000193);
  return (h ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
}

/**
 * A small, fast, seeded PRNG (xoshiro128**).
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(42), b = new Rng(42);
 * console.assert(a.float() === b.float());
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  /** The seed this generator started from. */
  readonly seed: number;

  /**
   * Creates a generator.
   *
   * @param seed Any safe integer.
   */
  constructor(seed: number) {
    this.seed = seed;
    const state = (seed ^ Math.floor(seed / 0x1_0000_0000)) | 0;
    this.#s0 = splitmix32((state + GOLDEN) | 0);
    this.#s1 = splitmix32((state + 2 * GOLDEN) | 0);
    this.#s2 = splitmix32((state + 3 * GOLDEN) | 0);
    this.#s3 = splitmix32((state + 4 * GOLDEN) | 0) || 1;
  }

  /** A derived, independent generator for a labelled stream. */
  fork(label: string, index = 0): Rng {
    return new Rng(hashLabel(this.seed, label, index));
  }

  /** The generator's four state words, to go on with the same numbers elsewhere. */
  state(): [number, number, number, number] {
    return [this.#s0, this.#s1, this.#s2, this.#s3];
  }

  /**
   * Goes back to state words `state()` gave: a look ahead that must leave the stream as it was
   * (the numbers drawn since are drawn again, the same).
   *
   * @param state Four words from `state()` of this generator.
   */
  restore(state: readonly [number, number, number, number]): void {
    [this.#s0, this.#s1, this.#s2, this.#s3] = state;
  }

  /** The next 32 random bits as an unsigned integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * Writes the next `count` numbers of `next()` into `out`, in order: the same numbers, in a loop
   * that keeps the generator's state in locals.
   */
  fill(out: Uint32Array, count: number = out.length): void {
    let s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, s3 = this.#s3;
    for (let i = 0; i < count; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.#s0 = s0, this.#s1 = s1, this.#s2 = s2, this.#s3 = s3;
  }

  /** A float uniformly in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** An integer uniformly in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An exponentially distributed value with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
