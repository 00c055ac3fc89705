/**
 * The memory policy SDK: {@linkcode defineMemoryPolicy}, the hooks a memory policy writes
 * (`hooks.ts`) and the views it reads (`views.ts`).
 *
 * A memory policy decides which resident page gives up its host frame when a fault finds none
 * free (`victim`), which pages to reclaim in a batch (`reclaim`, when free frames fall below the
 * low watermark or a VM is over its balloon target) and how many frames each VM may hold
 * (`balance`, periodic, setting balloon targets the kernel enforces). The kernel validates every
 * answer.
 *
 * Page references do not cost one message each. The kernel tells the policy which frames were
 * referenced since its last batch (`touched`: each frame once, in order of last reference, which
 * is all exact LRU needs), and the SDK keeps a `referenced` bit per frame, set on every reference
 * and cleared by the policy, which is all CLOCK needs. Policies that need neither say
 * `touches: false` and the kernel skips the work.
 *
 * @module
 */

import { Rng } from "../../engine/rng.ts";
import { ConfigError, type ConfigOf, type Param, resolveConfig } from "../params.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../../protocol/definition.ts";
import { DEFAULT_BALANCE_NS } from "../../protocol/ops.ts";
import type { MemoryHooks } from "./hooks.ts";
import { FrameTable } from "./views.ts";
import { MemoryHandler } from "./_handler.ts";

export { DEFAULT_BALANCE_NS, PAGE_BYTES } from "../../protocol/ops.ts";
export type { Balloon, Fault, MemoryContext, MemoryHooks } from "./hooks.ts";
export { FrameTable, MemoryVmView } from "./views.ts";
export { FrameList } from "./frame_list.ts";

/** What a memory policy's `create` receives. */
export interface MemorySetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** The host's frames (the same table the hooks see as `ctx.frames`). */
  readonly frames: FrameTable;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/** The declaration of a memory policy, given to {@linkcode defineMemoryPolicy}. */
export interface MemoryPolicySpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /**
   * Whether the policy needs reference information (`touched`, `frames.referenced`); default
   * true. FIFO and OPT do not, and say false so the kernel skips the work.
   */
  touches?: boolean;
  /**
   * Whether the policy needs the future references (`MemoryVmView.future`, `nextUse`). The run
   * refuses to start (exit 2, naming the place) when the workload does not make them known.
   */
  future?: boolean;
  /**
   * The balancing period in ns for the `balance` hook (default {@linkcode DEFAULT_BALANCE_NS},
   * 100 ms), or a function of the config. Balancing falls on its multiples. A period below the
   * host's minimum (`host.memory.minBalance`, default 100 µs) is refused at start (`invalid`,
   * `balance-too-short`).
   */
  balanceNs?: number | ((config: ConfigOf<S>) => number);
  /**
   * Creates the policy's state and returns its hooks.
   *
   * @param setup The resolved configuration, the host's frames, the seeded PRNG.
   * @returns The hooks.
   */
  create(setup: MemorySetup<ConfigOf<S>>): MemoryHooks<ConfigOf<S>>;
}

/** A memory policy: what a memory policy module exports by default. */
export interface MemoryPolicy extends PolicyDefinition {
  /** Always `memory`. */
  readonly domain: "memory";
}

/**
 * Defines a memory policy. The result is the module's default export.
 *
 * @param spec The policy's name, parameters, needs (`touches`, `future`), balancing period and
 *   `create`.
 * @returns The policy definition.
 *
 * @example Least recently used, in a dozen lines
 * ```ts
 * import { defineMemoryPolicy, FrameList } from "./mod.ts";
 *
 * export default defineMemoryPolicy({
 *   name: "my-lru",
 *   create({ frames }) {
 *     const recency = new FrameList(frames); // least recently used first
 *     return {
 *       loaded(_ctx, frame) {
 *         recency.push(frame);
 *       },
 *       touched(_ctx, touched) {
 *         for (let i = 0; i < touched.length; i++) recency.push(touched[i]!);
 *       },
 *       evicted(_ctx, frame) {
 *         recency.remove(frame);
 *       },
 *       victim(_ctx, fault) {
 *         return recency.first(fault.scope);
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function defineMemoryPolicy<
  S extends Record<string, Param<unknown>> = Record<never, never>,
>(spec: MemoryPolicySpec<S>): MemoryPolicy {
  return {
    apiVersion: API_VERSION,
    domain: "memory",
    name: spec.name,
    params: spec.config ?? {},
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const count = Number(message.host.frames);
      if (!Number.isInteger(count) || count < 1) {
        throw new Error(`Policy ${spec.name}: the host has no frames (host.frames = ${count})`);
      }
      const unknown = message.host.futureUnknown;
      if (spec.future === true && typeof unknown === "string") {
        throw new ConfigError(
          `Policy ${spec.name}: needs the future page references, but ${unknown}; expected "refs" for every VM with memory`,
        );
      }
      const frames = new FrameTable(count);
      const rng = new Rng(message.seed);
      const hooks = spec.create({ config, frames, rng });
      const balanceNs = typeof spec.balanceNs === "function"
        ? spec.balanceNs(config)
        : spec.balanceNs ?? DEFAULT_BALANCE_NS;
      const touches = spec.touches ?? true;
      const handler = new MemoryHandler(hooks, config, frames, rng, touches);
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function" && key !== "touched"
      );
      for (const always of ["victim", "reclaim"]) if (!names.includes(always)) names.push(always);
      if (touches) names.push("touched");
      if (spec.future === true) names.push("future");
      return {
        handler,
        result: { name: spec.name, config: json, hooks: names, tickNs: balanceNs },
      };
    },
  };
}
