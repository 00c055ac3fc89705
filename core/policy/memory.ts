/**
 * The memory policy SDK: `defineMemoryPolicy`, the views a memory policy sees, and the memory
 * opcodes.
 *
 * A memory policy decides which resident page gives up its host frame when a fault finds none
 * free (`victim`), which pages to reclaim in a batch (`reclaim`, when free frames fall below the
 * low watermark or a VM is over its balloon target) and how many frames each VM may hold
 * (`balance`, periodic, setting balloon targets the kernel enforces). The kernel validates every
 * answer.
 *
 * Page references do not cost one message each. The kernel tells the policy which frames were
 * referenced since its last batch (`touched`: each frame once, in order of last reference, which
 * is all exact LRU needs), and the SDK keeps a `referenced` bit per frame, set on every reference
 * and cleared by the policy, which is all CLOCK needs. Policies that need neither say
 * `touches: false` and the kernel skips the work.
 *
 * @module
 */

import { Rng } from "../engine/rng.ts";
import { FrameList } from "./frame_list.ts";
import { ConfigError, type ConfigOf, type Param, resolveConfig } from "./params.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import { ReplyWriter } from "../protocol/batch.ts";
import { MEMORY_OP } from "../protocol/ops.ts";
import type { MemoryVmParams, MemoryVmSpec } from "../protocol/payloads.ts";

export { MEMORY_OP, PAGE_BYTES } from "../protocol/ops.ts";
export type { MemoryVmParams, MemoryVmSpec } from "../protocol/payloads.ts";

/**
 * A VM as a memory policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts

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

/** What every hook receives. */
export interface MemoryContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** The host's frames. */
  readonly frames: FrameTable;
  /** Every VM seen so far, by index. */
  readonly vms: readonly MemoryVmView[];
}

/** The hooks of a memory policy. Every one is optional. */
export interface MemoryHooks<C> {
  /** A page was loaded into `frame` (the views already show it). */
  loaded?(ctx: MemoryContext<C>, frame: number, vm: MemoryVmView, page: number): void;
  /**
   * Frames were referenced: each once, in order of last reference since the previous call (the
   * views' `referenced` bits are already set). The array is reused: do not keep it.
   */
  touched?(ctx: MemoryContext<C>, frames: Int32Array): void;
  /** `frame` was freed: chosen by this policy, or its VM was removed. Forget it. */
  evicted?(ctx: MemoryContext<C>, frame: number, vm: MemoryVmView, page: number): void;
  /**
   * A fault needs a frame and none may be taken free: name a frame in use (of `fault.scope` when
   * it is not null). Its page is evicted and the faulting page loaded there. Without this hook
   * the oldest loaded frame goes (FIFO).
   */
  victim?(ctx: MemoryContext<C>, fault: Fault): number | null | undefined;
  /**
   * Free frames in a batch, as Linux reclaims in clusters: name from 1 to `count` frames in use
   * (of `scope` when it is not null). Without this hook the SDK asks `victim` `count` times.
   */
  reclaim?(
    ctx: MemoryContext<C>,
    scope: MemoryVmView | null,
    count: number,
  ): readonly number[] | null | undefined;
  /**
   * Periodic balancing (every `balanceNs`): the views' `accessed`, `faults` and `refs` hold the
   * last period's figures. Return balloon targets to set, or nothing.
   */
  balance?(ctx: MemoryContext<C>): readonly Balloon[] | null | undefined;
  /** A VM appeared. */
  vmAdded?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
  /** A VM's weight or target changed (the view already holds the new values). */
  vmChanged?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
  /** A VM was removed. */
  vmRemoved?(ctx: MemoryContext<C>, vm: MemoryVmView): void;
}

/** What a memory policy's `create` receives. */
export interface MemorySetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** The host's frames (the same table the hooks see as `ctx.frames`). */
  readonly frames: FrameTable;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/** The declaration of a memory policy, given to {@linkcode defineMemoryPolicy}. */
export interface MemoryPolicySpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /**
   * Whether the policy needs reference information (`touched`, `frames.referenced`); default
   * true. FIFO and OPT do not, and say false so the kernel skips the work.
   */
  touches?: boolean;
  /**
   * Whether the policy needs the future references (`MemoryVmView.future`, `nextUse`). The run
   * refuses to start (exit 2, naming the place) when the workload does not make them known.
   */
  future?: boolean;
  /** The balancing period in ns for the `balance` hook (default 100 ms), or a function of the config. */
  balanceNs?: number | ((config: ConfigOf<S>) => number);
  /** Creates the policy's state and returns its hooks. */
  create(setup: MemorySetup<ConfigOf<S>>): MemoryHooks<ConfigOf<S>>;
}

/**
 * The default balancing period.
 *
 * @example
 * ```ts

 *
 * // The balance hook runs every DEFAULT_BALANCE_NS (100 ms) unless the policy sets `balanceNs`.
 * export default defineMemoryPolicy({
 *   name: "twice-as-often",
 *   balanceNs: DEFAULT_BALANCE_NS / 2,
 *   create: () => ({ balance: () => [] }),
 * });
 * ```
 */
export const DEFAULT_BALANCE_NS = 100_000_000;

/** A memory policy: what a memory policy module exports by default. */
export interface MemoryPolicy extends PolicyDefinition {
  /** Always `memory`. */
  readonly domain: "memory";
}

/**
 * Defines a memory policy. The result is the module's default export.
 *
 * @example Least recently used, in a dozen lines
 * ```ts
 * import { defineMemoryPolicy, FrameList } from "./mod.ts";
 *
 * export default defineMemoryPolicy({
 *   name: "my-lru",
 *   create({ frames }) {
 *     const recency = new FrameList(frames); // least recently used first
 *     return {
 *       loaded(_ctx, frame) {
 *         recency.push(frame);
 *       },
 *       touched(_ctx, touched) {
 *         for (let i = 0; i < touched.length; i++) recency.push(touched[i]!);
 *       },
 *       evicted(_ctx, frame) {
 *         recency.remove(frame);
 *       },
 *       victim(_ctx, fault) {
 *         return recency.first(fault.scope);
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function defineMemoryPolicy<
  S extends Record<string, Param<unknown>> = Record<never, never>,
>(spec: MemoryPolicySpec<S>): MemoryPolicy {
  return {
    apiVersion: API_VERSION,
    domain: "memory",
    name: spec.name,
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const count = Number(message.host.frames);
      if (!Number.isInteger(count) || count < 1) {
        throw new Error(`Policy ${spec.name}: the host has no frames (host.frames = ${count})`);
      }
      const unknown = message.host.futureUnknown;
      if (spec.future === true && typeof unknown === "string") {
        throw new ConfigError(
          `Policy ${spec.name}: needs the future page references, but ${unknown}; expected "refs" for every VM with memory`,
        );
      }
      const frames = new FrameTable(count);
      const rng = new Rng(message.seed);
      const hooks = spec.create({ config, frames, rng });
      const balanceNs = typeof spec.balanceNs === "function"
        ? spec.balanceNs(config)
        : spec.balanceNs ?? DEFAULT_BALANCE_NS;
      const touches = spec.touches ?? true;
      const handler = new MemoryHandler(hooks, config, frames, rng, touches);
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function" && key !== "touched"
      );
      for (const always of ["victim", "reclaim"]) if (!names.includes(always)) names.push(always);
      if (touches) names.push("touched");
      if (spec.future === true) names.push("future");
      return {
        handler,
        result: { name: spec.name, config: json, hooks: names, tickNs: balanceNs },
      };
    },
  };
}

/** Touch lists up to this long are handed to `touched` through views made once. */
const SHORT_VIEWS = 256;

class MemoryHandler<C> implements PolicyHandler, MemoryContext<C> {
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

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    for (let i = 0; i < batch.length;) {
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
