/**
 * What a memory policy writes: its hooks ({@linkcode MemoryHooks}), the context every hook
 * receives ({@linkcode MemoryContext}), and what hooks are given and return ({@linkcode Fault},
 * {@linkcode Balloon}).
 *
 * The SDK applies the policy's own choices to its views at once: a frame named by `victim` or
 * `reclaim` is free in `ctx.frames` (and `evicted` was called for it) before the next call of the
 * same batch. The kernel checks every answer: a frame that does not exist, is free or is out of
 * scope, a `victim` that names none, a `reclaim` of no frames or of too many, a target out of
 * range, each ejects the policy (an incident), and a trusted built-in takes over.
 *
 * @module
 */

import type { Rng } from "../../engine/rng.ts";
import type { FrameTable, MemoryVmView } from "./views.ts";

/** A fault that needs a frame when none is free to take. The SDK reuses it: do not keep it. */
export interface Fault {
  /** The VM that faulted. */
  readonly vm: MemoryVmView;
  /** The page it referenced, or -1 when the SDK asks on behalf of `reclaim`. */
  readonly page: number;
  /** Whether the reference was a write. */
  readonly write: boolean;
  /**
   * The VM that must give up a frame: the faulting VM when it is at its balloon target, null
   * when any VM's frame will do (the host has no free frame).
   */
  readonly scope: MemoryVmView | null;
}

/** A balloon target: what `balance` returns, one per VM whose target it sets. */
export interface Balloon {
  /** The VM: a view or its index. */
  vm: MemoryVmView | number;
  /** The most frames it may hold: an integer from 0 to the host's frame count. */
  frames: number;
}

/** What every hook receives. `C` is the resolved configuration. */
export interface MemoryContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** The host's frames. */
  readonly frames: FrameTable;
  /** Every VM seen so far, by index (undefined for VMs without memory activity). */
  readonly vms: readonly MemoryVmView[];
}

/** The hooks of a memory policy. Every one is optional. `C` is the resolved configuration. */
export interface MemoryHooks<C> {
  /**
   * A page was loaded into a frame: a fault was served (into a free frame, or the victim's), or
   * the policy took over a running kernel, which replays every resident frame in load order. The
   * views already show it.
   *
   * @param ctx The context.
   * @param frame The frame.
   * @param vm The VM the page belongs to.
   * @param page The page.
   */
  loaded?(ctx: MemoryContext<C>, frame: number, vm: MemoryVmView, page: number): void;
  /**
   * Frames were referenced: each once, in order of last reference since the previous call (the
   * views' `referenced` bits, and `dirty` for writes, are already set). Called before any other
   * call that follows the references, never per reference; a policy declared with
   * `touches: false` gets none.
   *
   * @param ctx The context.
   * @param frames The frames, least recently referenced first. The array is reused: do not keep
   *   it.
   */
  touched?(ctx: MemoryContext<C>, frames: Int32Array): void;
  /**
   * A frame was freed: chosen by this policy (`victim`, `reclaim`, right when it was named), or
   * its VM was removed. Forget it.
   *
   * @param ctx The context.
   * @param frame The frame, free now in `ctx.frames`.
   * @param vm The VM whose page it held.
   * @param page The page it held.
   */
  evicted?(ctx: MemoryContext<C>, frame: number, vm: MemoryVmView, page: number): void;
  /**
   * A fault needs a frame and none may be taken free: name a frame in use (of `fault.scope` when
   * it is not null). Its page is evicted (written back first when dirty, stalling the faulting
   * vCPU by `writebackCost`) and the faulting page loaded there. Without this hook the oldest
   * loaded frame goes (FIFO). Answering null is an invalid decision.
   *
   * @param ctx The context.
   * @param fault The fault (reused: do not keep it).
   * @returns The frame.
   */
  victim?(ctx: MemoryContext<C>, fault: Fault): number | null | undefined;
  /**
   * Frees frames in a batch, as Linux reclaims in clusters: asked when free frames fall below
   * `lowWatermark` (to refill up to `highWatermark`, any VM's frames) and when a VM holds more
   * than a new balloon target (its frames). Without this hook the SDK asks `victim` once per
   * frame.
   *
   * @param ctx The context.
   * @param scope The VM whose frames to free, or null for any VM's.
   * @param count The most frames to free.
   * @returns From 1 to `count` frames in use (in scope); fewer than 1 or more than `count` is an
   *   invalid decision.
   */
  reclaim?(
    ctx: MemoryContext<C>,
    scope: MemoryVmView | null,
    count: number,
  ): readonly number[] | null | undefined;
  /**
   * Periodic balancing, every `balanceNs` (default `DEFAULT_BALANCE_NS`, 100 ms; on its
   * multiples): the views' `accessed`, `faults` and `refs` hold the last period's figures, from
   * the kernel's accessed-bit scan. The kernel enforces the targets returned, reclaiming from VMs
   * above theirs, like `xl mem-set`.
   *
   * @param ctx The context.
   * @returns Balloon targets to set (others stay), or nothing.
   */
  balance?(ctx: MemoryContext<C>): readonly Balloon[] | null | undefined;
  /**
   * A VM with memory activity appeared (at its arrival, or when the policy takes over a running
   * kernel).
   *
   * @param ctx The context.
   * @param vm The VM.
   */
  vmAdded?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
  /**
   * A VM's weight or balloon target changed (a `balance` answer, the workload timeline, live
   * control); the view already holds the new values.
   *
   * @param ctx The context.
   * @param vm The VM.
   */
  vmChanged?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
  /**
   * A VM was removed (live control): its frames were freed first, each with `evicted`.
   *
   * @param ctx The context.
   * @param vm The VM (`alive` is false).
   */
  vmRemoved?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
}
