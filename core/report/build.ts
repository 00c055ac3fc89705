/**
 * Building a `hyperhook.report/v1` report from the domains' figures: shares of the host,
 * weighted max-min fair entitlements, Jain's fairness index, latency summaries.
 *
 * @module
 */

import { LOG_ENCODING } from "../engine/decision_log.ts";
import { latencyOf, noLatency } from "../engine/histogram.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Incident } from "../kernel/slot.ts";
import type { CpuFigures } from "../cpu/figures.ts";
import type { IoFigures } from "../io/figures.ts";
import { emptyMemoryVmFigures, type MemoryFigures } from "../memory/figures.ts";
import { jain, type Report, REPORT_SCHEMA, type ReportPolicy, waterFill } from "./report.ts";

/** What a report is built from. */
export interface ReportSources {
  /** The workload's name and seed. */
  workload: { readonly name: string; readonly seed: number };
  /** Simulated time covered. */
  simulatedNs: number;
  /** Wall-clock time the run took. */
  wallMs: number;
  /** The policy asked for in each domain. */
  policies: Partial<Record<Domain, ReportPolicy>>;
  /** The CPU domain's figures. */
  cpu: CpuFigures;
  /** The memory domain's, when the host has memory. */
  memory?: MemoryFigures;
  /** The I/O domain's, when the host has disks. */
  io?: IoFigures;
  /** Every ejection, in order. */
  incidents: readonly Incident[];
  /** sha256 of the decision log. */
  eventsHash: string;
}

/**
 * Builds the report. `share` is a VM's fraction of the host's CPU capacity over the run;
 * `entitlement` its weighted max-min fair share given its demand (run + wait, capped by its vCPU
 * count and cap), by water filling; `fairness` is Jain's index over share/entitlement.
 *
 * @param sources The run's figures.
 * @returns The report.
 */
export function buildReport(sources: ReportSources): Report {
  const { cpu, memory, io, simulatedNs } = sources;
  const pcpus = cpu.busyNs.length;
  const capacity = simulatedNs * pcpus;
  // Entitlement: weighted max-min fair split of the host, given what each VM wanted.
  const demands = cpu.vms.map(({ runNs, waitNs, params, vcpus }) => {
    const wanted = capacity === 0 ? 0 : (runNs + waitNs) / capacity;
    const capLimit = params.cap > 0 ? params.cap / 100 / pcpus : Infinity;
    return Math.min(wanted, vcpus / pcpus, capLimit);
  });
  const entitlements = waterFill(1, cpu.vms.map(({ params }) => params.weight), demands);
  const ratios: number[] = [];
  return {
    schema: REPORT_SCHEMA,
    workload: sources.workload.name,
    seed: sources.workload.seed,
    simulatedNs,
    wallMs: sources.wallMs,
    policies: sources.policies,
    vms: cpu.vms.map((vm, i) => {
      const share = capacity === 0 ? 0 : vm.runNs / capacity;
      const entitlement = entitlements[i]!;
      if (entitlement > 1e-9) ratios.push(share / entitlement);
      return {
        id: vm.id,
        cpu: {
          vcpus: vm.vcpus,
          runNs: vm.runNs,
          waitNs: vm.waitNs,
          finishNs: vm.finishNs,
          share,
          entitlement,
          switches: vm.switches,
          demandNs: vm.demandNs,
          latencyNs: latencyOf(vm.latency),
          ...(Object.keys(vm.counters).length > 0 ? { counters: { ...vm.counters } } : {}),
        },
        memory: memory === undefined
          ? { refs: 0, faults: 0, residentPeak: 0 }
          : memory.vms[vm.index] ?? emptyMemoryVmFigures(),
        io: io?.vms[vm.index] ?? { requests: 0, completed: 0, bytes: 0, latencyNs: noLatency() },
      };
    }),
    host: {
      cpu: {
        pcpus,
        utilization: capacity === 0
          ? 0
          : cpu.busyNs.reduce((sum, busy) => sum + busy, 0) / capacity,
        switches: cpu.switches,
        fairness: jain(ratios),
        meanWaitNs: cpu.vms.length === 0
          ? 0
          : Math.round(cpu.vms.reduce((sum, vm) => sum + vm.waitNs, 0) / cpu.vms.length),
        latencyNs: latencyOf(cpu.latency()),
      },
      memory: memory?.host ?? { frames: 0, faults: 0, evictions: 0 },
      disks: io === undefined ? [] : [...io.disks],
    },
    incidents: [...sources.incidents],
    eventsHash: sources.eventsHash,
    eventsHashEncoding: LOG_ENCODING,
  };
}
