/**
 * The running vCPUs of VMs with memory activity, in the order they reference next (private to
 * this folder): a ring buffer the memory domain's step walks from the head. After a reference
 * the vCPU usually stays first or goes last, so the ring is kept in order by a search from the
 * back; the step itself keeps the head and the size in locals and stores them back.
 *
 * @module
 */

import type { MemoryVm } from "./page_table.ts";

/** A vCPU of a VM with memory activity: when it references next. */
export class MemoryVcpu {
  /** Its VM. */
  readonly vm: MemoryVm;
  /** The vCPU's id (breaks ties in the ring's order). */
  readonly id: number;
  /** When it issues its next reference (while running). */
  next = 0;
  /** Run time left until its next reference (while not running). */
  phase = 0;
  /** Whether it is in the step's ring of running vCPUs. */
  inRing = false;
  /** Whether it is stalled on a fault. */
  stalled = false;
  /** Bumped at every stall, so that a superseded resume event is recognised. */
  stallGen = 0;

  /**
   * @param id The vCPU's id (the CPU domain's).
   * @param vm Its VM.
   */
  constructor(id: number, vm: MemoryVm) {
    this.vm = vm;
    this.id = id;
  }
}

/** Running vCPUs in order of (next reference, vCPU id): a ring buffer of a power-of-two size. */
export class RunRing {
  /** The slots; `ring[(head + i) & mask]` is the i-th vCPU in order. */
  ring: MemoryVcpu[] = [];
  /** Where the first vCPU is. */
  head = 0;
  /** How many vCPUs are in the ring. */
  size = 0;
  /** The ring's length less one. */
  mask = 0;

  /**
   * Makes room for `capacity` vCPUs (a power of two), keeping their order.
   *
   * @param capacity The new length.
   */
  grow(capacity: number): void {
    if (capacity <= this.ring.length) return;
    const ring: MemoryVcpu[] = new Array(capacity);
    for (let i = 0; i < this.size; i++) ring[i] = this.ring[(this.head + i) & this.mask]!;
    this.ring = ring;
    this.head = 0;
    this.mask = capacity - 1;
  }

  /**
   * Inserts a vCPU in order, searching from the back (where a running vCPU usually goes).
   *
   * @param mv The vCPU, not in the ring.
   */
  push(mv: MemoryVcpu): void {
    const ring = this.ring, mask = this.mask, head = this.head;
    let j = this.size;
    while (j > 0) {
      const prev = ring[(head + j - 1) & mask]!;
      if (!before(mv, prev)) break;
      ring[(head + j) & mask] = prev;
      j--;
    }
    ring[(head + j) & mask] = mv;
    this.size++;
  }

  /**
   * Puts a vCPU that starts running (or runs again) in the ring.
   *
   * @param mv The vCPU.
   */
  insert(mv: MemoryVcpu): void {
    mv.inRing = true;
    this.push(mv);
  }

  /**
   * Takes a vCPU out of the ring, if it is in.
   *
   * @param mv The vCPU.
   */
  remove(mv: MemoryVcpu): void {
    if (!mv.inRing) return;
    mv.inRing = false;
    const ring = this.ring, mask = this.mask, head = this.head, size = this.size;
    if (ring[head] === mv) {
      this.head = (head + 1) & mask;
      this.size--;
      return;
    }
    let j = 0;
    while (j < size && ring[(head + j) & mask] !== mv) j++;
    for (; j < size - 1; j++) ring[(head + j) & mask] = ring[(head + j + 1) & mask]!;
    this.size--;
  }
}

/**
 * Whether `a` references before `b`: earlier, or at the same time with a lower vCPU id.
 *
 * @param a A vCPU.
 * @param b Another.
 * @returns Whether `a` comes first.
 */
export function before(a: MemoryVcpu, b: MemoryVcpu): boolean {
  return a.next < b.next || (a.next === b.next && a.id < b.id);
}
