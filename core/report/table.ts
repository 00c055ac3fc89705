/**
 * Reports as text tables: one run, or several side by side.
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";
import type { Report, ReportPolicy } from "./report.ts";
import type { Domain } from "../protocol/definition.ts";
import { hasMemory, memoryComparison, memoryLines } from "./_memory_table.ts";
import { formatConfig } from "../workload/policy_choice.ts";
import { formatIncident } from "./incident.ts";

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
const ms = (ns: number | null) => ns === null ? "-" : roundedDuration(ns);

const UNITS: readonly [number, string][] = [[1e9, "s"], [1e6, "ms"], [1e3, "us"], [1, "ns"]];

/**
 * A duration to three significant digits in one unit (`500us`, not `499.712us`; `1ms`, not
 * `999.9us`): a table compares figures, and more digits than that are noise in a simulation.
 *
 * @example
 * ```ts
 * import { roundedDuration } from "./table.ts";
 *
 * console.assert(roundedDuration(499_712) === "500us");
 * console.assert(roundedDuration(1_666_667) === "1.67ms");
 * console.assert(roundedDuration(999_900) === "1ms");
 * console.assert(roundedDuration(0) === "0ns");
 * ```
 */
export function roundedDuration(ns: number): string {
  const size = Math.abs(ns);
  for (let i = 0; i < UNITS.length; i++) {
    const [scale, unit] = UNITS[i]!;
    if (size < scale && unit !== "ns") continue;
    const value = Number((ns / scale).toPrecision(3));
    // 999.7us rounds to 1000us: that is 1ms.
    if (Math.abs(value) >= 1000 && i > 0) {
      return `${Number((ns / UNITS[i - 1]![0]).toPrecision(3))}${UNITS[i - 1]![1]}`;
    }
    return `${unit === "ns" ? Math.round(ns) : value}${unit}`;
  }
  return `${Math.round(ns)}ns`;
}

/** A duration cell, written once the unit of its column (or row) is known. */
class Ns {
  constructor(readonly ns: number | null) {}
}

/** A table cell: text, or a duration that shares its unit with its column or row. */
type Cell = string | Ns;

/**
 * Writes the duration cells of a table so that each column (or row) uses one unit, the unit of
 * its largest value, to three significant digits of that value (`1.1s 18.2s`, decimals
 * aligned), so that figures compare at a glance. A value too small to show in that unit is `<0.01s`.
 */
function settleDurations(rows: Cell[][], by: "column" | "row"): string[][] {
  const out = rows.map((row) => row.map((cell) => cell instanceof Ns ? "" : cell));
  const lines = by === "row"
    ? rows.map((row, r) => row.map((cell, c) => [r, c, cell] as const))
    : rows[0]!.map((_, c) => rows.map((row, r) => [r, c, row[c]] as const));
  for (const line of lines) {
    const cells = line.filter(([, , cell]) => cell instanceof Ns) as [number, number, Ns][];
    const values = cells.map(([, , cell]) => cell.ns).filter((ns): ns is number => ns !== null);
    const max = Math.max(0, ...values.map(Math.abs));
    let unit = UNITS.findIndex(([scale]) => max >= scale);
    if (unit < 0) unit = UNITS.length - 1;
    // 999.9us is written 1ms: the unit of the largest value once rounded.
    if (unit > 0 && Number((max / UNITS[unit]![0]).toPrecision(3)) >= 1000) unit--;
    const [scale, name] = UNITS[unit]!;
    const decimals = max === 0 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(max / scale)));
    for (const [r, c, cell] of cells) {
      if (cell.ns === null) {
        out[r]![c] = "-";
        continue;
      }
      const value = (cell.ns / scale).toFixed(decimals);
      out[r]![c] = cell.ns === 0
        ? `0${name}`
        : Number(value) === 0
        ? `<${(10 ** -decimals).toFixed(decimals)}${name}`
        : `${value}${name}`;
    }
  }
  return out;
}

function policyLine(report: Report): string {
  return Object.entries(report.policies).map(([domain, policy]) =>
    `${domain} ${policy.name}${policy.ejected ? " (ejected)" : ""} [${policy.isolation}] (${
      formatConfig(policy.config)
    })`
  ).join(", ");
}

/**
 * One report as a table of VMs and a host summary.
 *
 * @example
 * ```ts
 * import { formatReport } from "./table.ts";
 * import { simulate } from "../simulation/mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 *
 * const report = await simulate(parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "one", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
 * }));
 * console.log(formatReport(report));
 * ```
 */
export function formatReport(report: Report): string {
  // Counters the CPU policy keeps (RTDS's deadline misses, say) get a column each.
  const counters = [...new Set(report.vms.flatMap((vm) => Object.keys(vm.cpu.counters ?? {})))];
  const rows: Cell[][] = [
    ["vm", "vcpus", "share", "run", "wait", "finish", "switches", "lat p99", ...counters],
  ];
  for (const vm of report.vms) {
    rows.push([
      vm.id,
      String(vm.cpu.vcpus),
      pct(vm.cpu.share),
      new Ns(vm.cpu.runNs),
      new Ns(vm.cpu.waitNs),
      new Ns(vm.cpu.finishNs),
      String(vm.cpu.switches),
      new Ns(vm.cpu.latencyNs.p99),
      ...counters.map((name) => String(vm.cpu.counters?.[name] ?? 0)),
    ]);
  }
  const host = report.host.cpu;
  const lines = [
    `${report.workload} · ${policyLine(report)} · seed ${report.seed} · ${
      formatDuration(report.simulatedNs)
    } simulated in ${report.wallMs} ms`,
    renderTable(settleDurations(rows, "column")),
    `utilization ${pct(host.utilization)} · fairness ${host.fairness.toFixed(3)} · mean wait ${
      ms(host.meanWaitNs)
    } · latency p50 ${ms(host.latencyNs.p50)} p99 ${ms(host.latencyNs.p99)} max ${
      ms(host.latencyNs.max)
    } · switches ${host.switches}`,
  ];
  if (hasMemory(report)) lines.push(...memoryLines(report, renderTable));
  if (report.host.disks.length > 0) lines.push(...ioLines(report));
  for (const incident of report.incidents) lines.push(...formatIncident(incident));
  lines.push(`eventsHash ${report.eventsHash}`);
  return lines.join("\n");
}

/**
 * Several reports of the same workload side by side: host figures, then per-VM shares.
 *
 * @example
 * ```ts
 * import { formatComparison } from "./table.ts";
 * import { simulate } from "../simulation/mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 *
 * const workload = parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "jobs", host: { pcpus: 1 },
 *   vms: [24, 3, 3].map((ms, i) => ({ id: `P${i + 1}`, cpu: { program: [{ run: `${ms}ms` }] } })),
 * });
 * const reports = [
 *   await simulate(workload, { policies: { cpu: { use: "fcfs" } } }),
 *   await simulate(workload, { policies: { cpu: { use: "rr" } } }),
 * ];
 * console.log(formatComparison(reports, ["fcfs", "rr"]));
 * ```
 */
export function formatComparison(reports: Report[], labels: string[]): string {
  const host: Cell[][] = [["", ...labels]];
  const add = (name: string, f: (r: Report) => Cell) => host.push([name, ...reports.map(f)]);
  // Each run's policies as they were configured, defaults included: a row for a domain whose
  // policies differ between runs, the header for one they share.
  const shared: string[] = [];
  for (const [domain, policy] of Object.entries(reports[0]!.policies) as [Domain, ReportPolicy][]) {
    const config = (r: Report) => formatConfig(r.policies[domain]?.config);
    const same = reports.every((r) =>
      r.policies[domain]?.name === policy.name && config(r) === config(reports[0]!)
    );
    if (same) shared.push(`${domain} ${policy.name} (${config(reports[0]!)})`);
    else add(`${domain} config`, config);
  }
  // Runs end when their work is done, so a better policy often simulates less time.
  add("simulated", (r) => formatDuration(r.simulatedNs));
  add("utilization", (r) => pct(r.host.cpu.utilization));
  add("fairness (Jain)", (r) => r.host.cpu.fairness.toFixed(3));
  add("mean wait / VM", (r) => new Ns(r.host.cpu.meanWaitNs));
  add("latency p50", (r) => new Ns(r.host.cpu.latencyNs.p50));
  add("latency p99", (r) => new Ns(r.host.cpu.latencyNs.p99));
  add("latency max", (r) => new Ns(r.host.cpu.latencyNs.max));
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
    [`${first.workload}`, ...shared, `seed ${first.seed}`].join(" · "),
    renderTable(settleDurations(host, "row")),
    "",
    renderTable(vms),
    ...(hasMemory(first) ? memoryComparison(reports, labels, renderTable) : []),
    ...(first.host.disks.length > 0 ? ioComparison(reports, labels) : []),
  ].join("\n");
}

const count = (n: number | undefined) => String(n ?? 0);

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) n /= 1024, unit++;
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[unit]}`;
}

/** The I/O part of one report: VMs that did I/O, then the disks. */
function ioLines(report: Report): string[] {
  const vms = [[
    "vm io",
    "requests",
    "done",
    "bytes",
    "lat mean",
    "p50",
    "p99",
    "max",
    "misses",
    "throttled",
  ]];
  for (const vm of report.vms) {
    const io = vm.io;
    if (io.requests === 0) continue;
    vms.push([
      vm.id,
      String(io.requests),
      String(io.completed),
      bytes(io.bytes),
      ms(io.latencyNs.mean),
      ms(io.latencyNs.p50),
      ms(io.latencyNs.p99),
      ms(io.latencyNs.max),
      count(io.deadlineMisses),
      ms(io.throttledNs ?? 0),
    ]);
  }
  const disks = [["disk", "model", "requests", "seek cyl", "busy", "utilization", "misses"]];
  for (const disk of report.host.disks) {
    disks.push([
      disk.id,
      String(disk.model ?? ""),
      String(disk.requests),
      String(disk.seekCylinders),
      ms(disk.busyNs),
      pct(Number(disk.utilization ?? 0)),
      count(disk.deadlineMisses),
    ]);
  }
  return [...(vms.length > 1 ? [renderTable(vms)] : []), renderTable(disks)];
}

/** The I/O part of a comparison: disks and totals, then each VM's completions and p99 latency. */
function ioComparison(reports: Report[], labels: string[]): string[] {
  const host = [["io", ...labels]];
  const add = (name: string, f: (r: Report) => string) => host.push([name, ...reports.map(f)]);
  reports[0]!.host.disks.forEach((disk, d) => {
    add(`${disk.id} seek cylinders`, (r) => String(r.host.disks[d]!.seekCylinders));
    add(`${disk.id} busy`, (r) => ms(r.host.disks[d]!.busyNs));
  });
  const sum = (r: Report, f: (io: Report["vms"][number]["io"]) => number) =>
    r.vms.reduce((total, vm) => total + f(vm.io), 0);
  add("completed", (r) => String(sum(r, (io) => io.completed)));
  add(
    "throughput",
    (r) => r.simulatedNs > 0 ? `${bytes(sum(r, (io) => io.bytes) * 1e9 / r.simulatedNs)}/s` : "-",
  );
  add("deadline misses", (r) => String(sum(r, (io) => io.deadlineMisses ?? 0)));
  const vms = [["vm io done / p99", ...labels]];
  reports[0]!.vms.forEach((vm, i) => {
    if (vm.io.requests === 0) return;
    vms.push([
      vm.id,
      ...reports.map((r) => `${r.vms[i]!.io.completed} / ${ms(r.vms[i]!.io.latencyNs.p99)}`),
    ]);
  });
  return ["", renderTable(host), ...(vms.length > 1 ? ["", renderTable(vms)] : [])];
}
