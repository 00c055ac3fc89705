/**
 * Reports as one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): the
 * host figures side by side, per-VM shares, shares over time, scheduling-latency CDFs, page faults
 * and I/O latency. `hyperhook run --html` and `compare --html` write it.
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";
import type { Report } from "./report.ts";
import type { RunTrace } from "./recorder.ts";
import { renderChart } from "./svg.ts";

/** One run for the page: a label, its report and, when recorded, its trace. */
export interface HtmlRun {
  /** The column title (the policy's name, usually). */
  label: string;
  /** The JSON report. */
  report: Report;
  /** Samples along the run (shares over time, latency CDF). */
  trace?: RunTrace;
}

const esc = (text: unknown) =>
  String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const dur = (ns: number | null) => ns === null ? "–" : formatDuration(Math.round(ns));

/**
 * Renders one or several runs of the same workload as an HTML page.
 *
 * @example
 * ```ts ignore
 * import { renderHtmlReport } from "./html.ts";
 * await Deno.writeTextFile("report.html", renderHtmlReport([{ label: "rr", report }]));
 * ```
 */
export function renderHtmlReport(runs: readonly HtmlRun[]): string {
  if (runs.length === 0) throw new RangeError("renderHtmlReport: expected at least one run");
  const first = runs[0]!.report;
  const vmIds = first.vms.map((vm) => vm.id);
  const sections: string[] = [];

  sections.push(`<section class="wide"><h2>Host</h2>${hostTable(runs)}</section>`);

  sections.push(`<section>${
    renderChart({
      kind: "bar",
      title: "CPU share by VM (fraction of the host over the run)",
      categories: vmIds,
      series: runs.map((run) => ({
        name: run.label,
        points: run.report.vms.map((vm, i) => [i, vm.cpu.share] as [number, number]),
      })),
      yFormat: "pct",
      width: Math.max(640, 40 + vmIds.length * (16 + 10 * runs.length)),
      height: 300,
    })
  }</section>`);

  const latency = runs.filter((run) => (run.trace?.latencyCdf.length ?? 0) > 0);
  sections.push(`<section>${
    renderChart({
      kind: "step",
      title: "Scheduling latency CDF (runnable to running, all vCPUs)",
      series: latency.map((run) => ({
        name: run.label,
        points: run.trace!.latencyCdf.map(([ns, q]) => [Math.max(ns, 100), q] as [number, number]),
      })),
      xLog: true,
      xFormat: "dur",
      yFormat: "pct",
      yMin: 0,
      yMax: 1,
      xLabel: "latency (log scale)",
      width: 640,
      height: 300,
      empty: "No vCPU ever waited",
    })
  }</section>`);

  for (const run of runs) {
    const trace = run.trace;
    if (trace === undefined || trace.nowNs.length < 2) continue;
    const series = Object.entries(trace.runNs).map(([name, runNs]) => ({
      name,
      points: trace.nowNs.slice(1).map((now, i) => {
        const span = (now - trace.nowNs[i]!) * Math.max(1, trace.pcpus);
        return [now, span > 0 ? (runNs[i + 1]! - runNs[i]!) / span : 0] as [number, number];
      }),
    }));
    sections.push(`<section>${
      renderChart({
        kind: "line",
        title: `CPU share over time · ${run.label}`,
        series,
        xFormat: "s",
        yFormat: "pct",
        yMin: 0,
        xLabel: "simulated time",
        width: 640,
        height: 280,
      })
    }</section>`);
  }

  const hasMemory = runs.some((run) =>
    run.report.policies.memory !== undefined || run.report.vms.some((vm) => vm.memory.faults > 0)
  );
  sections.push(`<section>${
    renderChart({
      kind: "bar",
      title: "Page faults by VM",
      categories: vmIds,
      series: hasMemory
        ? runs.map((run) => ({
          name: run.label,
          points: run.report.vms.map((vm, i) => [i, vm.memory.faults] as [number, number]),
        }))
        : [],
      width: 640,
      height: 280,
      empty: "No memory domain in this run",
    })
  }</section>`);

  const hasIo = runs.some((run) =>
    run.report.policies.io !== undefined || run.report.vms.some((vm) => vm.io.completed > 0)
  );
  sections.push(`<section>${
    renderChart({
      kind: "bar",
      title: "I/O latency by VM (p99)",
      categories: vmIds,
      series: hasIo
        ? runs.map((run) => ({
          name: run.label,
          points: run.report.vms.map((vm, i) => [i, vm.io.latencyNs.p99] as [number, number]),
        }))
        : [],
      yFormat: "dur",
      width: 640,
      height: 280,
      empty: "No I/O domain in this run",
    })
  }</section>`);

  for (const run of runs) {
    sections.push(
      `<section class="wide"><h2>VMs · ${esc(run.label)}</h2>${vmTable(run.report)}${
        incidents(run.report)
      }</section>`,
    );
  }

  const title = `${first.workload} · ${runs.map((run) => run.label).join(" vs ")}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hyperhook · ${esc(title)}</title>
<style>
body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#222;background:#f6f7f9}
header{padding:12px 20px;background:#1f2a37;color:#f3f4f6}h1{font-size:19px;margin:0 0 4px}
header p{margin:0;color:#cbd5e1;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(660px,1fr));gap:14px;padding:14px 20px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:10px 12px;overflow:auto}
section.wide{grid-column:1/-1}h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;font-size:13px}th,td{text-align:right;padding:3px 8px;border-bottom:1px solid #edf0f3;white-space:nowrap}
th:first-child,td:first-child{text-align:left}ul{margin:8px 0 0;padding-left:20px;font-size:13px}
</style>
</head>
<body>
<header><h1>${esc(title)}</h1><p>seed ${first.seed} · hyperhook.report/v1</p></header>
<main>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

function hostTable(runs: readonly HtmlRun[]): string {
  const rows: [string, (report: Report) => string][] = [
    [
      "policies",
      (r) =>
        Object.entries(r.policies).map(([domain, p]) =>
          `${domain} ${p.name}${p.ejected ? " (ejected)" : ""} [${p.isolation}]`
        ).join(", "),
    ],
    ["simulated", (r) => dur(r.simulatedNs)],
    ["utilization", (r) => pct(r.host.cpu.utilization)],
    ["fairness (Jain)", (r) => r.host.cpu.fairness.toFixed(3)],
    ["mean wait / VM", (r) => dur(r.host.cpu.meanWaitNs)],
    ["latency p50", (r) => dur(r.host.cpu.latencyNs.p50)],
    ["latency p99", (r) => dur(r.host.cpu.latencyNs.p99)],
    ["latency max", (r) => dur(r.host.cpu.latencyNs.max)],
    ["switches", (r) => String(r.host.cpu.switches)],
    ["page faults", (r) => String(r.host.memory.faults)],
    ["incidents", (r) => String(r.incidents.length)],
    ["wall", (r) => `${r.wallMs} ms`],
    ["eventsHash", (r) => r.eventsHash.slice(0, 16)],
  ];
  const head = `<tr><th></th>${runs.map((run) => `<th>${esc(run.label)}</th>`).join("")}</tr>`;
  const body = rows.map(([name, value]) =>
    `<tr><td>${esc(name)}</td>${
      runs.map((run) => `<td>${esc(value(run.report))}</td>`).join("")
    }</tr>`
  ).join("");
  return `<table>${head}${body}</table>`;
}

function vmTable(report: Report): string {
  const head =
    "<tr><th>vm</th><th>vCPUs</th><th>share</th><th>entitled</th><th>run</th><th>wait</th><th>finish</th><th>switches</th><th>lat p99</th><th>faults</th><th>I/O p99</th></tr>";
  const rows = report.vms.map((vm) =>
    `<tr><td>${esc(vm.id)}</td><td>${vm.cpu.vcpus}</td><td>${pct(vm.cpu.share)}</td><td>${
      pct(vm.cpu.entitlement)
    }</td><td>${dur(vm.cpu.runNs)}</td><td>${dur(vm.cpu.waitNs)}</td><td>${
      dur(vm.cpu.finishNs)
    }</td><td>${vm.cpu.switches}</td><td>${
      dur(vm.cpu.latencyNs.p99)
    }</td><td>${vm.memory.faults}</td><td>${
      vm.io.completed > 0 ? dur(vm.io.latencyNs.p99) : "–"
    }</td></tr>`
  ).join("");
  return `<table>${head}${rows}</table>`;
}

function incidents(report: Report): string {
  if (report.incidents.length === 0) return "";
  return `<ul>${
    report.incidents.map((incident) =>
      `<li>${esc(formatDuration(incident.atNs))}: ${esc(incident.domain)} policy ${
        esc(incident.policy)
      } ejected (${esc(incident.kind)}/${esc(incident.reason)}): ${esc(incident.message)}</li>`
    ).join("")
  }</ul>`;
}
