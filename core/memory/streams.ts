/**
 * What VMs reference in memory: explicit reference strings and seeded generators (uniform, zipf,
 * sequential scan, loop, phase-changing working sets). A stream belongs to a VM and yields its
 * references in order, in batches; the stream depends only on the seed and on how many references
 * were drawn before, so every policy faces the same references (common random numbers).
 *
 * A reference is encoded as a number: the page for a read, `-1 - page` for a write.
 *
 * @module
 */

import type { Rng } from "../engine/rng.ts";
import type { MemoryWorkload } from "../workload/types.ts";

/** Stream kinds. */
const EXPLICIT = 0, UNIFORM = 1, ZIPF = 2, SCAN = 3, LOOP = 4, PHASES = 5;

const KINDS: Record<NonNullable<MemoryWorkload["pattern"]>, number> = {
  uniform: UNIFORM,
  zipf: ZIPF,
  scan: SCAN,
  loop: LOOP,
  phases: PHASES,
};

/**
 * An alias table (Walker/Vose) for O(1) sampling of a discrete distribution: column `i` keeps
 * outcome `i` when a uniform 32-bit number is below `table[2i]`, and gives `table[2i + 1]`
 * otherwise. Both words sit side by side, so a draw costs one cache line.
 */
type AliasTable = Uint32Array;

/**
 * Builds the alias table of the distribution proportional to `weights`, in place: the weights'
 * array is the table's buffer (8 bytes a column), which holds each column's threshold as a
 * float64 while the columns are paired, then the table's two words. Every page the build writes
 * costs a page fault, dear on some virtual machines (about 12 µs each where this was measured),
 * so the build touches 4 MiB for a million columns where separate arrays touched 9 (a tenth of
 * the memory bench's build). The arithmetic and the pairing order are those of the plain Vose
 * algorithm, so the table is the same bit for bit.
 */
function aliasTable(weights: Float64Array): AliasTable {
  const n = weights.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  const keep = weights;
  // The aliases and the two stacks of columns left to pair share one buffer: the columns below
  // 1 stack up from the start of `work`, those at 1 or more down from its end; a column is in at
  // most one of them, so they never meet.
  const scratch = new Int32Array(2 * n), alias = scratch.subarray(0, n), work = scratch.subarray(n);
  let smalls = 0, larges = 0;
  for (let i = 0; i < n; i++) {
    keep[i] = keep[i]! * n / sum;
    if (keep[i]! < 1) work[smalls++] = i;
    else work[n - 1 - larges++] = i;
  }
  while (smalls > 0 && larges > 0) {
    const less = work[--smalls]!, more = work[n - 1 - --larges]!;
    alias[less] = more;
    keep[more] = keep[more]! + keep[less]! - 1;
    if (keep[more]! < 1) work[smalls++] = more;
    else work[n - 1 - larges++] = more;
  }
  while (larges > 0) keep[work[n - 1 - --larges]!] = 1;
  while (smalls > 0) keep[work[--smalls]!] = 1;
  // Column i's two words overwrite its threshold, read just before.
  const table = new Uint32Array(keep.buffer, keep.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    // A column kept for sure points to itself, whatever the threshold.
    const threshold = keep[i]!, sure = threshold >= 1;
    table[2 * i] = sure ? 0 : Math.floor(threshold * 0x1_0000_0000);
    table[2 * i + 1] = sure ? i : alias[i]!;
  }
  return table;
}

const zipfTables = new Map<string, AliasTable>();

/** The alias table of a zipf distribution over `n` ranks with exponent `skew` (cached). */
function zipfTable(n: number, skew: number): AliasTable {
  const key = `${n}:${skew}`;
  let table = zipfTables.get(key);
  if (table === undefined) {
    const weights = new Float64Array(n);
    for (let i = 0; i < n; i++) weights[i] = 1 / Math.pow(i + 1, skew);
    zipfTables.set(key, table = aliasTable(weights));
  }
  return table;
}

/** A VM's reference stream. */
export class RefStream {
  /** How many references the stream yields in all (Infinity for endless generators). */
  readonly limit: number;
  /** The size of the address space in pages. */
  readonly pages: number;
  /** What the stream is, for messages. */
  readonly label: string;
  /** The explicit reference string (encoded), when there is one. */
  readonly refs: Int32Array | null;
  #kind: number;
  #rng: Rng;
  /** References drawn so far. */
  #issued = 0;
  #writes: number;
  #alias: AliasTable | null = null;
  #span: number;
  #phaseRefs: number;
  #offset = 0;
  #scratch = new Uint32Array(0);

  /**
   * Builds the stream of a VM's memory spec.
   *
   * @param memory The validated spec.
   * @param intervalNs Run time between two references (converts `phase` into references).
   * @param rng The VM's own random stream.
   */
  constructor(memory: MemoryWorkload, intervalNs: number, rng: Rng) {
    this.#rng = rng;
    this.#writes = memory.writes;
    if (memory.refs !== undefined) {
      this.#kind = EXPLICIT;
      const refs = new Int32Array(memory.refs.length);
      let highest = -1;
      memory.refs.forEach((ref, i) => {
        const page = typeof ref === "number" ? ref : ref.page;
        const write = typeof ref === "number" ? false : ref.write;
        refs[i] = write ? -1 - page : page;
        if (page > highest) highest = page;
      });
      this.refs = refs;
      this.pages = memory.pages ?? highest + 1;
      this.limit = refs.length;
      this.label = "refs";
      this.#span = this.pages;
      this.#phaseRefs = 0;
      return;
    }
    const pattern = memory.pattern ?? "uniform";
    this.#kind = KINDS[pattern];
    this.refs = null;
    this.pages = memory.pages ?? 1;
    this.limit = memory.count ?? Infinity;
    this.label = `pattern ${pattern}`;
    this.#span = pattern === "loop"
      ? Math.min(this.pages, memory.loop ?? this.pages)
      : pattern === "phases"
      ? Math.min(this.pages, memory.workingSet ?? Math.max(1, Math.floor(this.pages / 8)))
      : this.pages;
    this.#phaseRefs = Math.max(1, Math.round(memory.phase / intervalNs));
    if (this.#kind === ZIPF) this.#alias = zipfTable(this.pages, memory.skew);
  }

  /** The future page references, when the stream is an explicit string; null otherwise. */
  future(): number[] | null {
    if (this.refs === null) return null;
    return Array.from(this.refs, (ref) => ref < 0 ? -1 - ref : ref);
  }

  /**
   * Draws the next references into `out` (encoded: the page, or `-1 - page` for a write): as many
   * as it holds, fewer when an explicit string ends. Returns how many.
   *
   * The draws are the same, in the same order, however they are batched (the stream's generator
   * is its own), but a batch of independent table lookups lets the processor overlap their cache
   * misses: the zipf alias table is too large to stay cached.
   */
  draw(out: Int32Array): number {
    const rng = this.#rng, pages = this.pages, writes = this.#writes;
    const issued = this.#issued;
    if (this.#kind === ZIPF && writes === 0) {
      // The common case gets a loop of its own, in two passes: the random numbers first (a chain
      // of cheap arithmetic), then the table lookups, which are independent of each other and so
      // can all be waiting for memory at once. The draws are the same as one by one.
      const count = out.length, raw = this.#raw(2 * count), table = this.#alias!;
      rng.fill(raw, 2 * count);
      for (let i = 0; i < count; i++) {
        const column = 2 * ((raw[2 * i]! * pages / 0x1_0000_0000) | 0);
        out[i] = raw[2 * i + 1]! < table[column]! ? column >>> 1 : table[column + 1]!;
      }
      this.#issued = issued + count;
      return count;
    }
    const count = this.#kind === EXPLICIT
      ? Math.max(0, Math.min(out.length, this.limit - issued))
      : out.length;
    for (let i = 0; i < count; i++) {
      let page: number;
      switch (this.#kind) {
        case EXPLICIT:
          out[i] = this.refs![issued + i]!;
          continue;
        case UNIFORM:
          page = (rng.next() * pages / 0x1_0000_0000) | 0;
          break;
        case ZIPF: {
          const table = this.#alias!;
          const column = 2 * ((rng.next() * pages / 0x1_0000_0000) | 0);
          page = rng.next() < table[column]! ? column >>> 1 : table[column + 1]!;
          break;
        }
        case SCAN:
        case LOOP:
          page = (issued + i) % this.#span;
          break;
        default: {
          // Phases: every `phaseRefs` references the working set moves to a random place.
          if ((issued + i) % this.#phaseRefs === 0) this.#offset = rng.int(pages);
          page = (this.#offset + rng.int(this.#span)) % pages;
        }
      }
      out[i] = writes > 0 && rng.float() < writes ? -1 - page : page;
    }
    this.#issued = issued + count;
    return count;
  }

  /** A scratch array of at least `length` random numbers, kept between draws. */
  #raw(length: number): Uint32Array {
    if (this.#scratch.length < length) this.#scratch = new Uint32Array(length);
    return this.#scratch;
  }
}
