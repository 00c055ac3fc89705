/**
 * A VM's memory as the memory domain keeps it ({@linkcode MemoryVm}): its page table, four int32
 * per page side by side so that a reference touches one cache line, its reference stream drawn
 * ahead of use, and its books.
 *
 * @module
 */

import type { MemoryWorkload } from "../workload/types.ts";
import type { RefStream } from "./streams.ts";

/** No reference is held back. */
export const NONE = 2 ** 40;
/** Page tables up to this size are written (and so mapped by the OS) when a VM is created. */
const PREFAULT_BYTES = 64 << 20;
/** References a VM draws ahead of use. */
const AHEAD = 64;

/** A VM's memory as the kernel keeps it: its page table, its reference stream, its books. */
export class MemoryVm {
  /** The VM's index (as in the CPU domain). */
  readonly index: number;
  /** Its name. */
  readonly id: string;
  /** The ids of its vCPUs (the CPU domain's). */
  readonly vcpus: readonly number[];
  /** What it references. */
  readonly stream: RefStream;
  /** The size of its address space, in pages. */
  readonly pages: number;
  /** How many references it issues in all (Infinity for endless generators). */
  readonly limit: number;
  /** Run time between two references, in ns. */
  readonly intervalNs: number;
  /**
   * The page table: four int32 per page, side by side so that a reference touches one cache line.
   * `pte[4p]` is one more than the frame holding page `p`, 0 when it has none (so that a fresh
   * table needs no writing, and the parts of a large address space that are never referenced
   * cost no memory). `pte[4p + 1]` is its dirty bit (1) plus twice
   * the scan epoch of its last reference: the accessed bit is set when that epoch is the current
   * one, so advancing the epoch clears every accessed bit at once. `pte[4p + 2]` and `pte[4p + 3]`
   * are the low and high 32 bits of the sequence number of the page's last reference or load
   * (the domain's `#seq`): kept by page rather than by frame, because popular pages are usually
   * near each other in an address space while their frames are anywhere among the host's.
   */
  readonly pte: Int32Array;
  /** Memory weight (shares). */
  weight: number;
  /** Balloon target in frames; Infinity when it has none. */
  target: number = Infinity;
  /** Whether it has arrived. */
  arrived: boolean = false;
  /** Whether it was removed. */
  removed: boolean = false;
  /** Whether it has issued all its references. */
  exhausted: boolean = false;
  /** A reference drawn but not issued yet (a miss due at a later instant), or `NONE`. */
  held: number = NONE;
  /** References issued. */
  issued: number = 0;
  /** Faults, counting first loads. */
  faults: number = 0;
  /** Its pages evicted. */
  evictions: number = 0;
  /** Its dirty pages written back when evicted. */
  writebacks: number = 0;
  /** Frames held now. */
  resident: number = 0;
  /** The most frames held at once. */
  residentPeak: number = 0;
  /** Simulated time its vCPUs spent stalled on faults. */
  stallNs: number = 0;
  /** Distinct pages referenced since the last balancing scan. */
  accessed: number = 0;
  /** `faults` and `issued` at the last balancing scan. */
  faultsAtScan: number = 0;
  /** `issued` at the last balancing scan. */
  issuedAtScan: number = 0;
  /** `issued` as last told to a future-aware policy. */
  issuedSent: number = -1;
  /** A RECLAIM query for this VM is out. */
  reclaimAsked: boolean = false;
  /** Its reference string was sent to the future-aware policy in charge. */
  futureSent: boolean = false;
  /** References drawn ahead of use (see `nextRef`), and where the next one is. */
  readonly #ahead: Int32Array = new Int32Array(AHEAD);
  #aheadAt = 0;
  #aheadEnd = 0;
  /** What reading the page-table entries ahead added up to (kept so the reads are not dropped). */
  #warmed = 0;

  /**
   * Creates a VM's memory.
   *
   * @param index The VM's index.
   * @param id The VM's name.
   * @param vcpus The ids of its vCPUs.
   * @param memory Its validated memory spec.
   * @param stream Its reference stream.
   * @param intervalNs Run time between two references.
   * @param weight Its memory weight.
   */
  constructor(
    index: number,
    id: string,
    vcpus: readonly number[],
    memory: MemoryWorkload,
    stream: RefStream,
    intervalNs: number,
    weight: number,
  ) {
    this.index = index;
    this.id = id;
    this.vcpus = vcpus;
    this.stream = stream;
    this.pages = stream.pages;
    this.limit = stream.limit;
    this.intervalNs = intervalNs;
    this.weight = weight;
    if (memory.target !== undefined) this.target = memory.target;
    this.pte = new Int32Array(4 * this.pages);
    // A table of moderate size is written once now, so that the run does not take the operating
    // system's page faults as it first touches each part; a huge one is left to fill on demand.
    if (this.pte.byteLength <= PREFAULT_BYTES) this.pte.fill(0);
  }

  /** The next reference of its stream (the page, or `-1 - page` for a write). */
  nextRef(): number {
    if (this.#aheadAt === this.#aheadEnd) this.#drawAhead();
    return this.#ahead[this.#aheadAt++]!;
  }

  /**
   * Draws the next references in a batch and reads their page-table entries at once. The page
   * table is large and a reference lands anywhere in it; issued one by one, each reference would
   * wait for its entry in turn, while a batch of independent reads has their cache misses overlap
   * (JavaScript has no prefetch instruction: a read whose value is kept is the next best thing).
   * The entries may change before the references are issued; only the cache is warmed.
   */
  #drawAhead(): void {
    const ahead = this.#ahead, pte = this.pte, count = this.stream.draw(ahead);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const ref = ahead[i]!;
      sum += pte[4 * (ref < 0 ? -1 - ref : ref)]!;
    }
    this.#warmed = sum;
    this.#aheadAt = 0;
    this.#aheadEnd = count;
  }
}
