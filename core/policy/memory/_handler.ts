/**
 * The memory policy's side of the hook protocol: decodes each batch the kernel sends, keeps the
 * policy's views up to date (applying its own choices at once), calls its hooks in order and
 * encodes their answers.
 *
 * @module
 */

import type { Rng } from "../../engine/rng.ts";
import { type Batch, type Reply, ReplyWriter } from "../../protocol/batch.ts";
import type { PolicyHandler } from "../../protocol/definition.ts";
import { MEMORY_OP } from "../../protocol/ops.ts";
import type { MemoryVmParams, MemoryVmSpec } from "../../protocol/payloads.ts";
import { FrameList } from "./frame_list.ts";
import type { Fault, MemoryContext, MemoryHooks } from "./hooks.ts";
import { type FrameTable, MemoryVmView } from "./views.ts";

/** Touch lists up to this long are handed to `touched` through views made once. */
const SHORT_VIEWS = 256;

/**
 * Decodes the kernel's batches for a memory policy: keeps the views up to date, calls the hooks
 * in call order, and writes their answers. It is also the `ctx` every hook receives.
 */
export class MemoryHandler<C> implements PolicyHandler, MemoryContext<C> {
  now = 0;
  readonly rng: Rng;
  readonly config: C;
  readonly frames: FrameTable;
  readonly vms: MemoryVmView[] = [];
  #hooks: MemoryHooks<C>;
  #reply = new ReplyWriter();
  #touched: Int32Array = new Int32Array(1024);
  /** Views of the first n touched frames, for short n, made once (see `#touchedView`). */
  #touchedViews: Int32Array[] = [];
  #touches: boolean;
  #future: (number[] | null)[] = [];
  #fault: { -readonly [K in keyof Fault]: Fault[K] } = {
    vm: undefined as unknown as MemoryVmView,
    page: 0,
    write: false,
    scope: null,
  };
  /** Load order, for policies without a `victim` hook. */
  #fifo: FrameList | undefined;

  constructor(hooks: MemoryHooks<C>, config: C, frames: FrameTable, rng: Rng, touches: boolean) {
    this.#hooks = hooks;
    this.config = config;
    this.frames = frames;
    this.rng = rng;
    this.#touches = touches;
    if (hooks.victim === undefined) this.#fifo = new FrameList(frames);
  }

  /** Where in the last batch the call that threw starts (an offset into its numbers). */
  failedCall = -1;

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    // Where the call being run starts: a hook that throws is named in the incident, with its
    // arguments (the kernel reads them from its own copy of the batch).
    let at = 0;
    try {
      for (let i = 0; i < batch.length;) {
        at = i;
        const op = nums[i]!, args = i + 3, count = nums[i + 2]!;
        this.now = nums[i + 1]!;
        i = args + count;
        switch (op) {
          case MEMORY_OP.TOUCHED:
            this.#touch(nums, args, count);
            break;
          case MEMORY_OP.LOADED:
            this.#load(nums[args]!, nums[args + 1]!, nums[args + 2]!, nums[args + 3]! === 1);
            break;
          case MEMORY_OP.EVICTED:
            this.#forget(nums[args]!);
            break;
          case MEMORY_OP.PROGRESS:
            for (let k = args; k < args + count; k += 2) {
              const vm = this.vms[nums[k]!];
              if (vm !== undefined) vm.issued = nums[k + 1]!;
            }
            break;
          case MEMORY_OP.VICTIM: {
            const vm = this.vms[nums[args]!]!, scope = nums[args + 2]!;
            const frame = this.#victim(
              vm,
              nums[args + 1]!,
              nums[args + 3]! === 1,
              scope < 0 ? null : this.vms[scope] ?? null,
            );
            if (frame === null) reply.begin(0);
            else reply.begin(1), reply.push(frame), this.#forget(frame);
            break;
          }
          case MEMORY_OP.RECLAIM:
            this.#reclaim(nums[args]!, nums[args + 1]!);
            break;
          case MEMORY_OP.BALANCE:
            this.#balance(nums, args, count);
            break;
          case MEMORY_OP.VM_ADD:
            this.#addVm(batch.objs[nums[args]!] as MemoryVmSpec);
            break;
          case MEMORY_OP.VM_PARAMS: {
            const params = batch.objs[nums[args]!] as MemoryVmParams;
            const vm = this.vms[params.index]!;
            vm.weight = params.weight;
            vm.target = params.target;
            hooks.vmChanged?.(this, vm);
            break;
          }
          case MEMORY_OP.VM_REMOVE: {
            const vm = this.vms[nums[args]!]!;
            vm.alive = false;
            hooks.vmRemoved?.(this, vm);
            break;
          }
          case MEMORY_OP.FUTURE: {
            const future = batch.objs[nums[args]!] as (number[] | null)[];
            future.forEach((refs, index) => {
              if (refs !== null && refs !== undefined) this.#future[index] = refs;
            });
            for (const vm of this.vms) if (vm !== undefined) this.#attachFuture(vm);
            break;
          }
        }
      }
    } catch (error) {
      this.failedCall = at;
      throw error;
    }
    return reply;
  }

  #touch(nums: Float64Array, at: number, count: number): void {
    if (this.#touched.length < count) {
      this.#touched = new Int32Array(Math.max(count, 2 * this.#touched.length));
      this.#touchedViews = [];
    }
    const touched = this.#touched, referenced = this.frames.referenced, dirty = this.frames.dirty;
    for (let k = 0; k < count; k++) {
      const ref = nums[at + k]!;
      const frame = ref < 0 ? -1 - ref : ref;
      referenced[frame] = 1;
      if (ref < 0) dirty[frame] = 1;
      touched[k] = frame;
    }
    if (this.#touches) this.#hooks.touched?.(this, this.#touchedView(count));
  }

  /**
   * The first `count` touched frames as an array of their own. Touches come between faults, a
   * few at a time, so the short views are made once and reused rather than made at every call.
   */
  #touchedView(count: number): Int32Array {
    if (count > SHORT_VIEWS) return this.#touched.subarray(0, count);
    return this.#touchedViews[count] ??= this.#touched.subarray(0, count);
  }

  #load(frame: number, vmIndex: number, page: number, write: boolean): void {
    const frames = this.frames, vm = this.vms[vmIndex]!;
    if (frames.vm[frame]! >= 0) this.#forget(frame);
    frames.vm[frame] = vmIndex;
    frames.page[frame] = page;
    frames.referenced[frame] = 1;
    frames.dirty[frame] = write ? 1 : 0;
    frames.loadedAt[frame] = this.now;
    frames.used++;
    vm.resident++;
    this.#fifo?.push(frame);
    this.#hooks.loaded?.(this, frame, vm, page);
  }

  /** Marks `frame` free in the views and tells the policy, as soon as it is chosen. */
  #forget(frame: number): void {
    const frames = this.frames;
    if (!(frame >= 0 && frame < frames.count)) return;
    const vmIndex = frames.vm[frame]!;
    if (vmIndex < 0) return;
    const vm = this.vms[vmIndex]!, page = frames.page[frame]!;
    frames.vm[frame] = -1;
    frames.referenced[frame] = 0;
    frames.dirty[frame] = 0;
    frames.used--;
    vm.resident--;
    this.#fifo?.remove(frame);
    this.#hooks.evicted?.(this, frame, vm, page);
  }

  #victim(
    vm: MemoryVmView,
    page: number,
    write: boolean,
    scope: MemoryVmView | null,
  ): number | null {
    // One fault record, reused: nothing is allocated per fault.
    const fault = this.#fault;
    fault.vm = vm, fault.page = page, fault.write = write, fault.scope = scope;
    if (this.#fifo !== undefined) {
      const frame = this.#fifo.first(fault.scope);
      return frame < 0 ? null : frame;
    }
    const frame = this.#hooks.victim!(this, fault);
    return frame === null || frame === undefined ? null : Number(frame);
  }

  #reclaim(scopeIndex: number, count: number): void {
    const reply = this.#reply;
    const scope = scopeIndex < 0 ? null : this.vms[scopeIndex] ?? null;
    if (this.#hooks.reclaim !== undefined) {
      const frames = this.#hooks.reclaim(this, scope, count) ?? [];
      reply.begin(frames.length);
      for (const frame of frames) reply.push(Number(frame));
      for (const frame of frames) this.#forget(Number(frame));
      return;
    }
    // Without a reclaim hook, ask for victims one by one, forgetting each before the next.
    const chosen: number[] = [];
    const vm = scope ?? this.vms.find((view) => view !== undefined && view.resident > 0);
    for (let k = 0; k < count && vm !== undefined; k++) {
      const frame = this.#victim(vm, -1, false, scope);
      if (frame === null || !(frame >= 0 && frame < this.frames.count)) break;
      if (this.frames.vm[frame]! < 0) break;
      chosen.push(frame);
      this.#forget(frame);
      if (this.frames.used === 0 || (scope !== null && scope.resident === 0)) break;
    }
    reply.begin(chosen.length);
    for (const frame of chosen) reply.push(frame);
  }

  #balance(nums: Float64Array, at: number, count: number): void {
    for (let k = at; k < at + count; k += 4) {
      const vm = this.vms[nums[k]!];
      if (vm === undefined) continue;
      vm.accessed = nums[k + 1]!;
      vm.faults = nums[k + 2]!;
      vm.refs = nums[k + 3]!;
    }
    const balloons = this.#hooks.balance?.(this) ?? [];
    const reply = this.#reply;
    reply.begin(2 * balloons.length);
    for (const balloon of balloons) {
      const vm = balloon?.vm;
      reply.push(typeof vm === "object" && vm !== null ? vm.index : Number(vm));
      reply.push(Number(balloon?.frames));
    }
  }

  #addVm(spec: MemoryVmSpec): void {
    const vm = new MemoryVmView(spec.index, spec.id);
    vm.pages = spec.pages;
    vm.weight = spec.weight;
    vm.target = spec.target;
    this.vms[spec.index] = vm;
    this.#attachFuture(vm);
    this.#hooks.vmAdded?.(this, vm);
  }

  #attachFuture(vm: MemoryVmView): void {
    const refs = this.#future[vm.index];
    if (refs !== undefined && refs !== null && vm.future === null) {
      vm.future = Int32Array.from(refs);
    }
  }
}
