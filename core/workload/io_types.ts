/**
 * The I/O part of the workload format, as TypeScript types: what `vms[].io` and `{ "io": … }`
 * program steps hold once validated. Durations are integer nanoseconds here; in JSON they are
 * strings such as "5ms".
 *
 * @module
 */

/**
 * One disk request, as `vms[].io.requests[]` writes it. Exactly one of `cylinder` and `lba` is set.
 *
 * @example
 * ```ts
 * import type { IoRequestSpec } from "./io_types.ts";
 * const textbook: IoRequestSpec = { disk: "d0", cylinder: 98, bytes: 4096, op: "read", at: 0 };
 * ```
 */
export interface IoRequestSpec {
  /** The disk's id (`host.disks[].id`). */
  disk: string;
  /** The cylinder it addresses (textbook workloads; `linear` and `hdd` disks). */
  cylinder?: number;
  /** The first 512-byte block it addresses. */
  lba?: number;
  /** Bytes to transfer (default 4096). */
  bytes: number;
  /** `read` (default) or `write`. */
  op: "read" | "write";
  /** When it is submitted, counted from the VM's arrival (default 0). */
  at: number;
  /** It should complete within this long of its submission (for deadline-miss metrics). */
  deadline?: number;
}

/** A request issued by a `{ "io": … }` program step: the vCPU blocks until it completes. */
export type IoStepSpec = Omit<IoRequestSpec, "at">;

/** A VM's I/O limits (cgroup v2 `io.max`); 0 means no limit. */
export interface IoLimitsSpec {
  /** Read bytes per second. */
  rbps: number;
  /** Write bytes per second. */
  wbps: number;
  /** Read requests per second. */
  riops: number;
  /** Write requests per second. */
  wiops: number;
}

/** A change of a VM's I/O parameters (`timeline[].set.io`): only the fields given change. */
export interface IoParamsChange {
  /** The new proportional weight (`io.weight`), 1..10000. */
  weight?: number;
  /** New `io.max` limits (0 removes one); the limits not named keep their values. */
  max?: Partial<IoLimitsSpec>;
}

/**
 * The size of generated requests in bytes (rounded up to whole 512-byte blocks). A plain number in
 * JSON means `{ dist: "fixed", bytes }`.
 */
export type IoSizeSpec =
  | { dist: "fixed"; bytes: number }
  | { dist: "uniform"; min: number; max: number }
  | { dist: "exponential"; mean: number }
  | { dist: "choice"; bytes: number[]; weights?: number[] };

/**
 * A seeded request generator: random or sequential blocks, open loop at a `rate` or closed loop
 * with `depth` requests outstanding.
 *
 * @example
 * ```ts
 * import type { IoGeneratorSpec } from "./io_types.ts";
 * const reader: IoGeneratorSpec = {
 *   disk: "d0", pattern: "random", count: 1000, depth: 4, arrivals: "poisson", think: 0,
 *   readRatio: 0.7, size: { dist: "fixed", bytes: 4096 }, start: 0,
 * };
 * ```
 */
export interface IoGeneratorSpec {
  /** The disk's id. */
  disk: string;
  /** `random` blocks, or `sequential` ones (each request follows the previous, wrapping). */
  pattern: "random" | "sequential";
  /** How many requests in all (absent: endless, and the workload needs `stopAt`). */
  count?: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Open loop: `poisson` (exponential gaps, default) or `uniform` (equal gaps) arrivals. */
  arrivals: "poisson" | "uniform";
  /** Closed loop: requests kept outstanding (the default, 1, when there is no `rate`). */
  depth?: number;
  /** Closed loop: delay between a completion and the next submission. */
  think: number;
  /** Fraction of reads, 0..1 (default 1). */
  readRatio: number;
  /** Request sizes. */
  size: IoSizeSpec;
  /** When the generator starts, counted from the VM's arrival. */
  start: number;
  /** First block of the region it uses (default 0). */
  from?: number;
  /** End of the region (exclusive; default: the disk's capacity). */
  to?: number;
  /** Each request should complete within this long (for deadline-miss metrics). */
  deadline?: number;
}

/**
 * A block trace to replay: DiskSim's validate format (closed loop, one request at a time, each
 * issued its recorded idle time after the previous completes) or the MSR Cambridge CSV format
 * (open loop at the recorded timestamps).
 */
export interface IoTraceSpec {
  /** `disksim` or `msr`. */
  format: "disksim" | "msr";
  /** The file (relative paths are relative to the workload file). */
  path: string;
  /** The disk to replay on. */
  disk: string;
  /** First record to replay (0-based, after filtering). */
  start: number;
  /** How many records to replay (default: to the end). */
  count?: number;
  /** MSR: keep only this `DiskNumber`. */
  diskNumber?: number;
  /** MSR: keep only this `Hostname`. */
  hostname?: string;
  /**
   * What to do with a block past the disk's end: `error` (default: exit 2 naming the line), `wrap`
   * (modulo the capacity) or `scale` (map the trace's span onto the disk).
   */
  fit: "error" | "wrap" | "scale";
  /** Replay speed: 2 halves every recorded time gap (default 1). */
  speed: number;
  /** Each request should complete within this long (for deadline-miss metrics). */
  deadline?: number;
}

/** A VM's I/O: its cgroup parameters and what it submits. */
export interface VmIoWorkload {
  /** Proportional I/O weight (cgroup `io.weight`), 1..10000, default 100. */
  weight: number;
  /** Limits the kernel enforces (cgroup `io.max`). */
  max: IoLimitsSpec;
  /** Default deadline of its requests (relative to submission), for deadline-miss metrics. */
  deadline?: number;
  /** Explicit requests. */
  requests: IoRequestSpec[];
  /** Generators. */
  generate: IoGeneratorSpec[];
  /** Traces to replay. */
  trace: IoTraceSpec[];
}
