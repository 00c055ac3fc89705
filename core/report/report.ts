/**
 * The report format `hyperhook.report/v1`: what a run produced. Times are integer nanoseconds.
 *
 * @module
 */

import type { Latency } from "../engine/histogram.ts";

export type { Latency } from "../engine/histogram.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Incident, PolicyInfo } from "../kernel/slot.ts";
import type { DatacenterReport } from "../datacenter/report.ts";

/**
 * The schema identifier every report carries.
 *
 * @example
 * ```ts
 * import { REPORT_SCHEMA } from "./report.ts";
 *
 * const report = JSON.parse('{"schema":"hyperhook.report/v1"}');
 * console.assert(report.schema === REPORT_SCHEMA);
 * ```
 */
export const REPORT_SCHEMA = "hyperhook.report/v1";

/** A policy as the report names it. */
export interface ReportPolicy extends PolicyInfo {
  /** Whether it was ejected during the run (its fallback took over, at least for a while). */
  ejected: boolean;
  /** How many times it was restarted after an ejection (`--restart N`). */
  restarts: number;
}

/** CPU figures of a VM. */
export interface VmCpuReport {
  /** How many vCPUs it has. */
  vcpus: number;
  /** CPU time received (all vCPUs). */
  runNs: number;
  /** Time runnable but not running (all vCPUs): the textbook waiting time. */
  waitNs: number;
  /** When its last vCPU finished, or null if it did not finish. */
  finishNs: number | null;
  /** Its fraction of the host's CPU capacity over the run. */
  share: number;
  /** Its weighted max-min fair share of the host given its demand (same unit as `share`). */
  entitlement: number;
  /** How many times its vCPUs were switched in on a pCPU that last ran another vCPU. */
  switches: number;
  /** Work its program asked for (utilisation curves and traces), or null. */
  demandNs: number | null;
  /** Scheduling latency (runnable to running) of its vCPUs. */
  latencyNs: Latency;
  /**
   * Counters the CPU policy keeps for this VM (such as RTDS's `deadlineMisses`), when it declared
   * any.
   */
  counters?: Record<string, number>;
}

/** Memory figures of a VM (the memory domain fills them in). */
export interface VmMemoryReport {
  /** Page references issued. */
  refs: number;
  /** Page faults, counting first loads. */
  faults: number;
  /** The most frames it held at once. */
  residentPeak: number;
  /** Further figures the memory domain reports (hit ratio, balloon target, ...). */
  [key: string]: unknown;
}

/** I/O figures of a VM (the I/O domain fills them in). */
export interface VmIoReport {
  /** Requests submitted. */
  requests: number;
  /** Requests completed. */
  completed: number;
  /** Bytes transferred. */
  bytes: number;
  /** Request latency (submission to completion). */
  latencyNs: Latency;
  /** Requests that completed after their deadline, or were unfinished past it at the end. */
  deadlineMisses?: number;
  /** Time its requests were held back by its `io.max` limits. */
  throttledNs?: number;
  /** Its cgroup `io.weight` at the end (1..10000). */
  weight?: number;
  /** Its cgroup `io.max` at the end: bytes and requests per second, 0 for no limit. */
  max?: { rbps: number; wbps: number; riops: number; wiops: number };
  /** Further figures the I/O domain reports. */
  [key: string]: unknown;
}

/** One VM's figures. */
export interface VmReport {
  /** The VM's id. */
  id: string;
  /** CPU. */
  cpu: VmCpuReport;
  /** Memory. */
  memory: VmMemoryReport;
  /** I/O. */
  io: VmIoReport;
}

/** The host's figures. */
export interface HostReport {
  /** CPU. */
  cpu: {
    /** How many pCPUs. */
    pcpus: number;
    /** Busy time over capacity. */
    utilization: number;
    /** Total switches. */
    switches: number;
    /** Jain's index over share/entitlement of the VMs that wanted CPU. */
    fairness: number;
    /** Mean wait per VM (ns). */
    meanWaitNs: number;
    /** Scheduling latency over all vCPUs. */
    latencyNs: Latency;
  };
  /** Memory. */
  memory: { frames: number; faults: number; evictions: number; [key: string]: unknown };
  /** Disks. */
  disks: {
    id: string;
    requests: number;
    seekCylinders: number;
    busyNs: number;
    /** Requests that completed after their deadline, or were unfinished past it at the end. */
    deadlineMisses?: number;
    [key: string]: unknown;
  }[];
}

/** What a run produced. */
export interface Report {
  /** Always `hyperhook.report/v1`. */
  schema: typeof REPORT_SCHEMA;
  /** The workload's name. */
  workload: string;
  /** The seed. */
  seed: number;
  /** Simulated time covered. */
  simulatedNs: number;
  /** Wall-clock time the run took. */
  wallMs: number;
  /** The policy asked for in each domain. */
  policies: Partial<Record<Domain, ReportPolicy>>;
  /** Per-VM figures, in workload order. */
  vms: VmReport[];
  /** Host figures. */
  host: HostReport;
  /** Every ejection, in order. */
  incidents: Incident[];
  /** sha256 of the canonical decision log. */
  eventsHash: string;
  /** A datacenter run's figures (`hyperhook.datacenter/v1` workloads only). */
  datacenter?: DatacenterReport;
  /**
   * The version of the decision log's encoding that `eventsHash` hashes (`LOG_ENCODING` of
   * `core/engine/decision_log.ts`): hashes of different versions do not compare. Version 1, six
   * float64 per record, came before this field.
   */
  eventsHashEncoding: number;
}

/**
 * Weighted max-min fair allocation ("water filling"): splits `capacity` among claimants in
 * proportion to `weights`, never giving one more than its `demands`.
 *
 * @example
 * ```ts
 * import { waterFill } from "./report.ts";
 * const shares = waterFill(1, [1, 1], [0.2, 1]);
 * console.assert(Math.abs(shares[1]! - 0.8) < 1e-12);
 * ```
 */
export function waterFill(capacity: number, weights: number[], demands: number[]): number[] {
  const shares = demands.map(() => 0);
  let open = demands.map((demand, i) => demand > 0 && weights[i]! > 0 ? i : -1).filter((i) =>
    i >= 0
  );
  let left = capacity;
  while (open.length > 0 && left > 1e-15) {
    const total = open.reduce((sum, i) => sum + weights[i]!, 0);
    const satisfied = open.filter((i) => demands[i]! - shares[i]! <= left * weights[i]! / total);
    if (satisfied.length === 0) {
      for (const i of open) shares[i]! += left * weights[i]! / total;
      break;
    }
    for (const i of satisfied) {
      left -= demands[i]! - shares[i]!;
      shares[i] = demands[i]!;
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return shares;
}

/** Jain's fairness index of `values` (1 = perfectly even). */
export function jain(values: number[]): number {
  if (values.length === 0) return 1;
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}
