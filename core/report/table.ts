/**
 * Reports as text tables: one run, or several side by side.
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";
import type { Report } from "./report.ts";

/** Renders rows as an aligned text table; the first row is the header. */
export function renderTable(rows: string[][], align: ("l" | "r")[] = []): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) =>
    row.map((cell, c) =>
      (align[c] ?? (c === 0 ? "l" : "r")) === "l"
        ? cell.padEnd(widths[c]!)
        : cell.padStart(widths[c]!)
    ).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (ns: number | null) => ns === null ? "-" : formatDuration(Math.round(ns));

function policyLine(report: Report): string {
  return Object.entries(report.policies).map(([domain, policy]) =>
    `${domain} ${policy.name}${policy.ejected ? " (ejected)" : ""} [${policy.isolation}]`
  ).join(", ");
}

/** One report as a table of VMs and a host summary. */
export function formatReport(report: Report): string {
  const rows = [["vm", "vcpus", "share", "run", "wait", "finish", "switches", "lat p99"]];
  for (const vm of report.vms) {
    rows.push([
      vm.id,
      String(vm.cpu.vcpus),
      pct(vm.cpu.share),
      ms(vm.cpu.runNs),
      ms(vm.cpu.waitNs),
      ms(vm.cpu.finishNs),
      String(vm.cpu.switches),
      ms(vm.cpu.latencyNs.p99),
    ]);
  }
  const host = report.host.cpu;
  const lines = [
    `${report.workload} · ${policyLine(report)} · seed ${report.seed} · ${
      formatDuration(report.simulatedNs)
    } simulated in ${report.wallMs} ms`,
    renderTable(rows),
    `utilization ${pct(host.utilization)} · fairness ${host.fairness.toFixed(3)} · mean wait ${
      ms(host.meanWaitNs)
    } · latency p50 ${ms(host.latencyNs.p50)} p99 ${ms(host.latencyNs.p99)} max ${
      ms(host.latencyNs.max)
    } · switches ${host.switches}`,
  ];
  for (const incident of report.incidents) {
    lines.push(
      `incident at ${
        formatDuration(incident.atNs)
      }: ${incident.domain} policy ${incident.policy} ejected (${incident.kind}/${incident.reason}): ${incident.message}`,
    );
  }
  lines.push(`eventsHash ${report.eventsHash}`);
  return lines.join("\n");
}

/** Several reports of the same workload side by side: host figures, then per-VM shares. */
export function formatComparison(reports: Report[], labels: string[]): string {
  const host = [["", ...labels]];
  const add = (name: string, f: (r: Report) => string) => host.push([name, ...reports.map(f)]);
  add("utilization", (r) => pct(r.host.cpu.utilization));
  add("fairness (Jain)", (r) => r.host.cpu.fairness.toFixed(3));
  add("mean wait / VM", (r) => ms(r.host.cpu.meanWaitNs));
  add("latency p50", (r) => ms(r.host.cpu.latencyNs.p50));
  add("latency p99", (r) => ms(r.host.cpu.latencyNs.p99));
  add("latency max", (r) => ms(r.host.cpu.latencyNs.max));
  add("switches", (r) => String(r.host.cpu.switches));
  add("incidents", (r) => String(r.incidents.length));
  add("wall", (r) => `${r.wallMs} ms`);
  add("eventsHash", (r) => r.eventsHash.slice(0, 12));
  const vms = [["vm share / wait", ...labels]];
  reports[0]!.vms.forEach((vm, i) => {
    vms.push([
      vm.id,
      ...reports.map((r) => {
        const cpu = r.vms[i]!.cpu;
        return `${pct(cpu.share)} / ${ms(cpu.waitNs)}`;
      }),
    ]);
  });
  const first = reports[0]!;
  return [
    `${first.workload} · seed ${first.seed} · ${formatDuration(first.simulatedNs)} simulated`,
    renderTable(host),
    "",
    renderTable(vms),
  ].join("\n");
}
