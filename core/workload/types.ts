/**
 * The workload format `hyperhook.workload/v1` as TypeScript types: what a validated workload
 * holds. Durations are integer nanoseconds here; in JSON they are strings such as "24ms".
 *
 * @module
 */

import type { DiskSpec } from "./disk_specs.ts";
import type { IoParamsChange, IoStepSpec, VmIoWorkload } from "./io_types.ts";

/** A policy and its configuration, as in `policies.cpu`. */
export interface WorkloadPolicy {
  /** A built-in name, a path, or an `npm:`, `https:` or `jsr:` specifier. */
  use: string;
  /** The policy's configuration. */
  config: Record<string, unknown>;
}

/** One step of a vCPU program: exactly one field is set. */
export interface ProgramStep {
  /** Run for this long (declared to policies: SJF and SRTF use it). */
  run?: number;
  /** Sleep (blocked) for this long. */
  sleep?: number;
  /** Issue an I/O request and block until it completes. */
  io?: IoStepSpec;
}

/** Replay of a PlanetLab utilisation trace (one percentage per line, 5 minutes each). */
export interface PlanetlabTrace {
  /** Always `planetlab`. */
  format: "planetlab";
  /** The file (relative paths are relative to the workload file). */
  path: string;
  /** Simulated length of one line (default 300 s, the file's own interval). */
  interval: number;
  /** Demand granularity: every period, utilisation × period of work arrives (default 100 ms). */
  period: number;
  /** First line to replay (0-based). */
  start: number;
  /** How many lines to replay (default: to the end). */
  count?: number;
}

/** How a VM's vCPUs use the CPU: one of `program`, `pattern`, `trace`, `utilization`. */
export interface CpuWorkload {
  /** When the VM arrives. */
  arrive: number;
  /** An explicit program of steps. */
  program?: ProgramStep[];
  /** Repeat the program: `true` forever, or a number of times in all. */
  repeat?: boolean | number;
  /** A seeded generator. */
  pattern?: "cpu-bound" | "interactive" | "bursty";
  /** Generators: mean run burst. */
  run?: number;
  /** Generators: mean sleep. */
  sleep?: number;
  /** Bursty: mean length of a busy or quiet phase. */
  phase?: number;
  /** Bursty: utilisation in busy phases (0..1). */
  busy?: number;
  /** Bursty: utilisation in quiet phases (0..1). */
  quiet?: number;
  /** A measured utilisation curve to replay. */
  trace?: PlanetlabTrace;
  /** An inline utilisation curve in percent, one value per `interval`. */
  utilization?: number[];
  /** Utilisation curves: how long each value holds. */
  interval?: number;
  /** Utilisation curves: demand granularity. */
  period?: number;
}

/** VM parameters that can change while it runs. */
export interface VmParamsChange {
  /** Proportional-share weight, 1..65535. */
  weight?: number;
  /** Cap in percent of one pCPU (0 = none). */
  cap?: number;
  /** Static priority (lower = higher). */
  priority?: number;
  /** Policy-specific parameters. */
  sched?: Record<string, unknown>;
  /** Memory (timeline): the VM's new balloon target in frames, like `xl mem-set`. */
  memory?: { target: number };
  /** I/O (timeline): the VM's new `io.weight` and `io.max` limits. */
  io?: IoParamsChange;
}

/** An explicit page reference written as an object, to mark writes (they dirty the page). */
export interface MemoryRef {
  /** The page number (0-based). */
  page: number;
  /** Whether the reference writes the page. */
  write: boolean;
}

/**
 * How a VM references memory: an explicit reference string (`refs`) or a seeded generator
 * (`pattern`). References are issued while the VM's vCPUs run, `rate` per second of run time.
 */
export interface MemoryWorkload {
  /** An explicit page reference string, issued in order. */
  refs?: (number | MemoryRef)[];
  /** A generator: uniform, zipf, sequential scan, loop, or phase-changing working sets. */
  pattern?: "uniform" | "zipf" | "scan" | "loop" | "phases";
  /** The size of the address space in pages (for refs, default: the highest page + 1). */
  pages?: number;
  /** References per second of vCPU run time (default 1,000,000: one per microsecond). */
  rate: number;
  /** Generators: stop after this many references (default: never). */
  count?: number;
  /** Generators: the fraction of references that write (default 0). */
  writes: number;
  /** Zipf: the exponent (default 0.99). */
  skew: number;
  /** Loop: how many pages the loop covers (default: all). */
  loop?: number;
  /** Phases: the working set's size in pages (default: an eighth of the pages). */
  workingSet?: number;
  /** Phases: how much run time a phase lasts before the working set moves (default 10 ms). */
  phase: number;
  /** The VM's initial balloon target in frames (default: none). */
  target?: number;
  /** The VM's memory weight (shares; default: the VM's weight, filled in by the schema). */
  weight: number;
}

/** The host's memory. */
export interface HostMemoryWorkload {
  /** How many 4 KiB frames the host has. */
  frames: number;
  /** Reclaim in a batch when free frames fall below this many (default 0: only on demand). */
  lowWatermark: number;
  /**
   * Batched reclaim frees frames up to this many (default: low watermark × 1.5, at least + 1, at
   * most `frames`; filled in by the schema).
   */
  highWatermark: number;
  /** Simulated time a fault stalls the faulting vCPU (default 100 µs, reading from swap). */
  faultCost: number;
  /** Extra stall when the victim page is dirty and must be written back first (default 0). */
  writebackCost: number;
  /** The shortest balance period (`balanceNs`) a memory policy may ask for (default 100 µs). */
  minBalance: number;
}

/**
 * Bounds on the CPU policy's decisions, in ns, as Xen bounds its schedulers' (0: none). A slice
 * or a timer below its minimum draws on a small allowance (an occasional remainder passes, a habit
 * is `invalid`); a tick below its minimum is refused at start.
 */
export interface HostCpuWorkload {
  /** The shortest slice (default 10 µs: RTDS's minimum budget). */
  minSlice: number;
  /** The nearest a timer may be asked for, from now (default 10 µs). */
  minTimer: number;
  /** The shortest tick period (`tickNs`, default 100 µs). */
  minTick: number;
}

/** A virtual machine. */
export interface VmWorkload {
  /** Its name. */
  id: string;
  /** How many vCPUs (default 1). */
  vcpus: number;
  /** Proportional-share weight (default 256, Xen's). */
  weight: number;
  /** Cap in percent of one pCPU (default 0 = none). */
  cap: number;
  /** Static priority (default 0; lower = higher). */
  priority: number;
  /** Policy-specific parameters (durations in ns). */
  sched: Record<string, unknown>;
  /** CPU behaviour (absent: the VM uses no CPU). */
  cpu?: CpuWorkload;
  /** Memory behaviour: a reference string or a generator. */
  memory?: MemoryWorkload;
  /** I/O behaviour: weight, limits, and requests, generators or traces. */
  io?: VmIoWorkload;
}

/** The host machine. */
export interface HostWorkload {
  /** How many physical CPUs. */
  pcpus: number;
  /** Bounds on CPU decisions (default {@linkcode HostCpuWorkload}'s defaults). */
  cpu: HostCpuWorkload;
  /** Memory: frames, watermarks and fault costs. */
  memory?: HostMemoryWorkload;
  /** Disks, each with its service-time model. */
  disks?: DiskSpec[];
}

/** A change of a VM's parameters at a given time. */
export interface TimelineChange {
  /** When. */
  at: number;
  /** Which VM (its id). */
  vm: string;
  /** What changes. */
  set: VmParamsChange;
}

/** A validated workload. */
export interface Workload {
  /** Always `hyperhook.workload/v1`. */
  schema: "hyperhook.workload/v1";
  /** Its name (reports carry it). */
  name: string;
  /** What it is, for people. */
  description?: string;
  /** The seed of every random choice (default 1). */
  seed: number;
  /** The host. */
  host: HostWorkload;
  /** Policies per domain (CLI flags override them). */
  policies: { cpu?: WorkloadPolicy; memory?: WorkloadPolicy; io?: WorkloadPolicy };
  /** When to stop (default: when all finite work is done). */
  stopAt?: number;
  /** Parameter changes over time. */
  timeline: TimelineChange[];
  /** The VMs. */
  vms: VmWorkload[];
}
