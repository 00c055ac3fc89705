/**
 * The views an I/O policy reads: {@linkcode IoVmView}, {@linkcode DiskView} and
 * {@linkcode IoRequestView}, kept up to date by the SDK.
 *
 * @module
 */

import type { DiskInfo, IoLimits } from "../../protocol/payloads.ts";

/**
 * A VM as an I/O policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts
 * import { defineIoPolicy, type IoRequestView } from "./mod.ts";
 *
 * // Requests of heavier VMs first (`request.vm` is an IoVmView).
 * export default defineIoPolicy({
 *   name: "heaviest-vm-first",
 *   create() {
 *     const queued = new Set<IoRequestView>();
 *     return {
 *       submitted: (_ctx, request) => void queued.add(request),
 *       dispatch(_ctx, disk) {
 *         let best: IoRequestView | undefined;
 *         for (const request of queued) {
 *           if (request.disk !== disk) continue;
 *           if (best === undefined || request.vm.weight > best.vm.weight) best = request;
 *         }
 *         if (best !== undefined) queued.delete(best);
 *         return best;
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class IoVmView {
  /** The VM's index. */
  readonly index: number;
  /** The VM's name. */
  readonly id: string;
  /** Proportional I/O weight, 1..10000. */
  weight = 100;
  /** Limits the kernel enforces (0 = none). */
  max: IoLimits = { rbps: 0, wbps: 0, riops: 0, wiops: 0 };
  /** False once the VM was removed. */
  alive = true;
  /** Free slot for the policy's own per-VM state. */
  data: unknown = undefined;

  /**
   * Creates the view of a VM (the SDK does this).
   *
   * @param index The VM's index.
   * @param id The VM's name.
   */
  constructor(index: number, id: string) {
    this.index = index;
    this.id = id;
  }
}

/**
 * A disk as an I/O policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts
 * import { defineIoPolicy, type IoRequestView } from "./mod.ts";
 *
 * // Nearest cylinder to the disk's head first (SSTF); `disk` is a DiskView.
 * export default defineIoPolicy({
 *   name: "nearest",
 *   create() {
 *     const queued = new Set<IoRequestView>();
 *     return {
 *       submitted: (_ctx, request) => void queued.add(request),
 *       dispatch(_ctx, disk) {
 *         let best: IoRequestView | undefined;
 *         for (const request of queued) {
 *           if (request.disk !== disk) continue;
 *           const distance = Math.abs(request.cylinder - disk.head);
 *           if (best === undefined || distance < Math.abs(best.cylinder - disk.head)) best = request;
 *         }
 *         if (best !== undefined) queued.delete(best);
 *         return best;
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class DiskView {
  /** The disk's index: the number `dispatch` receives. */
  readonly index: number;
  /** The disk's name. */
  readonly id: string;
  /** Its model: `linear`, `hdd` or `ssd`. */
  readonly kind: string;
  /** Number of cylinders, numbered from 0. */
  readonly cylinders: number;
  /** Capacity in 512-byte blocks. */
  readonly totalBlocks: number;
  /** The cylinder under the head, as of the last dispatch question or completion. */
  head: number;
  /** Which way the head last moved (the disk's starting direction until it moves). */
  direction: "up" | "down";
  /** The request being served, or null. */
  active: IoRequestView | null = null;
  /** Free slot for the policy's own per-disk state. */
  data: unknown = undefined;

  /**
   * Creates the view of a disk (the SDK does this).
   *
   * @param index The disk's index.
   * @param info The host's description of it.
   */
  constructor(index: number, info: DiskInfo) {
    this.index = index;
    this.id = info.id;
    this.kind = info.kind;
    this.cylinders = info.cylinders;
    this.totalBlocks = info.totalBlocks;
    this.head = info.head;
    this.direction = info.direction;
  }
}

/** Where a request is in its life, as the policy sees it. */
export type IoRequestStatus = "queued" | "dispatched" | "started" | "done";

/**
 * A disk request as a policy sees it. The SDK updates `status`; the rest never changes.
 *
 * @example
 * ```ts
 * import { defineIoPolicy, type IoRequestView } from "./mod.ts";
 *
 * // Earliest deadline first; requests without one (deadlineNs Infinity) last, oldest first.
 * export default defineIoPolicy({
 *   name: "edf",
 *   create() {
 *     const queued = new Set<IoRequestView>();
 *     return {
 *       submitted: (_ctx, request) => void queued.add(request),
 *       dispatch(_ctx, disk) {
 *         let best: IoRequestView | undefined;
 *         for (const request of queued) {
 *           if (request.disk !== disk) continue;
 *           if (best === undefined || request.deadlineNs < best.deadlineNs) best = request;
 *         }
 *         if (best !== undefined) queued.delete(best);
 *         return best;
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class IoRequestView {
  /** The request's id: the number decisions name. Ids increase in submission order. */
  readonly id: number;
  /** The VM that issued it. */
  readonly vm: IoVmView;
  /** The disk it is for. */
  readonly disk: DiskView;
  /** True for a write. */
  readonly write: boolean;
  /** First 512-byte block. */
  readonly lba: number;
  /** Bytes to transfer. */
  readonly bytes: number;
  /** The cylinder it addresses (0 on an SSD). */
  readonly cylinder: number;
  /** When the VM submitted it (before any throttling), in ns. */
  readonly submittedNs: number;
  /** When it should complete, in ns, or Infinity when it has no deadline. */
  readonly deadlineNs: number;
  /** Where it is in its life. */
  status: IoRequestStatus = "queued";
  /** Free slot for the policy's own per-request state. */
  data: unknown = undefined;

  /**
   * Creates the view of a request (the SDK does this).
   *
   * @param id The request id.
   * @param vm Its VM.
   * @param disk Its disk.
   * @param fields `write`, `lba`, `bytes`, `cylinder`, `submittedNs`, `deadlineNs`.
   */
  constructor(
    id: number,
    vm: IoVmView,
    disk: DiskView,
    fields: {
      write: boolean;
      lba: number;
      bytes: number;
      cylinder: number;
      submittedNs: number;
      deadlineNs: number;
    },
  ) {
    this.id = id;
    this.vm = vm;
    this.disk = disk;
    this.write = fields.write;
    this.lba = fields.lba;
    this.bytes = fields.bytes;
    this.cylinder = fields.cylinder;
    this.submittedNs = fields.submittedNs;
    this.deadlineNs = fields.deadlineNs;
  }

  /** `"read"` or `"write"`. */
  get op(): "read" | "write" {
    return this.write ? "write" : "read";
  }

  /** The number of 512-byte blocks it covers. */
  get blocks(): number {
    return Math.max(1, Math.ceil(this.bytes / 512));
  }
}
