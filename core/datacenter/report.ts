/**
 * The `datacenter` section of a `hyperhook.report/v1` report, and how it reads as text.
 *
 * `{hosts, vms, energyKwh, migrations, slatah, pdm, slav, esv, hostShutdowns}` are Beloglazov and
 * Buyya's (2012) figures: energy; SLATAH, the share of active host time at 100 % CPU; PDM, the
 * demand lost to migrations over all demand; SLAV = SLATAH × PDM; ESV = energy × SLAV.
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";

/** The figures of a run, as the report's `datacenter` section shows them. */
export interface DatacenterFigures {
  /** How many hosts. */
  hosts: number;
  /** How many VMs arrived. */
  vms: number;
  /** Energy in kWh. */
  energyKwh: number;
  /** Migrations started. */
  migrations: number;
  /** SLA time per active host: the share of active host time at 100 % CPU. */
  slatah: number;
  /** Performance degradation due to migrations. */
  pdm: number;
  /** SLATAH × PDM. */
  slav: number;
  /** Energy × SLAV. */
  esv: number;
  /** Active-to-idle transitions of hosts. */
  hostShutdowns: number;
  /** Demand not delivered, over demand (all VMs, all the time). */
  slaOverall: number;
  /** Mean migration duration, in ns. */
  meanMigrationNs: number;
  /** VMs that left before the end (curve over, or CloudSim's zero-demand rule). */
  vmsLeft: number;
  /** VMs the policy left unplaced. */
  unplaced: number;
  /** Hosts active at the end. */
  activeHosts: number;
}

/** Aggregates at every evaluation, for charts. */
export interface DatacenterTimeline {
  /** When, in ns. */
  atNs: number[];
  /** Active hosts. */
  activeHosts: number[];
  /** VMs running (after those that left at the evaluation). */
  vms: number[];
  /** Mean utilisation of the active hosts. */
  utilization: number[];
  /** Power of the datacenter, in W. */
  powerW: number[];
}

/** Per-host totals of a run. */
export interface HostFigures {
  /** The host's id. */
  id: string;
  /** Its type's id. */
  type: string;
  /** Time active, in ns. */
  activeNs: number;
  /** Time active and at 100 % CPU (SLATAH's numerator), in ns. */
  slaNs: number;
  /** Energy, in kWh. */
  energyKwh: number;
  /** Mean utilisation while active. */
  meanUtilization: number;
}

/** The `datacenter` section of a report. */
export interface DatacenterReport extends DatacenterFigures {
  /** `hyperhook` or `cloudsim` (CloudSim 3.0.3's accounting). */
  mode: "hyperhook" | "cloudsim";
  /** `fluid` or `detailed`. */
  hostModel: "fluid" | "detailed";
  /** The evaluation interval, in ns. */
  intervalNs: number;
  /** Aggregates at every evaluation. */
  timeline: DatacenterTimeline;
  /** Per-host totals. */
  hostFigures: HostFigures[];
}

/**
 * The headline figures of a datacenter report as text, one per line.
 *
 * @example
 * ```ts
 * import { formatDatacenter } from "./report.ts";
 * const text = formatDatacenter({
 *   hosts: 2, vms: 3, energyKwh: 0.5, migrations: 1, slatah: 0.01, pdm: 0.001, slav: 0.00001,
 *   esv: 0.000005, hostShutdowns: 1, slaOverall: 0.002, meanMigrationNs: 13_920_000_000,
 *   vmsLeft: 0, unplaced: 0, activeHosts: 1, mode: "hyperhook", hostModel: "fluid",
 *   intervalNs: 300_000_000_000, timeline: { atNs: [], activeHosts: [], vms: [], utilization: [], powerW: [] },
 *   hostFigures: [],
 * });
 * console.assert(text.includes("energy") && text.includes("0.5000 kWh"));
 * ```
 */
export function formatDatacenter(datacenter: DatacenterReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(4)}%`;
  const rows: [string, string][] = [
    ["hosts", `${datacenter.hosts} (${datacenter.activeHosts} active at the end)`],
    [
      "vms",
      `${datacenter.vms}${datacenter.vmsLeft > 0 ? ` (${datacenter.vmsLeft} left early)` : ""}${
        datacenter.unplaced > 0 ? `, ${datacenter.unplaced} unplaced` : ""
      }`,
    ],
    ["energy", `${datacenter.energyKwh.toFixed(4)} kWh`],
    [
      "migrations",
      `${datacenter.migrations}${
        datacenter.migrations > 0 ? ` (mean ${formatDuration(datacenter.meanMigrationNs)})` : ""
      }`,
    ],
    ["SLATAH", pct(datacenter.slatah)],
    ["PDM", pct(datacenter.pdm)],
    ["SLAV", datacenter.slav.toExponential(5)],
    ["ESV", datacenter.esv.toExponential(5)],
    ["host shutdowns", String(datacenter.hostShutdowns)],
    ["SLA overall", pct(datacenter.slaOverall)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `datacenter (${datacenter.mode} mode, ${datacenter.hostModel} hosts, evaluated every ${
      formatDuration(datacenter.intervalNs)
    })`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ].join("\n");
}
