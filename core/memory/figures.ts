/**
 * The memory domain's figures at a moment: per VM with memory activity, and for the host.
 *
 * @module
 */

import type { MemoryDomain, MemoryVm } from "./domain.ts";

/** Figures of a VM's memory, for the report. */
export interface MemoryVmFigures {
  /** Page references issued. */
  refs: number;
  /** Page faults, counting first loads. */
  faults: number;
  /** The most frames it held at once. */
  residentPeak: number;
  /** Hits over references, or null when it issued none. */
  hitRatio: number | null;
  /** Frames held at the end. */
  resident: number;
  /** Its balloon target at the end, or null when it had none. */
  target: number | null;
  /** Its pages evicted. */
  evictions: number;
  /** Its dirty pages written back. */
  writebacks: number;
  /** Simulated time its vCPUs spent stalled on faults. */
  stallNs: number;
  [key: string]: unknown;
}

/** Figures of the host's memory, for the report. */
export interface MemoryHostFigures {
  /** Host frames. */
  frames: number;
  /** Faults of all VMs. */
  faults: number;
  /** Pages evicted. */
  evictions: number;
  /** Dirty pages written back. */
  writebacks: number;
  /** Frames freed by batched reclaim (watermark and balloons). */
  reclaimed: number;
  /** The most frames in use at once. */
  usedPeak: number;
  /** Free frames at the end. */
  free: number;
  [key: string]: unknown;
}

/** The memory domain's figures. */
export interface MemoryFigures {
  /** Per VM, by index: undefined for a VM without memory activity. */
  readonly vms: readonly (MemoryVmFigures | undefined)[];
  /** The host's. */
  readonly host: MemoryHostFigures;
}

/**
 * A VM's memory figures.
 *
 * @param vm The VM's memory.
 */
export function memoryVmFigures(vm: MemoryVm): MemoryVmFigures {
  return {
    refs: vm.issued,
    faults: vm.faults,
    residentPeak: vm.residentPeak,
    hitRatio: vm.issued === 0 ? null : (vm.issued - vm.faults) / vm.issued,
    resident: vm.resident,
    target: Number.isFinite(vm.target) ? vm.target : null,
    evictions: vm.evictions,
    writebacks: vm.writebacks,
    stallNs: vm.stallNs,
  };
}

/** The memory figures of a VM without memory activity, on a host with memory. */
export function emptyMemoryVmFigures(): MemoryVmFigures {
  return {
    refs: 0,
    faults: 0,
    residentPeak: 0,
    hitRatio: null,
    resident: 0,
    target: null,
    evictions: 0,
    writebacks: 0,
    stallNs: 0,
  };
}

/**
 * The memory domain's figures now, per VM and for the host.
 *
 * @param domain The domain.
 * @param free Its free frames now.
 */
export function memoryFigures(domain: MemoryDomain, free: number): MemoryFigures {
  return {
    vms: domain.vms.map((vm) => vm === undefined ? undefined : memoryVmFigures(vm)),
    host: {
      frames: domain.frames,
      faults: domain.faults,
      evictions: domain.evictions,
      writebacks: domain.writebacks,
      reclaimed: domain.reclaimed,
      usedPeak: domain.usedPeak,
      free,
    },
  };
}
