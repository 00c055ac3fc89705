/**
 * The opcodes of the hook protocol, the reasons they carry and the limits the kernel enforces:
 * what a call in a batch means, domain by domain. A call is
 * `[opcode, atNs, argumentCount, ...arguments]`; opcodes of 20 and above are queries (they end
 * the batch and expect an answer), the others notifications.
 *
 * @module
 */

// The CPU domain.

/**
 * CPU opcodes of the wire protocol. Queries are 20 and above.
 *
 * @example
 * ```ts
 * import { CPU_OP } from "./ops.ts";
 *
 * console.assert(CPU_OP.DISPATCH === 20 && CPU_OP.ENQUEUE < 20); // a query, a notification
 * ```
 */
export const CPU_OP = {
  /** `[vmIndex]`, objs: `VmSpec` (payloads.ts): a VM appeared. */
  VM_ADD: 1,
  /** `[objIndex]`, objs: `VmParams` (payloads.ts): a VM's parameters changed. */
  VM_PARAMS: 2,
  /** `[vmIndex]`: a VM was removed. */
  VM_REMOVE: 3,
  /** `[vcpu, reason, burstNs, remainingNs]`: a vCPU became runnable. */
  ENQUEUE: 10,
  /** `[vcpu, pcpu, sliceNs]`: a vCPU started running. */
  RUNNING: 11,
  /** `[vcpu, pcpu, reason, ranNs, burstNs]`: a vCPU stopped running. */
  STOPPING: 12,
  /**
   * Query `[pcpu]` → `[vcpu, sliceNs]*`: a pCPU needs work. A pair `[-(q + 1), 0]` sends the pairs
   * after it to pCPU `q`'s local queue instead (sched_ext's `SCX_DSQ_LOCAL_ON | cpu`).
   */
  DISPATCH: 20,
  /** Query `[vcpu]` → `[]` or `[pcpu]`: a vCPU woke; preempt a pCPU for it? */
  PREEMPT: 21,
  /** Query `[pcpu, vcpu]` → `[0|1]`: a tick on a busy pCPU; preempt its vCPU? */
  TICK: 22,
  /** Query `[]` → `[pcpu*]`: a timer the policy asked for is due; pCPUs to preempt. */
  TIMER: 23,
  /**
   * Query `[]` → `[timerCount, atNs*, (vmIndex, counter, delta)*]`: the timers asked for and the
   * counter increments since the last sync. The kernel asks it last in a batch, of policies that
   * take it (`hooks` lists `sync`).
   */
  SYNC: 24,
} as const;

/**
 * The most timers a CPU policy may have pending at once; one more is an invalid decision.
 *
 * @example
 * ```ts
 * import { MAX_TIMERS } from "./ops.ts";
 *
 * console.assert(MAX_TIMERS === 1024);
 * ```
 */
export const MAX_TIMERS = 1024;

/**
 * The most per-VM counters a CPU policy may declare.
 *
 * @example
 * ```ts
 * import { MAX_COUNTERS } from "./ops.ts";
 *
 * // `defineCpuPolicy` refuses more names; the kernel ignores names past this many.
 * console.assert(MAX_COUNTERS === 16);
 * ```
 */
export const MAX_COUNTERS = 16;

/**
 * The period of a CPU policy's `tick` hook when it declares none (or an invalid one).
 *
 * @example
 * ```ts
 * import { DEFAULT_TICK_NS } from "./ops.ts";
 *
 * console.assert(DEFAULT_TICK_NS === 10_000_000); // 10 ms
 * ```
 */
export const DEFAULT_TICK_NS = 10_000_000;

/** Why a vCPU became runnable. */
export type EnqueueReason = "arrive" | "wake" | "preempt" | "slice" | "replay";
/** Why a vCPU stopped running. */
export type StopReason = "slice" | "block" | "done" | "preempt";

/**
 * Enqueue reasons by wire code.
 *
 * @example
 * ```ts
 * import { ENQUEUE_REASONS } from "./ops.ts";
 *
 * console.assert(ENQUEUE_REASONS[1] === "wake");
 * ```
 */
export const ENQUEUE_REASONS: readonly EnqueueReason[] = [
  "arrive",
  "wake",
  "preempt",
  "slice",
  "replay",
];
/**
 * Stop reasons by wire code.
 *
 * @example
 * ```ts
 * import { STOP_REASONS } from "./ops.ts";
 *
 * console.assert(STOP_REASONS[1] === "block");
 * ```
 */
export const STOP_REASONS: readonly StopReason[] = ["slice", "block", "done", "preempt"];

// The memory domain.

/**
 * Memory opcodes of the wire protocol. Queries are 20 and above.
 *
 * @example
 * ```ts
 * import { MEMORY_OP } from "./ops.ts";
 *
 * console.assert(MEMORY_OP.VICTIM === 20 && MEMORY_OP.LOADED < 20); // a query, a notification
 * ```
 */
export const MEMORY_OP = {
  /** `[objIndex]`, objs: `MemoryVmSpec` (payloads.ts): a VM appeared. */
  VM_ADD: 1,
  /** `[objIndex]`, objs: `MemoryVmParams` (payloads.ts): a VM's weight or balloon target changed. */
  VM_PARAMS: 2,
  /** `[vmIndex]`: a VM was removed (its frames were freed before, with `EVICTED`). */
  VM_REMOVE: 3,
  /**
   * `[objIndex]`, objs: `(number[] | null)[]`: VMs' whole reference strings, by VM index (null
   * for VMs not concerned); sent to policies that declare `future: true`.
   */
  FUTURE: 4,
  /** `[frame, vm, page, write]`: a page was loaded into a frame (a fault was served). */
  LOADED: 10,
  /**
   * `[ref, ref, ...]`: frames referenced since the last `TOUCHED`, each once, in order of last
   * reference; `frame` for a clean page, `-1 - frame` for a dirty one.
   */
  TOUCHED: 11,
  /** `[frame]`: the kernel freed a frame on its own (its VM was removed). */
  EVICTED: 12,
  /** `[vm, issued, ...]`: how many references each VM has issued (future-aware policies). */
  PROGRESS: 13,
  /** Query `[vm, page, scope, write]` → `[frame]`: a fault needs a frame; scope -1 = any VM. */
  VICTIM: 20,
  /** Query `[scope, count]` → `[frame]{1,count}`: free up to `count` frames of `scope` (-1 = any). */
  RECLAIM: 21,
  /** Query `[vm, accessed, faults, refs, ...]` → `[vm, target]*`: set balloon targets. */
  BALANCE: 22,
} as const;

/**
 * The size of a page and of a host frame, in bytes.
 *
 * @example
 * ```ts
 * import { PAGE_BYTES } from "./ops.ts";
 *
 * const frames = 4096;
 * console.log(`${(frames * PAGE_BYTES) / 2 ** 20} MiB of host memory`); // 16 MiB
 * ```
 */
export const PAGE_BYTES = 4096;

/**
 * The period of a memory policy's `balance` hook when it declares none (or an invalid one).
 *
 * @example
 * ```ts
 * import { DEFAULT_BALANCE_NS } from "./ops.ts";
 *
 * console.assert(DEFAULT_BALANCE_NS === 100_000_000); // 100 ms
 * ```
 */
export const DEFAULT_BALANCE_NS = 100_000_000;

// The I/O domain.

/**
 * I/O opcodes of the wire protocol. Queries are 20 and above.
 *
 * @example
 * ```ts
 * import { IO_OP } from "./ops.ts";
 *
 * console.assert(IO_OP.DISPATCH === 20 && IO_OP.SUBMIT < 20); // a query, a notification
 * ```
 */
export const IO_OP = {
  /** `[objIndex]`, objs: `IoVmSpec` (payloads.ts): a VM appeared. */
  VM_ADD: 1,
  /** `[objIndex]`, objs: `IoVmSpec` (payloads.ts): a VM's I/O parameters changed. */
  VM_PARAMS: 2,
  /** `[vmIndex]`: a VM was removed. */
  VM_REMOVE: 3,
  /**
   * `[id, vm, disk, write, lba, bytes, cylinder, submittedNs, deadlineNs, started]`: a request
   * reached the scheduler (`deadlineNs` is -1 when the request has none). `started` is 1 only when
   * a new policy takes over: the request is already on its disk, and the policy hears `started`,
   * not `submitted`.
   */
  SUBMIT: 10,
  /** `[id, disk]`: a request started on its disk. */
  STARTED: 11,
  /** `[id, disk, headCylinder, serviceNs]`: a request completed. */
  COMPLETE: 12,
  /**
   * Query `[disk, headCylinder]` → `[item]*`: the disk is idle and requests are queued for it. An
   * item is a request id (`>= 0`), or `-(cylinder + 1)` to move the head to a cylinder first.
   */
  DISPATCH: 20,
} as const;
