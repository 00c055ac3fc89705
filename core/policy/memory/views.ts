/**
 * The views a memory policy reads: {@linkcode MemoryVmView} for each VM and the
 * {@linkcode FrameTable} of the host's frames, kept up to date by the SDK.
 *
 * @module
 */

/**
 * A VM as a memory policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts
 * import { defineMemoryPolicy, type MemoryVmView } from "./mod.ts";
 *
 * // Balloon targets in proportion to each VM's memory weight (`ctx.vms` are MemoryVmViews).
 * export default defineMemoryPolicy({
 *   name: "by-weight",
 *   create({ frames }) {
 *     return {
 *       balance(ctx) {
 *         const vms = ctx.vms.filter((vm): vm is MemoryVmView => vm !== undefined && vm.alive);
 *         const total = vms.reduce((sum, vm) => sum + vm.weight, 0);
 *         return vms.map((vm) => ({ vm, frames: Math.floor(frames.count * vm.weight / total) }));
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class MemoryVmView {
  /** The VM's index. */
  readonly index: number;
  /** The VM's name. */
  readonly id: string;
  /** The size of its address space, in pages. */
  pages: number = 0;
  /** Its memory weight (shares, default the VM's CPU weight). */
  weight: number = 256;
  /** Its balloon target in frames, or null when it has none. */
  target: number | null = null;
  /** How many frames it holds. */
  resident: number = 0;
  /** False once the VM was removed. */
  alive: boolean = true;
  /** Distinct pages it referenced in the last balancing period (the kernel's accessed-bit scan). */
  accessed: number = 0;
  /** Faults it took in the last balancing period. */
  faults: number = 0;
  /** References it issued in the last balancing period. */
  refs: number = 0;
  /** Its whole reference string, for policies that declare `future: true`; null otherwise. */
  future: Int32Array | null = null;
  /** How many references it has issued, kept current for policies that declare `future: true`. */
  issued: number = 0;
  /** Free slot for the policy's own per-VM state. */
  data: unknown = undefined;
  #occurrences: Map<number, Int32Array> | undefined;

  /**
   * Creates a view (the SDK does this when the VM appears).
   *
   * @param index The VM's index.
   * @param id The VM's name.
   */
  constructor(index: number, id: string) {
    this.index = index;
    this.id = id;
  }

  /**
   * How many references from now until `page` is referenced again: 0 when the next reference is
   * to `page`, Infinity when it never is. Needs the future (`future: true`).
   *
   * @throws {Error} When the policy did not declare `future: true`.
   */
  nextUse(page: number): number {
    const future = this.future;
    if (future === null) throw new Error(`VM ${this.id}: nextUse needs a policy with future: true`);
    const positions = (this.#occurrences ??= occurrences(future)).get(page);
    if (positions === undefined) return Infinity;
    // The first position at or after `issued`, by binary search.
    let low = 0, high = positions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (positions[mid]! < this.issued) low = mid + 1;
      else high = mid;
    }
    return low === positions.length ? Infinity : positions[low]! - this.issued;
  }
}

function occurrences(future: Int32Array): Map<number, Int32Array> {
  const counts = new Map<number, number>();
  for (const page of future) counts.set(page, (counts.get(page) ?? 0) + 1);
  const lists = new Map<number, Int32Array>();
  for (const [page, count] of counts) lists.set(page, new Int32Array(count));
  const filled = new Map<number, number>();
  for (let i = 0; i < future.length; i++) {
    const page = future[i]!, at = filled.get(page) ?? 0;
    lists.get(page)![at] = i;
    filled.set(page, at + 1);
  }
  return lists;
}

/**
 * The host's frames as the policy sees them, as typed arrays indexed by frame number. The SDK
 * keeps `vm`, `page`, `dirty` and `loadedAt` current and sets `referenced` on every reference;
 * the policy may clear `referenced` (CLOCK's hand does).
 *
 * @example
 * ```ts
 * import { defineMemoryPolicy } from "./mod.ts";
 *
 * // CLOCK: `frames` is the FrameTable; its referenced bits are set by the SDK, cleared by the hand.
 * export default defineMemoryPolicy({
 *   name: "my-clock",
 *   create({ frames }) {
 *     let hand = 0;
 *     return {
 *       victim(_ctx, fault) {
 *         for (let step = 0; step < 2 * frames.count + 1; step++) {
 *           const frame = hand;
 *           hand = (hand + 1) % frames.count;
 *           const owner = frames.vm[frame]!;
 *           if (owner < 0 || (fault.scope !== null && owner !== fault.scope.index)) continue;
 *           if (frames.referenced[frame] === 1) frames.referenced[frame] = 0;
 *           else return frame;
 *         }
 *         return null;
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class FrameTable {
  /** How many frames the host has. */
  readonly count: number;
  /** The VM holding each frame, or -1 when the frame is free. */
  readonly vm: Int32Array;
  /** The page each frame holds (meaningful when `vm` is not -1). */
  readonly page: Int32Array;
  /** The accessed bit: 1 when the frame was referenced since the policy last cleared it. */
  readonly referenced: Uint8Array;
  /** The dirty bit: 1 when the page was written since it was loaded. */
  readonly dirty: Uint8Array;
  /** When each frame's page was loaded (ns). */
  readonly loadedAt: Float64Array;
  /** How many frames are in use. */
  used: number = 0;

  /**
   * Creates a table of free frames.
   *
   * @param count How many frames.
   */
  constructor(count: number) {
    this.count = count;
    this.vm = new Int32Array(count).fill(-1);
    this.page = new Int32Array(count);
    this.referenced = new Uint8Array(count);
    this.dirty = new Uint8Array(count);
    this.loadedAt = new Float64Array(count);
  }

  /** How many frames are free. */
  get free(): number {
    return this.count - this.used;
  }
}
