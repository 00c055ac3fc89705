/**
 * The views a CPU policy reads: {@linkcode VmView} and {@linkcode VcpuView}, kept up to date by
 * the SDK from the kernel's notifications.
 *
 * @module
 */

import { DOUBLE } from "../../engine/double_fields.ts";
import type { VcpuStatus } from "../../protocol/payloads.ts";

/**
 * A VM as a policy sees it. Policies may read these fields; the SDK updates them. `S` is the type
 * of its vCPUs' `slot`.
 *
 * @example
 * ```ts
 * import { defineCpuPolicy, type VmView } from "./mod.ts";
 *
 * // Priority by VM: the lowest `priority` number first, ties in arrival order.
 * export default defineCpuPolicy({
 *   name: "by-vm-priority",
 *   create() {
 *     const ready: { vm: VmView; id: number }[] = [];
 *     return {
 *       enqueue: (_ctx, vcpu) => void ready.push({ vm: vcpu.vm, id: vcpu.id }),
 *       dispatch() {
 *         if (ready.length === 0) return null;
 *         let best = 0;
 *         ready.forEach((entry, i) => {
 *           if (entry.vm.priority < ready[best]!.vm.priority) best = i;
 *         });
 *         return { vcpu: ready.splice(best, 1)[0]!.id };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class VmView<S = unknown> {
  /** The VM's index. */
  readonly index: number;
  /** The VM's name. */
  readonly id: string;
  /** Its vCPUs. */
  readonly vcpus: VcpuView<S>[] = [];
  /** Proportional-share weight. */
  weight: number = 256;
  /** Cap in percent of one pCPU; 0 = none. */
  cap: number = 0;
  /** Static priority; lower number = higher priority. */
  priority: number = 0;
  /** Policy-specific parameters. */
  sched: Record<string, unknown> = {};
  /** False once the VM was removed. */
  alive: boolean = true;

  /** @internal */
  constructor(index: number, id: string) {
    this.index = index;
    this.id = id;
  }
}

/**
 * A vCPU as a policy sees it. Policies may read these fields; the SDK updates them, except
 * `slot` (and `data`), which are the policy's own. `S` is the type of `slot`.
 *
 * @example
 * ```ts
 * import { defineCpuPolicy, type VcpuView } from "./mod.ts";
 *
 * // Shortest declared burst first: `remainingNs` is what is left of the current run step.
 * export default defineCpuPolicy({
 *   name: "shortest-remaining",
 *   create() {
 *     const ready = new Set<VcpuView>();
 *     return {
 *       enqueue: (_ctx, vcpu) => void ready.add(vcpu),
 *       dispatch() {
 *         let best: VcpuView | undefined;
 *         for (const vcpu of ready) {
 *           if (best === undefined || (vcpu.remainingNs ?? Infinity) < (best.remainingNs ?? Infinity)) {
 *             best = vcpu;
 *           }
 *         }
 *         if (best === undefined) return null;
 *         ready.delete(best);
 *         return { vcpu: best };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class VcpuView<S = unknown> {
  /** Global vCPU id: the number decisions name. */
  readonly id: number;
  /** Its VM. */
  readonly vm: VmView<S>;
  /** Index within its VM. */
  readonly index: number;
  /** Current state. */
  status: VcpuStatus = "new";
  /** The pCPU it runs on, or -1. */
  pcpu: number = DOUBLE;
  /** When it last became runnable (ns). */
  readySinceNs: number = DOUBLE;
  /** Declared length of its current run step, or null when the program does not declare it. */
  burstNs: number | null = DOUBLE;
  /** Declared remaining time of its current run step, or null. */
  remainingNs: number | null = DOUBLE;
  /** Length of its last complete CPU burst (from waking to blocking), or null. */
  lastBurstNs: number | null = DOUBLE;
  /** CPU time it received in total, as of its last stop (the sum of `stopping`'s `ranNs`). */
  ranNs: number = DOUBLE;
  /**
   * The policy's own state for this vCPU, typed: what the `vcpuSlot` hook made when the vCPU
   * appeared (undefined for a policy without that hook).
   */
  slot: S = undefined as S;
  /** A free slot, untyped (`slot` is the typed one). */
  data: unknown = undefined;

  /** @internal */
  constructor(id: number, vm: VmView<S>, index: number) {
    this.id = id;
    this.vm = vm;
    this.index = index;
    // Doubles from the start (`engine/double_fields.ts`): the SDK copies them from a batch's
    // `Float64Array`.
    this.pcpu = -1;
    this.readySinceNs = this.ranNs = 0;
    // Numbers or null: any value from the start, not a double that later takes a null.
    this.burstNs = this.remainingNs = this.lastBurstNs = null;
  }
}
