/**
 * Balloon targets and batched reclaim, the memory domain's second job beside serving faults: a
 * VM's target (set live, on the timeline, or by the policy's `balance` answer), the `RECLAIM`
 * queries asked when a VM holds more than its target or the host's free frames fall below the low
 * watermark (to refill up to the high one), and the periodic balancing scan, which reports each
 * VM's accessed pages and clears them by moving to a new epoch.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { Periodic } from "../kernel/_periodic.ts";
import type { Queries } from "../kernel/_queries.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import type { ReplyReader } from "../protocol/batch.ts";
import type { StartResult } from "../protocol/definition.ts";
import { DEFAULT_BALANCE_NS, MEMORY_OP } from "../protocol/ops.ts";
import type { MemoryVmParams } from "../protocol/payloads.ts";
import { invalidDecision as invalid } from "../protocol/runtime.ts";
import type { HostMemoryWorkload } from "../workload/types.ts";
import { type FrameTable, MEMORY_LOG } from "./frames.ts";
import type { MemoryVm } from "./page_table.ts";

/** What the memory domain lends its targets: its state, and what it does before a call. */
export interface TargetsParts {
  /** The kernel. */
  readonly kernel: Kernel;
  /** The memory policy's slot. */
  readonly slot: PolicySlot;
  /** The domain's queries of the batch. */
  readonly queries: Queries;
  /** The host's frames. */
  readonly frames: FrameTable;
  /** The domain's VMs, by index. */
  readonly vms: readonly (MemoryVm | undefined)[];
  /** The event kind of the balance period. */
  readonly balanceKind: number;
  /** Writes the touches gathered so far into the batch. */
  flushTouches(): void;
  /** Tells a future-aware policy how far each VM is. */
  sendProgress(): void;
  /** Unmaps the page in a frame; true if it was dirty. */
  evict(frame: number): boolean;
}

/** Balloon targets, batched reclaim and the balancing scan of a memory domain. */
export class Targets {
  /** The scan epoch: a page's accessed bit is set when its word holds the current epoch. */
  epoch = 1;
  /** Frames freed by batched reclaim. */
  reclaimed = 0;
  /** What `warm` added up (kept so that its reads are not dropped). */
  warmed = 0;
  #parts: TargetsParts;
  #host: HostMemoryWorkload;
  #hostReclaimAsked = false;
  #targetsChanged = false;
  #balance: Periodic;

  /**
   * @param parts The domain's state and callbacks.
   * @param host The host's validated memory spec (watermarks, the shortest balance period).
   */
  constructor(parts: TargetsParts, host: HostMemoryWorkload) {
    this.#parts = parts;
    this.#host = host;
    this.#balance = new Periodic(parts.kernel, parts.slot, {
      hook: "balance",
      kind: parts.balanceKind,
      defaultNs: DEFAULT_BALANCE_NS,
      minimum: { ns: host.minBalance, name: "host.memory.minBalance" },
    });
  }

  /**
   * Sets a VM's target (Infinity: none), logs it and tells the policy.
   *
   * @param vm The VM.
   * @param frames Its new target.
   */
  set(vm: MemoryVm, frames: number): void {
    if (vm.target === frames) return;
    vm.target = frames;
    const { kernel, slot } = this.#parts, now = kernel.now;
    kernel.log.record(LOG.memory, MEMORY_LOG.TARGET, now, vm.index, frames, 0);
    this.#targetsChanged = true;
    if (vm.arrived && !vm.removed) {
      const params: MemoryVmParams = {
        index: vm.index,
        weight: vm.weight,
        target: Number.isFinite(frames) ? frames : null,
      };
      this.#parts.flushTouches();
      slot.writer.call1(MEMORY_OP.VM_PARAMS, now, slot.writer.obj(params));
    }
  }

  /** Asks reclaim of every VM above its target and, below the low watermark, of the host. */
  settle(): void {
    const parts = this.#parts, writer = parts.slot.writer, now = parts.kernel.now;
    if (this.#targetsChanged) {
      this.#targetsChanged = false;
      for (const vm of parts.vms) {
        if (vm === undefined || vm.removed || vm.reclaimAsked) continue;
        const excess = vm.resident - Math.max(1, vm.target);
        if (excess <= 0) continue;
        vm.reclaimAsked = true;
        parts.flushTouches();
        parts.sendProgress();
        writer.call2(MEMORY_OP.RECLAIM, now, vm.index, excess);
        parts.queries.add(MEMORY_OP.RECLAIM, vm.index, excess);
      }
    }
    const frames = parts.frames.count, free = parts.frames.freeCount;
    const low = this.#host.lowWatermark;
    if (low > 0 && free < low && !this.#hostReclaimAsked) {
      const count = Math.min(this.#host.highWatermark - free, frames - free);
      if (count > 0) {
        this.#hostReclaimAsked = true;
        parts.flushTouches();
        parts.sendProgress();
        writer.call2(MEMORY_OP.RECLAIM, now, -1, count);
        parts.queries.add(MEMORY_OP.RECLAIM, -1, count);
      }
    }
  }

  /**
   * Applies the answer to a `RECLAIM` query: frees the frames it names.
   *
   * @param scope The VM asked, or -1 for the host.
   * @param asked How many frames were asked for.
   * @param n How many values the answer holds.
   * @param reader The answer.
   * @throws {PolicyFailure} `invalid` for a bad count or frame.
   */
  applyReclaim(scope: number, asked: number, n: number, reader: ReplyReader): void {
    const parts = this.#parts, vm = scope < 0 ? undefined : parts.vms[scope];
    if (vm !== undefined) vm.reclaimAsked = false, this.#targetsChanged = true;
    else this.#hostReclaimAsked = false;
    const what = vm === undefined ? "host-wide reclaim" : `reclaim from VM ${vm.id}`;
    if (n < 1 || n > asked) {
      throw invalid("bad-reclaim", `${what} of ${asked} frames: expected 1 to ${asked}, got ${n}`);
    }
    const frames = parts.frames;
    // Warms the cache for the evictions below (see FrameTable.warm).
    this.warmed = frames.warm(reader, n, parts.vms);
    for (let i = 0; i < n; i++) {
      const frame = reader.next();
      frames.check(frame, scope, what, parts.vms);
      // A dirty page reclaimed in a batch is written back in the background: no vCPU waits.
      parts.evict(frame);
      frames.release(frame);
      this.reclaimed++;
    }
  }

  /**
   * Applies the answer to a `BALANCE` query: pairs of a VM and its new target.
   *
   * @param n How many values the answer holds.
   * @param reader The answer.
   * @throws {PolicyFailure} `invalid` for an odd count, an unknown VM or a bad target.
   */
  applyBalance(n: number, reader: ReplyReader): void {
    const vms = this.#parts.vms, host = this.#parts.frames.count;
    if (n % 2 !== 0) throw invalid("malformed-reply", `balance answered an odd ${n} values`);
    for (let i = 0; i < n; i += 2) {
      const index = reader.next(), frames = reader.next();
      const vm = Number.isInteger(index) ? vms[index] : undefined;
      if (vm === undefined || !vm.arrived || vm.removed) {
        throw invalid("unknown-vm", `balance named VM ${index}, which has no memory here`);
      }
      if (!(Number.isInteger(frames) && frames >= 0 && frames <= host)) {
        throw invalid(
          frames > host ? "target-above-host" : "bad-target",
          `balance set VM ${vm.id}'s target to ${frames} frames; expected an integer from 0 to ${host} (the host's frames)`,
        );
      }
      this.set(vm, frames);
    }
  }

  /**
   * The periodic balancing scan: reports each VM's accessed pages, then clears the bits.
   *
   * @param generation The balance event's generation (a superseded one does nothing).
   */
  scan(generation: number): void {
    if (!this.#balance.current(generation)) return;
    const parts = this.#parts, now = parts.kernel.now, writer = parts.slot.writer;
    const stats: number[] = [];
    for (const vm of parts.vms) {
      if (vm === undefined || !vm.arrived || vm.removed) continue;
      stats.push(vm.index, vm.accessed, vm.faults - vm.faultsAtScan, vm.issued - vm.issuedAtScan);
      vm.accessed = 0;
      vm.faultsAtScan = vm.faults;
      vm.issuedAtScan = vm.issued;
    }
    this.epoch++;
    parts.flushTouches();
    parts.sendProgress();
    writer.callN(MEMORY_OP.BALANCE, now, stats);
    parts.queries.add(MEMORY_OP.BALANCE, 0, 0);
    this.#balance.next(generation);
  }

  /**
   * Checks the policy's declared balance period, as a tick is checked.
   *
   * @param declared What the policy declared at start.
   */
  check(declared: StartResult): void {
    this.#balance.check(declared);
  }

  /** Starts the balance period of the policy just installed. */
  install(): void {
    this.#balance.install();
  }

  /** A policy takes over: nothing is asked any more, and every target is looked at again. */
  reset(): void {
    this.#hostReclaimAsked = false;
    this.#targetsChanged = true;
  }
}
