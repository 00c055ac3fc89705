/**
 * The memory part of the text reports: per-VM references, faults, hit ratio, residency and
 * balloon targets, then the host's frames; and the same side by side for comparisons.
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";
import type { Report } from "./report.ts";

type Render = (rows: string[][]) => string;

const ratio = (x: unknown) => typeof x === "number" ? `${(100 * x).toFixed(1)}%` : "-";
const num = (x: unknown) => typeof x === "number" ? String(x) : "-";

/** Whether a report has a memory domain. */
export function hasMemory(report: Report): boolean {
  return report.host.memory.frames > 0;
}

/** The memory part of one report: the VMs that referenced memory, then the host line. */
export function memoryLines(report: Report, render: Render): string[] {
  const rows = [[
    "vm memory",
    "refs",
    "faults",
    "hit ratio",
    "peak",
    "target",
    "stalled",
    "evicted",
  ]];
  for (const vm of report.vms) {
    const memory = vm.memory;
    if (memory.refs === 0) continue;
    rows.push([
      vm.id,
      String(memory.refs),
      String(memory.faults),
      ratio(memory.hitRatio),
      String(memory.residentPeak),
      num(memory.target),
      formatDuration(Number(memory.stallNs ?? 0)),
      num(memory.evictions),
    ]);
  }
  const host = report.host.memory;
  const line = `frames ${host.frames} · faults ${host.faults} · evictions ${host.evictions} · ` +
    `write-backs ${num(host.writebacks)} · reclaimed ${num(host.reclaimed)} · ` +
    `peak in use ${num(host.usedPeak)} · free at end ${num(host.free)}`;
  return [...(rows.length > 1 ? [render(rows)] : []), line];
}

/** The memory part of a comparison: host faults and evictions, then each VM's faults. */
export function memoryComparison(reports: Report[], labels: string[], render: Render): string[] {
  const host = [["memory", ...labels]];
  const add = (name: string, f: (r: Report) => string) => host.push([name, ...reports.map(f)]);
  add("faults", (r) => String(r.host.memory.faults));
  add("evictions", (r) => String(r.host.memory.evictions));
  add("write-backs", (r) => num(r.host.memory.writebacks));
  const vms = [["vm faults / hit ratio", ...labels]];
  reports[0]!.vms.forEach((vm, i) => {
    if (vm.memory.refs === 0) return;
    vms.push([
      vm.id,
      ...reports.map((r) => `${r.vms[i]!.memory.faults} / ${ratio(r.vms[i]!.memory.hitRatio)}`),
    ]);
  });
  return ["", render(host), ...(vms.length > 1 ? ["", render(vms)] : [])];
}
