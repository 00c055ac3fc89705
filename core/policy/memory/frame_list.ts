/**
 * An ordered list of host frames, for replacement policies: FIFO keeps frames in load order, LRU
 * in order of last reference. A doubly linked list over one typed array: every operation is O(1)
 * except a search limited to one VM, and nothing is allocated after construction.
 *
 * @module
 */

import type { FrameTable, MemoryVmView } from "./views.ts";

/** `links[2f]` of a frame that is not in the list. */
const OUT = -2;

/**
 * Frames in an order the policy keeps: `push` puts a frame at the back (moving it there if it is
 * already in the list), `first` reads the front.
 *
 * @example Least recently used first
 * ```ts
 * import { FrameList } from "./frame_list.ts";
 * import { FrameTable } from "./views.ts";
 * const frames = new FrameTable(3);
 * const recency = new FrameList(frames);
 * recency.push(0), recency.push(1), recency.push(2);
 * recency.push(0); // frame 0 was referenced again
 * console.assert(recency.first() === 1);
 * ```
 */
export class FrameList {
  #table: FrameTable;
  /** `[next, prev]` of each frame side by side (one cache line per frame); next is -2 when out. */
  #links: Int32Array;
  #head = -1;
  #tail = -1;
  #size = 0;
  /** What `pushAll`'s first pass added up (kept so that its reads are not dropped). */
  #warmed = 0;

  /**
   * Creates an empty list.
   *
   * @param frames The policy's frame table (`setup.frames`): it tells which VM holds a frame.
   */
  constructor(frames: FrameTable) {
    this.#table = frames;
    this.#links = new Int32Array(2 * frames.count).fill(OUT);
  }

  /** How many frames the list holds. */
  get size(): number {
    return this.#size;
  }

  /** Whether `frame` is in the list. */
  has(frame: number): boolean {
    return this.#links[2 * frame] !== OUT;
  }

  /** Puts `frame` at the back of the list, moving it there if it already is in the list. */
  push(frame: number): void {
    const links = this.#links, at = 2 * frame, tail = this.#tail, next = links[at]!;
    if (next === OUT) this.#size++;
    else {
      // Moves it: unlinked here rather than by #unlink, as the list keeps its size.
      if (tail === frame) return;
      const prev = links[at + 1]!;
      if (prev >= 0) links[2 * prev] = next;
      else this.#head = next;
      links[2 * next + 1] = prev; // not the tail, so next >= 0
    }
    links[at] = -1;
    links[at + 1] = tail;
    if (tail >= 0) links[2 * tail] = frame;
    else this.#head = frame;
    this.#tail = frame;
  }

  /**
   * Pushes each of `frames` in order, as `push` one by one would. The frames' links are read in
   * a first pass: reads that do not depend on each other let the processor wait for several
   * cache misses at once, where the moves, one by one, would wait for each in turn.
   */
  pushAll(frames: ArrayLike<number>): void {
    const links = this.#links, count = frames.length;
    let warm = 0;
    for (let i = 0; i < count; i++) warm += links[2 * frames[i]!]!;
    this.#warmed = warm;
    for (let i = 0; i < count; i++) this.push(frames[i]!);
  }

  /** Takes `frame` out of the list (does nothing if it is not in it). */
  remove(frame: number): void {
    if (this.#links[2 * frame] !== OUT) this.#unlink(frame);
  }

  #unlink(frame: number): void {
    const links = this.#links, at = 2 * frame;
    const next = links[at]!, prev = links[at + 1]!;
    if (prev >= 0) links[2 * prev] = next;
    else this.#head = next;
    if (next >= 0) links[2 * next + 1] = prev;
    else this.#tail = prev;
    links[at] = OUT;
    this.#size--;
  }

  /**
   * The frontmost frame, or the frontmost frame held by `vm` when one is given; -1 when there is
   * none.
   */
  first(vm: MemoryVmView | null = null): number {
    let frame = this.#head;
    if (vm === null) return frame;
    const owners = this.#table.vm, links = this.#links;
    while (frame >= 0 && owners[frame] !== vm.index) frame = links[2 * frame]!;
    return frame;
  }

  /** The frame after `frame` in the list, or -1 at the back (or when `frame` is not in it). */
  next(frame: number): number {
    const next = this.#links[2 * frame]!;
    return next === OUT ? -1 : next;
  }
}
