/**
 * The I/O policy SDK: `defineIoPolicy`, the views an I/O policy sees, and the I/O opcodes.
 *
 * An I/O policy decides which queued disk request each disk serves next, like a Linux block-layer
 * scheduler (mq-deadline, BFQ, kyber). Its hooks: `submitted` (a request reached the scheduler),
 * `dispatch` (a disk is idle and requests are queued for it: name the next one, or several to fill
 * the disk's queue, or a head movement), `started` and `completed`, and the VM hooks. VMs carry
 * their cgroup-style I/O weight (`io.weight`, 1..10000, default 100) and limits (`io.max`); the
 * kernel enforces the limits itself, before requests reach the policy. The kernel validates every
 * decision.
 *
 * @module
 */

import { Rng } from "../engine/rng.ts";
import { Fifo, LiveById } from "./helpers.ts";
import { type ConfigOf, type Param, resolveConfig } from "./params.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import { ReplyWriter } from "../protocol/batch.ts";
import { IO_OP } from "../protocol/ops.ts";
import type { DiskInfo, IoLimits, IoVmSpec } from "../protocol/payloads.ts";

export { IO_OP } from "../protocol/ops.ts";
export type { DiskInfo, IoLimits, IoVmSpec } from "../protocol/payloads.ts";

/**
 * A VM as an I/O policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts

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

/** Move the head to `seekTo` (a cylinder) before the next request: SCAN's sweep to the edge. */
export interface HeadSeek {
  /** The cylinder to move the head to. */
  seekTo: number;
}

/** One item of a dispatch answer: a request (view or id), or a head movement. */
export type IoDispatch = IoRequestView | number | HeadSeek;

/** What every hook receives. */
export interface IoContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** The host's disks, by index. */
  readonly disks: readonly DiskView[];
  /** Every VM seen so far, by index (sparse: VMs appear with their first request). */
  readonly vms: readonly IoVmView[];
  /** The live request with this id (queued, dispatched or started), or undefined. */
  request(id: number): IoRequestView | undefined;
}

/** The hooks of an I/O policy. Every one is optional. */
export interface IoHooks<C> {
  /** A request reached the scheduler (past the kernel's `io.max` throttling): remember it. */
  submitted?(ctx: IoContext<C>, request: IoRequestView): void;
  /**
   * A disk is idle and requests are queued for it: name the next request, or several (they fill
   * the disk's queue and are served in order), optionally after head movements; null to leave the
   * disk idle until the next instant. Without this hook, each disk serves its requests in
   * submission order.
   */
  dispatch?(
    ctx: IoContext<C>,
    disk: DiskView,
  ): IoDispatch | readonly IoDispatch[] | null | undefined;
  /** A request started on its disk. */
  started?(ctx: IoContext<C>, request: IoRequestView): void;
  /** A request completed (`serviceNs`: how long the disk took, from its start). */
  completed?(ctx: IoContext<C>, request: IoRequestView, serviceNs: number): void;
  /** A VM appeared (with its first request, or at a policy's start). */
  vmAdded?(ctx: IoContext<C>, vm: IoVmView): void;
  /** A VM's weight or limits changed (the view already holds the new values). */
  vmChanged?(ctx: IoContext<C>, vm: IoVmView): void;
  /** A VM was removed. */
  vmRemoved?(ctx: IoContext<C>, vm: IoVmView): void;
}

/** What an I/O policy's `create` receives. */
export interface IoSetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** The host's disks. */
  readonly disks: readonly DiskView[];
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/** The declaration of an I/O policy, given to {@linkcode defineIoPolicy}. */
export interface IoPolicySpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /** Creates the policy's state and returns its hooks. */
  create(setup: IoSetup<ConfigOf<S>>): IoHooks<ConfigOf<S>>;
}

/** An I/O policy: what an I/O policy module exports by default. */
export interface IoPolicy extends PolicyDefinition {
  /** Always `io`. */
  readonly domain: "io";
}

/**
 * Defines an I/O policy. The result is the module's default export.
 *
 * @example Shortest seek time first, in a dozen lines
 * ```ts
 * import { defineIoPolicy, type IoRequestView } from "./mod.ts";
 *
 * export default defineIoPolicy({
 *   name: "my-sstf",
 *   create() {
 *     const queued = new Set<IoRequestView>();
 *     return {
 *       submitted(_ctx, request) {
 *         queued.add(request);
 *       },
 *       dispatch(_ctx, disk) {
 *         let best: IoRequestView | undefined;
 *         for (const r of queued) {
 *           if (r.disk !== disk) continue;
 *           const distance = Math.abs(r.cylinder - disk.head);
 *           if (best === undefined || distance < Math.abs(best.cylinder - disk.head)) best = r;
 *         }
 *         if (best !== undefined) queued.delete(best);
 *         return best;
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function defineIoPolicy<S extends Record<string, Param<unknown>> = Record<never, never>>(
  spec: IoPolicySpec<S>,
): IoPolicy {
  return {
    apiVersion: API_VERSION,
    domain: "io",
    name: spec.name,
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const infos = (message.host.disks ?? []) as DiskInfo[];
      const disks = infos.map((info, index) => new DiskView(index, info));
      const rng = new Rng(message.seed);
      const hooks = spec.create({ config, disks, rng });
      const handler = new IoHandler(hooks, config, disks, rng);
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function"
      );
      if (hooks.dispatch === undefined) names.push("dispatch");
      return { handler, result: { name: spec.name, config: json, hooks: names } };
    },
  };
}

class IoHandler<C> implements PolicyHandler, IoContext<C> {
  now = 0;
  readonly rng: Rng;
  readonly config: C;
  readonly disks: readonly DiskView[];
  readonly vms: IoVmView[] = [];
  #live = new LiveById<IoRequestView>();
  #hooks: IoHooks<C>;
  #reply = new ReplyWriter();
  /** The default per-disk FIFOs of a policy without a `dispatch` hook. */
  #fifos: Fifo<IoRequestView>[] | undefined;

  constructor(hooks: IoHooks<C>, config: C, disks: readonly DiskView[], rng: Rng) {
    this.#hooks = hooks;
    this.config = config;
    this.disks = disks;
    this.rng = rng;
    if (hooks.dispatch === undefined) this.#fifos = disks.map(() => new Fifo<IoRequestView>());
  }

  request(id: number): IoRequestView | undefined {
    return this.#live.get(id);
  }

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    for (let i = 0; i < batch.length;) {
      const op = nums[i]!, a = i + 3;
      this.now = nums[i + 1]!;
      i = a + nums[i + 2]!;
      switch (op) {
        case IO_OP.SUBMIT: {
          const deadline = nums[a + 8]!;
          const request = new IoRequestView(
            nums[a]!,
            this.vms[nums[a + 1]!]!,
            this.disks[nums[a + 2]!]!,
            {
              write: nums[a + 3] === 1,
              lba: nums[a + 4]!,
              bytes: nums[a + 5]!,
              cylinder: nums[a + 6]!,
              submittedNs: nums[a + 7]!,
              deadlineNs: deadline < 0 ? Infinity : deadline,
            },
          );
          this.#live.add(request);
          if (nums[a + 9] === 1) {
            request.status = "started";
            request.disk.active = request;
            hooks.started?.(this, request);
            break;
          }
          this.#fifos?.[request.disk.index]?.push(request);
          hooks.submitted?.(this, request);
          break;
        }
        case IO_OP.STARTED: {
          const request = this.#live.get(nums[a]!);
          if (request === undefined) break;
          request.status = "started";
          request.disk.active = request;
          hooks.started?.(this, request);
          break;
        }
        case IO_OP.COMPLETE: {
          const request = this.#live.get(nums[a]!);
          if (request === undefined) break;
          this.#live.delete(request);
          request.status = "done";
          const disk = request.disk;
          if (disk.active === request) disk.active = null;
          this.#moveHead(disk, nums[a + 2]!);
          hooks.completed?.(this, request, nums[a + 3]!);
          break;
        }
        case IO_OP.DISPATCH: {
          const disk = this.disks[nums[a]!]!;
          this.#moveHead(disk, nums[a + 1]!);
          this.#answerDispatch(disk);
          break;
        }
        case IO_OP.VM_ADD:
        case IO_OP.VM_PARAMS: {
          const spec = batch.objs[nums[a]!] as IoVmSpec;
          let vm = this.vms[spec.index];
          const added = vm === undefined || op === IO_OP.VM_ADD;
          if (vm === undefined) vm = this.vms[spec.index] = new IoVmView(spec.index, spec.id);
          vm.weight = spec.weight;
          vm.max = { ...spec.max };
          if (added) hooks.vmAdded?.(this, vm);
          else hooks.vmChanged?.(this, vm);
          break;
        }
        case IO_OP.VM_REMOVE: {
          const vm = this.vms[nums[a]!];
          if (vm === undefined) break;
          vm.alive = false;
          hooks.vmRemoved?.(this, vm);
          break;
        }
      }
    }
    return reply;
  }

  #moveHead(disk: DiskView, head: number): void {
    if (head > disk.head) disk.direction = "up";
    else if (head < disk.head) disk.direction = "down";
    disk.head = head;
  }

  #answerDispatch(disk: DiskView): void {
    const reply = this.#reply;
    if (this.#fifos !== undefined) {
      const fifo = this.#fifos[disk.index]!;
      let next = fifo.shift();
      while (next !== undefined && next.status !== "queued") next = fifo.shift();
      if (next === undefined) reply.begin(0);
      else reply.begin(1), this.#push(next);
      return;
    }
    const answer = this.#hooks.dispatch!(this, disk);
    if (answer === null || answer === undefined) {
      reply.begin(0);
    } else if (Array.isArray(answer)) {
      reply.begin(answer.length);
      for (const item of answer as readonly IoDispatch[]) this.#push(item);
    } else {
      reply.begin(1);
      this.#push(answer as IoDispatch);
    }
  }

  #push(item: IoDispatch): void {
    if (typeof item === "number") {
      const request = this.#live.get(item);
      if (request !== undefined && request.status === "queued") request.status = "dispatched";
      this.#reply.push(item);
    } else if (item instanceof IoRequestView) {
      if (item.status === "queued") item.status = "dispatched";
      this.#reply.push(item.id);
    } else {
      const cylinder = Number((item as HeadSeek)?.seekTo);
      // A malformed seek is sent as NaN, which the kernel rejects with a clear reason.
      this.#reply.push(Number.isInteger(cylinder) && cylinder >= 0 ? -(cylinder + 1) : NaN);
    }
  }
}
