/**
 * The hook protocol: the contract between the kernel and any policy host, with no I/O. For
 * runtime authors (a host of policies elsewhere than the built-in sandboxes) and tools that read
 * batches; policy authors import `@hyperhook/hyperhook/policy` instead.
 *
 * - `definition.ts`: what a policy is ({@linkcode PolicyDefinition}), how it starts;
 * - `batch.ts`: the {@linkcode Batch} of one instant's calls, the {@linkcode Reply}, their
 *   writers and the reader that trusts nothing;
 * - `ops.ts`: the opcodes, the reasons and the limits; `payloads.ts`: the JSON payloads;
 * - `runtime.ts`: {@linkcode PolicyRuntime} (where a policy runs, as the kernel sees it) and
 *   {@linkcode PolicyFailure};
 * - `messages.ts`: the words of the refusals, alike under every isolation.
 *
 * @example Answer every dispatch with "nothing to run"
 * ```ts
 * import { API_VERSION, CPU_OP, type PolicyDefinition, ReplyWriter } from "./mod.ts";
 *
 * const idle: PolicyDefinition = {
 *   apiVersion: API_VERSION,
 *   domain: "cpu",
 *   name: "idle",
 *   start: () => {
 *     const reply = new ReplyWriter();
 *     return {
 *       result: { name: "idle", config: {}, hooks: ["dispatch"] },
 *       handler: {
 *         handle(batch) {
 *           reply.clear();
 *           for (let i = 0; i < batch.length; i += 3 + batch.nums[i + 2]!) {
 *             if (batch.nums[i] === CPU_OP.DISPATCH) reply.begin(0);
 *           }
 *           return reply;
 *         },
 *       },
 *     };
 *   },
 * };
 * console.assert(idle.start({ config: {}, seed: 1, host: {} }).result.name === "idle");
 * ```
 *
 * @module
 */

export {
  API_VERSION,
  type Domain,
  isPolicyDefinition,
  type Param,
  type ParamBounds,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "./definition.ts";
export { type Batch, BatchWriter, type Reply, ReplyReader, ReplyWriter } from "./batch.ts";
export {
  CPU_OP,
  DEFAULT_BALANCE_NS,
  DEFAULT_TICK_NS,
  ENQUEUE_REASONS,
  type EnqueueReason,
  IO_OP,
  MAX_COUNTERS,
  MAX_TIMERS,
  MEMORY_OP,
  PAGE_BYTES,
  STOP_REASONS,
  type StopReason,
} from "./ops.ts";
export type {
  DiskInfo,
  IoLimits,
  IoVmSpec,
  MemoryVmParams,
  MemoryVmSpec,
  VcpuStatus,
  VmParams,
  VmSpec,
} from "./payloads.ts";
export {
  asFailure,
  type FailureKind,
  invalidDecision,
  type Isolation,
  ISOLATIONS,
  PolicyFailure,
  type PolicyRuntime,
  type StreamedBatch,
} from "./runtime.ts";
export { describeCall, type HookCall } from "./calls.ts";
export {
  apiVersionMessage,
  BAD_REPLY_MESSAGE,
  BAD_START_MESSAGE,
  NOT_A_POLICY_MESSAGE,
  tooLargeMessage,
  wrongDomainMessage,
} from "./messages.ts";
