/**
 * What a memory policy learns of hits: the frames referenced since the last `TOUCHED`
 * notification, each once, in order of last reference (enough for exact LRU and CLOCK). The step
 * writes each hit into a buffer (with its page-table entry numbered in one sequence shared with
 * loads); a flush, before any other call to the policy, keeps each frame's last touch and writes
 * them into the batch, so hits cost no message of their own.
 *
 * @module
 */

import type { BatchWriter } from "../protocol/batch.ts";
import { MEMORY_OP } from "../protocol/ops.ts";
import type { MemoryVm } from "./page_table.ts";

/** Touches gathered before they are flushed into the batch. */
export const TOUCH_BUFFER = 1 << 15;

/**
 * Stores sequence number `seq` in the two last words of a page-table entry (low, high).
 *
 * @param pte The page table.
 * @param entry The entry's first word (4 × page).
 * @param seq The sequence number.
 */
export function setSeq(pte: Int32Array, entry: number, seq: number): void {
  pte[entry + 2] = seq | 0;
  pte[entry + 3] = (seq / 0x1_0000_0000) | 0;
}

/** The touches gathered and the sequence that orders loads and touches. */
export class Touches {
  /** The frames touched, `-1 - frame` when the page is dirty. */
  readonly frames: Int32Array = new Int32Array(TOUCH_BUFFER);
  /** The VM of each touch. */
  readonly vm: Int32Array = new Int32Array(TOUCH_BUFFER);
  /** The page-table entry of each touch. */
  readonly entry: Int32Array = new Int32Array(TOUCH_BUFFER);
  /** How many touches are gathered. */
  count = 0;
  /** When the last one was (the flush's time). */
  at = 0;
  /**
   * The last sequence number given: loads and flushed touches share one sequence. A load takes
   * `seq + 1`, before the touches still in the buffer (numbered from `seq + 2`, flushed right
   * after it).
   */
  seq = 0;
  #out = new Float64Array(TOUCH_BUFFER);

  /**
   * Writes the touches gathered so far into the batch: each frame once, by last reference.
   *
   * @param writer The memory policy's batch.
   * @param vms The domain's VMs, by index.
   */
  flush(writer: BatchWriter, vms: readonly (MemoryVm | undefined)[]): void {
    const count = this.count;
    if (count === 0) return;
    this.count = 0;
    const touches = this.frames, touchVm = this.vm, touchEntry = this.entry, out = this.#out;
    const firstSeq = this.seq + 2;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const ref = touches[i]!;
      // Its last touch in the buffer is the one whose number its page table holds (the low 32
      // bits are enough: the numbers of one buffer differ in them).
      if (vms[touchVm[i]!]!.pte[touchEntry[i]! + 2] === ((firstSeq + i) | 0)) out[n++] = ref;
    }
    this.seq = firstSeq + count - 1;
    writer.callN(MEMORY_OP.TOUCHED, this.at, out, n);
  }

  /** Folds the touches gathered so far into the frames' reference order, sending nothing. */
  absorb(): void {
    // Their numbers are in place already; the sequence moves past them.
    if (this.count > 0) this.seq += this.count + 1;
    this.count = 0;
  }
}
