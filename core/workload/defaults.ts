/**
 * Defaults of the workload format that the kernel reads too, in a module without the schemas (and
 * zod), so that building a simulation does not load them.
 *
 * @module
 */

import type { HostCpuWorkload } from "./types.ts";

/**
 * The bounds on CPU decisions when a workload sets none (`host.cpu`): slices and timer distances
 * of 10 µs (RTDS's minimum budget and period, the finest Xen schedules), ticks of 100 µs (a tenth
 * of Linux's fastest HZ). No built-in policy goes below them but by an occasional remainder.
 *
 * @example
 * ```ts
 * import { HOST_CPU_DEFAULTS } from "./defaults.ts";
 *
 * console.assert(HOST_CPU_DEFAULTS.minSlice === 10_000);
 * ```
 */
export const HOST_CPU_DEFAULTS: Readonly<HostCpuWorkload> = Object.freeze({
  minSlice: 10_000,
  minTimer: 10_000,
  minTick: 100_000,
});
