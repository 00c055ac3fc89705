/**
 * The host's frames ({@linkcode FrameTable}): what each frame holds, which are free (taken lowest
 * first), when each was loaded, and the checks a policy's answer naming frames must pass.
 *
 * @module
 */

import type { BatchWriter, ReplyReader } from "../protocol/batch.ts";
import { MEMORY_OP } from "../protocol/ops.ts";
import { invalidDecision as invalid } from "../protocol/runtime.ts";
import type { MemoryVm } from "./page_table.ts";

/** Log kinds of memory decisions. */
export const MEMORY_LOG = { LOAD: 2, EVICT: 3, TARGET: 4, REMOVE: 5 } as const;

/** The page-table bit (and the frame map's copy of it) for a page written since it was loaded. */
export const DIRTY = 1;

/** The host's frames. */
export class FrameTable {
  /** How many frames. */
  readonly count: number;
  /**
   * What each frame holds, two int32 side by side: `map[2f]` is -1 for a free frame, else twice
   * the index of the VM holding it plus its page's dirty bit (a copy of the page table's);
   * `map[2f + 1]` is the page. Evicting a victim thus reads one cache line of this table and
   * only writes the victim's page-table entry, so the fault does not wait for that entry to load.
   */
  readonly map: Int32Array;
  /**
   * When each frame was loaded, as a sequence number (with the reference order in the page
   * tables, replay hands a new policy the frames in these orders).
   */
  readonly loadSeq: Float64Array;
  /** How many frames are free. */
  freeCount: number;
  /** Frames given back, the last on top; taken before the frames never used. */
  #free: Int32Array;
  #released = 0;
  /** The lowest frame never used: those from it up are free too. */
  #fresh = 0;

  /** @param frames How many frames the host has. */
  constructor(frames: number) {
    this.count = frames;
    this.map = new Int32Array(2 * frames);
    for (let i = 0; i < frames; i++) this.map[2 * i] = -1;
    this.loadSeq = new Float64Array(frames);
    // Written only as frames are given back: a stack of every frame, filled when the table is
    // made, cost a page fault per 4 KiB of it (a million frames: 4 MiB) for frames taken in order.
    this.#free = new Int32Array(frames);
    this.freeCount = frames;
  }

  /**
   * Takes a free frame (the caller checks there is one): the last one given back, else the
   * lowest never used (the order a stack of all frames, lowest on top, would give).
   */
  take(): number {
    this.freeCount--;
    return this.#released > 0 ? this.#free[--this.#released]! : this.#fresh++;
  }

  /**
   * Gives a frame back to the free ones (the caller has unmapped its page).
   *
   * @param frame The frame.
   */
  release(frame: number): void {
    this.#free[this.#released++] = frame;
    this.freeCount++;
  }

  /**
   * The index of the VM holding `frame`, or -1.
   *
   * @param frame The frame.
   */
  owner(frame: number): number {
    return this.map[2 * frame]! >> 1;
  }

  /**
   * Whether the page in `frame` (in use) was written since it was loaded.
   *
   * @param frame The frame.
   */
  dirty(frame: number): boolean {
    return (this.map[2 * frame]! & DIRTY) !== 0;
  }

  /**
   * The sequence number of the last reference to the page in `frame` (in use), or its load.
   *
   * @param frame The frame.
   * @param vms The domain's VMs, by index.
   */
  lastRef(frame: number, vms: readonly (MemoryVm | undefined)[]): number {
    const vm = vms[this.owner(frame)]!, entry = 4 * this.map[2 * frame + 1]!;
    return vm.pte[entry + 3]! * 0x1_0000_0000 + (vm.pte[entry + 2]! >>> 0);
  }

  /** The frames in use, in order of their loads. */
  usedByLoad(): number[] {
    const used: number[] = [];
    for (let frame = 0; frame < this.count; frame++) if (this.owner(frame) >= 0) used.push(frame);
    return used.sort((a, b) => this.loadSeq[a]! - this.loadSeq[b]!);
  }

  /**
   * Tells a policy that takes over which frames hold what: `LOADED` for each frame in use, in
   * order of their loads, then (when it wants them) one `TOUCHED` of them all in order of their
   * last reference.
   *
   * @param writer The policy's batch.
   * @param now The time.
   * @param vms The domain's VMs, by index.
   * @param touched Whether the policy takes `touched`.
   */
  replay(
    writer: BatchWriter,
    now: number,
    vms: readonly (MemoryVm | undefined)[],
    touched: boolean,
  ): void {
    const used = this.usedByLoad();
    for (const frame of used) {
      const vm = this.owner(frame), page = this.map[2 * frame + 1]!;
      writer.call4(MEMORY_OP.LOADED, now, frame, vm, page, this.dirty(frame) ? 1 : 0);
    }
    if (touched && used.length > 0) {
      used.sort((a, b) => this.lastRef(a, vms) - this.lastRef(b, vms));
      const refs = used.map((frame) => this.dirty(frame) ? -1 - frame : frame);
      writer.callN(MEMORY_OP.TOUCHED, now, refs);
    }
  }

  /**
   * Whether `frame` exists, is in use, and is in `scope` (-1: any VM).
   *
   * @param frame A frame a policy named.
   * @param scope The VM it must belong to, or -1.
   */
  mayTake(frame: number, scope: number): boolean {
    if (!(Number.isInteger(frame) && frame >= 0 && frame < this.count)) return false;
    const owner = this.owner(frame);
    return owner >= 0 && (scope < 0 || owner === scope);
  }

  /**
   * Checks a frame a policy named for `what`.
   *
   * @param frame The frame.
   * @param scope The VM it must belong to, or -1.
   * @param what The decision, for the message (`reclaim from VM a`).
   * @param vms The domain's VMs, by index.
   * @throws {PolicyFailure} `invalid`: the frame does not exist, is free, or is another VM's.
   */
  check(
    frame: number,
    scope: number,
    what: string,
    vms: readonly (MemoryVm | undefined)[],
  ): void {
    if (!(Number.isInteger(frame) && frame >= 0 && frame < this.count)) {
      throw invalid("unknown-frame", `${what} named frame ${frame}, which does not exist`);
    }
    const owner = this.owner(frame);
    if (owner < 0) throw invalid("frame-free", `${what} named frame ${frame}, which is free`);
    if (scope >= 0 && owner !== scope) {
      throw invalid(
        "frame-out-of-scope",
        `${what} named frame ${frame} of VM ${vms[owner]!.id}; expected a frame of VM ${
          vms[scope]!.id
        }`,
      );
    }
  }

  /**
   * Reads what evicting the next `n` frames of the answer will read, first: the frames' entries,
   * then their pages' entries. A batch of independent reads lets their cache misses overlap;
   * evicted one by one, each frame would wait for its two in turn. Only the cache is warmed.
   *
   * @param reader The answer, before its frames are read.
   * @param n How many frames it names.
   * @param vms The domain's VMs, by index.
   * @returns A sum of what was read (to be kept, so that the reads are not dropped).
   */
  warm(reader: ReplyReader, n: number, vms: readonly (MemoryVm | undefined)[]): number {
    const map = this.map, limit = this.count;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const frame = reader.peek(i);
      if (frame >= 0 && frame < limit) sum += map[2 * frame]!;
    }
    for (let i = 0; i < n; i++) {
      const frame = reader.peek(i);
      if (!(frame >= 0 && frame < limit)) continue;
      const word = map[2 * frame]!;
      if (word >= 0) sum += vms[word >> 1]!.pte[4 * map[2 * frame + 1]!]!;
    }
    return sum;
  }
}
