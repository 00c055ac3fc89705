/**
 * The CPU policy SDK: {@linkcode defineCpuPolicy}, the hooks a CPU policy writes (`hooks.ts`) and
 * the views it reads (`views.ts`).
 *
 * A CPU policy decides which runnable vCPU runs on which pCPU, and for how long. Its hooks follow
 * sched_ext: `enqueue` (a vCPU became runnable), `dispatch` (a pCPU needs work), `preempt`
 * (should a vCPU that just woke take a pCPU now?), `tick`, `running`, `stopping`, and the VM
 * hooks. Hooks that answer (`dispatch`, `preempt`, `tick`) return their decision; the others only
 * inform. The kernel validates every decision.
 *
 * @example Lottery scheduling, with each vCPU's tickets in its typed slot
 * ```ts
 * import { defineCpuPolicy, type VcpuView } from "./mod.ts";
 *
 * export default defineCpuPolicy({
 *   name: "lottery",
 *   create({ rng }) {
 *     const ready = new Set<VcpuView<{ tickets: number }>>();
 *     return {
 *       vcpuSlot: (_ctx, vcpu) => ({ tickets: vcpu.vm.weight }),
 *       enqueue: (_ctx, vcpu) => void ready.add(vcpu),
 *       dispatch() {
 *         let total = 0;
 *         for (const vcpu of ready) total += vcpu.slot.tickets;
 *         let draw = rng.next() * total;
 *         for (const vcpu of ready) {
 *           draw -= vcpu.slot.tickets;
 *           if (draw < 0) {
 *             ready.delete(vcpu);
 *             return { vcpu, sliceNs: 10_000_000 };
 *           }
 *         }
 *         return null;
 *       },
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */

import { Rng } from "../../engine/rng.ts";
import { ConfigError, type ConfigOf, type Param, resolveConfig } from "../params.ts";
import { didYouMean } from "../../engine/suggest.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../../protocol/definition.ts";
import { DEFAULT_TICK_NS, MAX_COUNTERS } from "../../protocol/ops.ts";
import type { VmParams } from "../../protocol/payloads.ts";
import type { CpuHooks } from "./hooks.ts";
import { CpuHandler } from "./_handler.ts";

export {
  DEFAULT_TICK_NS,
  type EnqueueReason,
  MAX_COUNTERS,
  MAX_TIMERS,
  type StopReason,
} from "../../protocol/ops.ts";
export type { VcpuStatus, VmParams } from "../../protocol/payloads.ts";
export { type CpuContext, type CpuHooks, DEFAULT_SLICE_NS, type Dispatch } from "./hooks.ts";
export { VcpuView, VmView } from "./views.ts";

/** What a policy's `create` receives. */
export interface CpuSetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** How many pCPUs the host has. */
  readonly pcpus: number;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/**
 * The declaration of a CPU policy, given to {@linkcode defineCpuPolicy}. `S` declares its
 * parameters, `V` is the type of its vCPUs' `slot` (what its `vcpuSlot` hook returns).
 */
export interface CpuPolicySpec<S extends Record<string, Param<unknown>>, V = undefined> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /**
   * The tick period in ns for the `tick` hook (default {@linkcode DEFAULT_TICK_NS}, 10 ms), or a
   * function of the config. Ticks fall on its multiples. A period below the host's minimum
   * (`host.cpu.minTick`, default 100 µs) is refused at start (`invalid`, `tick-too-short`).
   */
  tickNs?: number | ((config: ConfigOf<S>) => number);
  /** Names of per-VM counters the policy keeps with `ctx.count` (such as `deadlineMisses`). */
  counters?: readonly string[];
  /**
   * The keys of a VM's `sched` parameters the policy reads (RTDS's `period`, `budget`,
   * `extratime`), as `config` declares its parameters: a VM with any other key is refused, naming
   * it, at start (the run stops before it begins) and whenever a VM appears or changes. Without
   * it, `sched` is not checked.
   */
  sched?: readonly string[];
  /**
   * Checks one VM's parameters (`sched` above all); throw a `ConfigError` (from the SDK) naming
   * the VM to refuse them. Called at start for every VM the kernel knows (a refusal stops the run
   * before it begins, as a bad config does), and again whenever a VM appears or its parameters
   * change (a refusal then ejects the policy, with the message in the incident).
   *
   * @param id The VM's name.
   * @param params Its parameters (`sched` durations already in ns).
   * @throws {ConfigError} To refuse them.
   */
  checkVm?(id: string, params: VmParams): void;
  /**
   * Creates the policy's state and returns its hooks.
   *
   * @param setup The resolved configuration, the host's pCPU count, the seeded PRNG.
   * @returns The hooks.
   */
  create(setup: CpuSetup<ConfigOf<S>>): CpuHooks<ConfigOf<S>, V>;
}

/** A CPU policy: what a CPU policy module exports by default. */
export interface CpuPolicy extends PolicyDefinition {
  /** Always `cpu`. */
  readonly domain: "cpu";
}

/**
 * Defines a CPU policy. The result is the module's default export.
 *
 * @param spec The policy's name, parameters, tick period, counters and `create`.
 * @returns The policy definition.
 * @throws {Error} When `counters` are not distinct names such as `deadlineMisses`, or too many.
 *
 * @example A round-robin policy in a dozen lines
 * ```ts
 * import { defineCpuPolicy, param } from "./mod.ts";
 *
 * export default defineCpuPolicy({
 *   name: "my-rr",
 *   config: { quantum: param.duration("10ms") },
 *   create({ config }) {
 *     const queue: number[] = [];
 *     return {
 *       enqueue(_ctx, vcpu) {
 *         queue.push(vcpu.id);
 *       },
 *       dispatch() {
 *         const vcpu = queue.shift();
 *         return vcpu === undefined ? null : { vcpu, sliceNs: config.quantum };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function defineCpuPolicy<
  S extends Record<string, Param<unknown>> = Record<never, never>,
  V = undefined,
>(
  spec: CpuPolicySpec<S, V>,
): CpuPolicy {
  const counters = spec.counters ?? [];
  if (
    counters.length > MAX_COUNTERS || new Set(counters).size !== counters.length ||
    !counters.every((name) => COUNTER_NAME.test(name))
  ) {
    throw new Error(
      `Policy ${spec.name} counters: expected at most ${MAX_COUNTERS} distinct names such as "deadlineMisses", got ${
        JSON.stringify(counters)
      }`,
    );
  }
  return {
    apiVersion: API_VERSION,
    domain: "cpu",
    name: spec.name,
    params: spec.config ?? {},
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const pcpus = Number(message.host.pcpus);
      const rng = new Rng(message.seed);
      const known = message.host.vms;
      const checkVm = withSchedKeys(spec.name, spec.sched, spec.checkVm);
      if (checkVm !== undefined && Array.isArray(known)) {
        for (const vm of known as { id: string; params: VmParams }[]) checkVm(vm.id, vm.params);
      }
      const hooks = spec.create({ config, pcpus, rng });
      const tickNs = typeof spec.tickNs === "function"
        ? spec.tickNs(config)
        : spec.tickNs ?? DEFAULT_TICK_NS;
      const counters = [...(spec.counters ?? [])];
      const handler = new CpuHandler(hooks, config, pcpus, rng, counters, checkVm);
      // The kernel hears of the hooks it calls (`vcpuSlot` is the SDK's own).
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function" && key !== "vcpuSlot"
      );
      if (hooks.dispatch === undefined) names.push("dispatch");
      // A policy with timers or counters takes the SYNC query that carries them to the kernel.
      if (hooks.timer !== undefined || counters.length > 0) names.push("sync");
      const result: StartResult = { name: spec.name, config: json, hooks: names, tickNs };
      if (counters.length > 0) result.counters = counters;
      return { handler, result };
    },
  };
}

/** What a counter name looks like: a JSON-friendly identifier. */
const COUNTER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The policy's `checkVm`, preceded by the check of `sched` keys against those it declares. */
function withSchedKeys(
  policy: string,
  declared: readonly string[] | undefined,
  checkVm: ((id: string, params: VmParams) => void) | undefined,
): ((id: string, params: VmParams) => void) | undefined {
  if (declared === undefined) return checkVm;
  return (id, params) => {
    for (const key of Object.keys(params.sched ?? {})) {
      if (declared.includes(key)) continue;
      throw new ConfigError(
        `Policy ${policy}: VM ${id} sched.${key}: unknown key${
          didYouMean(key, declared)
        }; expected ${declared.length === 0 ? "no sched keys" : `one of ${declared.join(", ")}`}`,
      );
    }
    checkVm?.(id, params);
  };
}
