/**
 * The I/O domain's figures at a moment: per VM, per disk, and the totals the live dashboard
 * shows.
 *
 * @module
 */

import { Histogram, type Latency, latencyOf } from "../engine/histogram.ts";
import type { Disk, IoVm } from "./model.ts";

/** I/O figures of a VM. */
export interface IoVmFigures {
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
  /** Its cgroup `io.weight` (1..10000). */
  weight?: number;
  /** Its cgroup `io.max`: bytes and requests per second, 0 for no limit. */
  max?: { rbps: number; wbps: number; riops: number; wiops: number };
  /** Further figures the I/O domain reports. */
  [key: string]: unknown;
}

/** Figures of a disk. */
export interface DiskFigures {
  /** The disk's name. */
  id: string;
  /** Requests it served. */
  requests: number;
  /** Total head travel, in cylinders. */
  seekCylinders: number;
  /** Time spent serving requests and moving the head. */
  busyNs: number;
  /** Requests that completed after their deadline, or were unfinished past it at the end. */
  deadlineMisses?: number;
  [key: string]: unknown;
}

/** The I/O domain's figures. */
export interface IoFigures {
  /** Per VM, by index. */
  readonly vms: readonly IoVmFigures[];
  /** Per VM, by index: its requests' latency distribution (for metrics). */
  readonly latencies: readonly Histogram[];
  /** Per disk, in `host.disks` order. */
  readonly disks: readonly DiskFigures[];
  /** Totals over every VM, and each disk's queue, for the live dashboard. */
  live(): Record<string, unknown>;
}

/**
 * The I/O domain's figures now.
 *
 * @param vms The VMs, by index.
 * @param disks The disks.
 * @param nowNs The current simulated time (disks' utilisation is busy time over it).
 */
export function ioFigures(vms: readonly IoVm[], disks: readonly Disk[], nowNs: number): IoFigures {
  return {
    vms: vms.map((vm) => ({
      requests: vm.requests,
      completed: vm.completed,
      bytes: vm.bytes,
      latencyNs: latencyOf(vm.latency),
      deadlineMisses: vm.deadlineMisses,
      throttledNs: vm.throttledNs,
      weight: vm.weight,
      max: { rbps: vm.max.rbps, wbps: vm.max.wbps, riops: vm.max.riops, wiops: vm.max.wiops },
    })),
    latencies: vms.map((vm) => vm.latency),
    disks: disks.map((disk) => ({
      id: disk.id,
      model: disk.model.kind,
      requests: disk.completed,
      seekCylinders: disk.seekCylinders,
      busyNs: disk.busyNs,
      utilization: nowNs > 0 ? disk.busyNs / nowNs : 0,
      deadlineMisses: disk.deadlineMisses,
    })),
    live: () => liveFigures(vms, disks),
  };
}

function liveFigures(vms: readonly IoVm[], disks: readonly Disk[]): Record<string, unknown> {
  let requests = 0, completed = 0, bytes = 0;
  const latency = new Histogram();
  for (const vm of vms) {
    requests += vm.requests, completed += vm.completed, bytes += vm.bytes;
    latency.merge(vm.latency);
  }
  return {
    requests,
    completed,
    bytes,
    latencyNs: latencyOf(latency),
    disks: disks.map((disk) => ({
      id: disk.id,
      queued: disk.queued,
      seekCylinders: disk.seekCylinders,
      busyNs: disk.busyNs,
    })),
  };
}
