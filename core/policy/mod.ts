/**
 * The hyperhook policy SDK: everything a policy module imports.
 *
 * A policy is an ordinary TypeScript module whose default export comes from `defineCpuPolicy`
 * (memory and I/O policies have their own `define…` functions). It runs sandboxed; it sees only
 * what its hooks are given and acts only through what its hooks return.
 *
 * @example A first-come, first-served policy
 * ```ts
 * import { defineCpuPolicy } from "./mod.ts";
 *
 * export default defineCpuPolicy({
 *   name: "my-fcfs",
 *   create() {
 *     const queue: number[] = [];
 *     return {
 *       enqueue(_ctx, vcpu) {
 *         queue.push(vcpu.id);
 *       },
 *       dispatch() {
 *         const vcpu = queue.shift();
 *         return vcpu === undefined ? null : { vcpu };
 *       },
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */

export {
  CPU_OP,
  ENQUEUE_REASONS,
  type EnqueueReason,
  MAX_COUNTERS,
  MAX_TIMERS,
  STOP_REASONS,
  type StopReason,
} from "../protocol/ops.ts";
export {
  type CpuContext,
  type CpuHooks,
  type CpuPolicy,
  type CpuPolicySpec,
  type CpuSetup,
  DEFAULT_SLICE_NS,
  DEFAULT_TICK_NS,
  defineCpuPolicy,
  type Dispatch,
  VcpuView,
  VmView,
} from "./cpu.ts";
export { type VcpuStatus, type VmParams, type VmSpec } from "../protocol/payloads.ts";
export {
  type Balloon,
  DEFAULT_BALANCE_NS,
  defineMemoryPolicy,
  type Fault,
  FrameTable,
  type MemoryContext,
  type MemoryHooks,
  type MemoryPolicy,
  type MemoryPolicySpec,
  type MemorySetup,
  MemoryVmView,
} from "./memory.ts";
export { MEMORY_OP, PAGE_BYTES } from "../protocol/ops.ts";
export { type MemoryVmParams, type MemoryVmSpec } from "../protocol/payloads.ts";
export { FrameList } from "./frame_list.ts";
export {
  defineIoPolicy,
  DiskView,
  type HeadSeek,
  type IoContext,
  type IoDispatch,
  type IoHooks,
  type IoPolicy,
  type IoPolicySpec,
  type IoRequestStatus,
  IoRequestView,
  type IoSetup,
  IoVmView,
} from "./io.ts";
export { type DiskInfo, type IoLimits, type IoVmSpec } from "../protocol/payloads.ts";
export { IO_OP } from "../protocol/ops.ts";
export { SortedRequests } from "./io_queue.ts";
export {
  ConfigError,
  type ConfigOf,
  type DurationBounds,
  type NumberBounds,
  type Param,
  param,
  type ParamConstructors,
} from "./params.ts";
export { BurstPredictor, Fifo } from "./helpers.ts";
export { Rng } from "../engine/rng.ts";
export {
  API_VERSION,
  type Domain,
  isPolicyDefinition,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";
export { type Batch, type Reply } from "../protocol/batch.ts";
