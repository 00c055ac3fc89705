/**
 * The defaults and bounds of the workload format, each defined once, in a module without the
 * schemas (and zod): the schemas (`schema.ts`, `io_schema.ts`, the control API's request bodies)
 * declare them with these values, the quick path (`quick.ts`) fills the same ones, and the few
 * domain paths that meet a VM without the section a default belongs to read them here, so that
 * building a simulation does not load zod.
 *
 * @example
 * ```ts
 * import { HOST_CPU_DEFAULTS, VM_DEFAULTS, VM_WEIGHT } from "./defaults.ts";
 *
 * console.assert(HOST_CPU_DEFAULTS.minSlice === 10_000);
 * console.assert(VM_DEFAULTS.weight === 256 && VM_WEIGHT.max === 65535);
 * ```
 *
 * @module
 */

import type { HostCpuWorkload } from "./types.ts";
import type { IoLimitsSpec } from "./io_types.ts";

/** An inclusive range of integers a field may hold. */
export interface IntRange {
  /** The least value. */
  readonly min: number;
  /** The greatest value. */
  readonly max: number;
}

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

/** `host.pcpus` and `vms[].vcpus`: 1 to 4096 (Xen's most pCPUs a host may have). */
export const CPU_COUNT: IntRange = Object.freeze({ min: 1, max: 4096 });

/** A VM's proportional-share weight (`vms[].weight`, `vms[].memory.weight`): 1..65535, Xen's. */
export const VM_WEIGHT: IntRange = Object.freeze({ min: 1, max: 65535 });

/**
 * A VM's CPU parameters when the workload (or `POST /v1/vms`) leaves them out: one vCPU, Xen's
 * weight of 256, no cap, priority 0, no policy-specific parameters.
 *
 * @example
 * ```ts
 * import { VM_DEFAULTS } from "./defaults.ts";
 *
 * console.assert(VM_DEFAULTS.vcpus === 1 && VM_DEFAULTS.cap === 0);
 * ```
 */
export const VM_DEFAULTS: Readonly<
  { vcpus: number; weight: number; cap: number; priority: number }
> = Object.freeze({ vcpus: 1, weight: 256, cap: 0, priority: 0 });

/** A VM's I/O weight (`vms[].io.weight`, cgroup v2's `io.weight`): 1..10000. */
export const IO_WEIGHT: IntRange = Object.freeze({ min: 1, max: 10000 });

/**
 * A VM's I/O parameters when it has no `io` section, or leaves them out: cgroup v2's default
 * weight of 100 and no `io.max` limit (0 is none).
 *
 * @example
 * ```ts
 * import { VM_IO_DEFAULTS } from "./defaults.ts";
 *
 * console.assert(VM_IO_DEFAULTS.weight === 100 && VM_IO_DEFAULTS.max.rbps === 0);
 * ```
 */
export const VM_IO_DEFAULTS: Readonly<{ weight: number; max: Readonly<IoLimitsSpec> }> = Object
  .freeze({
    weight: 100,
    max: Object.freeze({ rbps: 0, wbps: 0, riops: 0, wiops: 0 }),
  });

/**
 * The host's memory settings a workload may leave out (`host.memory`): reclaim only on demand, a
 * fault stalls 100 µs (a read from swap), a dirty victim costs nothing more, and a memory policy
 * may balance as often as every 100 µs. The high watermark's default depends on the low one
 * ({@linkcode defaultHighWatermark}).
 */
export const HOST_MEMORY_DEFAULTS: Readonly<
  { lowWatermark: number; faultCost: number; writebackCost: number; minBalance: number }
> = Object.freeze({
  lowWatermark: 0,
  faultCost: 100_000,
  writebackCost: 0,
  minBalance: 100_000,
});

/**
 * The high watermark when `host.memory.highWatermark` is not given: half as much again as the low
 * one, at least one more, at most every frame.
 *
 * @example
 * ```ts
 * import { defaultHighWatermark } from "./defaults.ts";
 *
 * console.assert(defaultHighWatermark(100, 10) === 15);
 * console.assert(defaultHighWatermark(100, 0) === 1);
 * console.assert(defaultHighWatermark(100, 90) === 100);
 * ```
 *
 * @param frames The host's frames.
 * @param lowWatermark The low watermark (below `frames`).
 * @returns The high watermark, in frames.
 */
export function defaultHighWatermark(frames: number, lowWatermark: number): number {
  return Math.min(frames, Math.max(lowWatermark + 1, Math.ceil(lowWatermark * 1.5)));
}

/**
 * A VM's memory settings it may leave out (`vms[].memory`): one reference per microsecond of run
 * time, no writes, Zipf's exponent 0.99 and phases of 10 ms. Its weight's default is the VM's own
 * weight.
 */
export const MEMORY_DEFAULTS: Readonly<
  { rate: number; writes: number; skew: number; phase: number }
> = Object.freeze({
  rate: 1_000_000,
  writes: 0,
  skew: 0.99,
  phase: 10_000_000,
});

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)$/;
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/**
 * A memory `size` such as "1GiB" in pages of 4 KiB, as the schema and the quick path read it.
 *
 * @param value The `size` field.
 * @returns Its pages, or NaN unless it is a size of a whole number of pages, at least one and
 * below 2^31.
 */
export function sizeInPages(value: unknown): number {
  const match = typeof value === "string" ? SIZE.exec(value) : null;
  const pages = match === null ? NaN : Number(match[1]) * SIZE_UNITS[match[2]!]! / 4096;
  return Number.isInteger(pages) && pages >= 1 && pages < 2 ** 31 ? pages : NaN;
}
