/**
 * The hyperhook policy SDK: everything a policy module imports.
 *
 * A policy is an ordinary TypeScript module whose default export comes from `defineCpuPolicy`
 * (memory, I/O and placement policies have their own `define…` functions). It runs sandboxed; it sees only
 * what its hooks are given and acts only through what its hooks return. One folder per domain:
 * `cpu/`, `memory/`, `io/`, each with its `define…` (`mod.ts`), its hooks (`hooks.ts`), its
 * views (`views.ts`) and the decoder of the kernel's batches (`_handler.ts`). The wire protocol
 * itself (opcodes, batches) is `@hyperhook/hyperhook/protocol`, for runtime authors.
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
  type CpuContext,
  type CpuHooks,
  type CpuPolicy,
  type CpuPolicySpec,
  type CpuSetup,
  DEFAULT_SLICE_NS,
  DEFAULT_TICK_NS,
  defineCpuPolicy,
  type Dispatch,
  type EnqueueReason,
  MAX_COUNTERS,
  MAX_TIMERS,
  type StopReason,
  type VcpuStatus,
  VcpuView,
  type VmParams,
  VmView,
} from "./cpu/mod.ts";
export {
  type Balloon,
  DEFAULT_BALANCE_NS,
  defineMemoryPolicy,
  type Fault,
  FrameList,
  FrameTable,
  type MemoryContext,
  type MemoryHooks,
  type MemoryPolicy,
  type MemoryPolicySpec,
  type MemorySetup,
  MemoryVmView,
  PAGE_BYTES,
} from "./memory/mod.ts";
export {
  defineIoPolicy,
  type DiskInfo,
  DiskView,
  type HeadSeek,
  type IoContext,
  type IoDispatch,
  type IoHooks,
  type IoLimits,
  type IoPolicy,
  type IoPolicySpec,
  type IoRequestStatus,
  IoRequestView,
  type IoSetup,
  IoVmView,
  SortedRequests,
} from "./io/mod.ts";
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
export { API_VERSION, type Domain, type PolicyDefinition } from "../protocol/definition.ts";
