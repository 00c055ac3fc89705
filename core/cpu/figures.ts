/**
 * The CPU domain's figures at a moment: per VM and per pCPU, summed once here for the report,
 * the live state and the HTML report's samples alike.
 *
 * Time is accounted when a vCPU stops, so a vCPU running (or waiting) now has a part not yet in
 * its books: `runNs` and `waitNs` are the books, `runningNs` and `waitingNs` the parts since. A
 * finished run has none (its books are closed at the end).
 *
 * @module
 */

import type { Histogram } from "../engine/histogram.ts";
import type { VcpuStatus, VmParams } from "../protocol/payloads.ts";
import type { CpuDomain } from "./domain.ts";

/** One VM's CPU figures. */
export interface CpuVmFigures {
  /** The VM's index (the same in every domain). */
  readonly index: number;
  /** The VM's name. */
  readonly id: string;
  /** How many vCPUs it has. */
  readonly vcpus: number;
  /** Its parameters now. */
  readonly params: VmParams;
  /** Whether it has arrived. */
  readonly arrived: boolean;
  /** When its last vCPU finished, or null. */
  readonly finishNs: number | null;
  /** When it was removed (live control), or null. */
  readonly removedNs: number | null;
  /** CPU time in the books (all vCPUs). */
  readonly runNs: number;
  /** Wait in the books (all vCPUs). */
  readonly waitNs: number;
  /** CPU time of the runs going on now, not yet in `runNs`. */
  readonly runningNs: number;
  /** Wait of the vCPUs waiting now, not yet in `waitNs`. */
  readonly waitingNs: number;
  /** Switches of its vCPUs. */
  readonly switches: number;
  /** How many times its vCPUs were put on a pCPU (every applied dispatch). */
  readonly dispatches: number;
  /** Work its program asked for up to now (curves and traces), or null. */
  readonly demandNs: number | null;
  /** How many of its vCPUs are in each state. */
  readonly status: Partial<Record<VcpuStatus, number>>;
  /** Scheduling latency of its vCPUs (runnable to running). */
  readonly latency: Histogram;
  /** Counters the CPU policy keeps for it, by name. */
  readonly counters: Readonly<Record<string, number>>;
}

/** The CPU domain's figures. */
export interface CpuFigures {
  /** Per VM, by index. */
  readonly vms: CpuVmFigures[];
  /** Per pCPU: busy time in the books. */
  readonly busyNs: number[];
  /** Per pCPU: the part of the run going on now not yet in `busyNs`. */
  readonly runningNs: number[];
  /** Per pCPU: the VM whose vCPU runs there now, or null. */
  readonly running: (string | null)[];
  /** Switches of every vCPU. */
  readonly switches: number;
  /** Scheduling latency of every vCPU. */
  latency(): Histogram;
}

/**
 * The CPU domain's figures now.
 *
 * @param cpu The CPU domain.
 * @param nowNs The current simulated time.
 */
export function cpuFigures(cpu: CpuDomain, nowNs: number): CpuFigures {
  const vms = cpu.vms.map((vm): CpuVmFigures => {
    let runNs = 0, waitNs = 0, runningNs = 0, waitingNs = 0, switches = 0, dispatches = 0;
    let demandNs: number | null = null;
    const status: Partial<Record<VcpuStatus, number>> = {};
    for (const id of vm.vcpus) {
      const vcpu = cpu.vcpus[id]!, name = cpu.status(vcpu);
      status[name] = (status[name] ?? 0) + 1;
      runNs += vcpu.runNs;
      waitNs += vcpu.waitNs;
      if (name === "running") runningNs += nowNs - vcpu.sinceNs;
      else if (name === "ready") waitingNs += nowNs - vcpu.sinceNs;
      switches += vcpu.switches;
      dispatches += vcpu.dispatches;
      const asked = vm.program?.demandNs(vcpu.cursor, nowNs) ?? null;
      if (asked !== null) demandNs = (demandNs ?? 0) + asked;
    }
    return {
      index: vm.index,
      id: vm.id,
      vcpus: vm.vcpus.length,
      params: vm.params,
      arrived: vm.arrived,
      finishNs: vm.finishNs,
      removedNs: vm.removedNs,
      runNs,
      waitNs,
      runningNs,
      waitingNs,
      switches,
      dispatches,
      demandNs,
      status,
      latency: vm.latency,
      counters: vm.counters,
    };
  });
  return {
    vms,
    busyNs: cpu.pcpus.map((pcpu) => pcpu.busyNs),
    runningNs: cpu.pcpus.map((pcpu) => pcpu.vcpu >= 0 ? nowNs - cpu.vcpus[pcpu.vcpu]!.sinceNs : 0),
    running: cpu.pcpus.map((pcpu) => pcpu.vcpu >= 0 ? cpu.vcpus[pcpu.vcpu]!.vm.id : null),
    switches: cpu.switches,
    latency: () => cpu.latency(),
  };
}
