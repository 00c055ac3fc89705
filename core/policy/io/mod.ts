/**
 * The I/O policy SDK: {@linkcode defineIoPolicy}, the hooks an I/O policy writes (`hooks.ts`) and
 * the views it reads (`views.ts`).
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

import { Rng } from "../../engine/rng.ts";
import { type ConfigOf, type Param, resolveConfig } from "../params.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../../protocol/definition.ts";
import type { DiskInfo } from "../../protocol/payloads.ts";
import type { IoHooks } from "./hooks.ts";
import { DiskView } from "./views.ts";
import { IoHandler } from "./_handler.ts";

export type { DiskInfo, IoLimits } from "../../protocol/payloads.ts";
export type { HeadSeek, IoContext, IoDispatch, IoHooks } from "./hooks.ts";
export { DiskView, type IoRequestStatus, IoRequestView, IoVmView } from "./views.ts";
export { SortedRequests } from "./sorted_requests.ts";

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
  /**
   * Creates the policy's state and returns its hooks.
   *
   * @param setup The resolved configuration, the host's disks, the seeded PRNG.
   * @returns The hooks.
   */
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
 * @param spec The policy's name, parameters and `create`.
 * @returns The policy definition.
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
    params: spec.config ?? {},
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
