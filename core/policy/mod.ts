/**
 * The hyperhook policy SDK: everything a policy module imports.
 *
 * A policy is an ordinary TypeScript module whose default export comes from `defineCpuPolicy`
 * (memory, I/O and placement policies have their own `define…` functions). It runs sandboxed; it sees only
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
  type CpuContext,
  type CpuHooks,
  type CpuPolicy,
  type CpuPolicySpec,
  type CpuSetup,
  DEFAULT_SLICE_NS,
  DEFAULT_TICK_NS,
  defineCpuPolicy,
  type Dispatch,
  ENQUEUE_REASONS,
  type EnqueueReason,
  MAX_COUNTERS,
  MAX_TIMERS,
  STOP_REASONS,
  type StopReason,
  type VcpuStatus,
  VcpuView,
  type VmParams,
  type VmSpec,
  VmView,
} from "./cpu.ts";
export {
  type Balloon,
  DEFAULT_BALANCE_NS,
  defineMemoryPolicy,
  type Fault,
  FrameTable,
  MEMORY_OP,
  type MemoryContext,
  type MemoryHooks,
  type MemoryPolicy,
  type MemoryPolicySpec,
  type MemorySetup,
  type MemoryVmParams,
  type MemoryVmSpec,
  MemoryVmView,
  PAGE_BYTES,
} from "./memory.ts";
export { FrameList } from "./frame_list.ts";
export {
  defineIoPolicy,
  type DiskInfo,
  DiskView,
  type HeadSeek,
  IO_OP,
  type IoContext,
  type IoDispatch,
  type IoHooks,
  type IoLimits,
  type IoPolicy,
  type IoPolicySpec,
  type IoRequestStatus,
  IoRequestView,
  type IoSetup,
  type IoVmSpec,
  IoVmView,
} from "./io.ts";
export { SortedRequests } from "./io_queue.ts";
export {
  type DatacenterInfo,
  definePlacementPolicy,
  HISTORY_LENGTH,
  type HostTypeInfo,
  HostTypeView,
  HostView,
  type Move,
  PLACEMENT_OP,
  type PlacementContext,
  type PlacementHooks,
  type PlacementPolicy,
  type PlacementPolicySpec,
  type PlacementSetup,
  type PlacementVmSpec,
  PlacementVmView,
  type VmTypeInfo,
  type VmTypeView,
} from "./placement.ts";
export {
  ConfigError,
  type ConfigOf,
  type DurationBounds,
  type NumberBounds,
  type Param,
  param,
  type ParamBounds,
  type ParamConstructors,
} from "./params.ts";
export { BurstPredictor, Fifo } from "./helpers.ts";
export { Rng } from "../engine/rng.ts";
export {
  API_VERSION,
  type Batch,
  type Domain,
  isPolicyDefinition,
  type PolicyDefinition,
  type PolicyHandler,
  type Reply,
  type StartMessage,
  type StartResult,
} from "./protocol.ts";
