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
import { type ChartMark, type ChartSeries, limitSeries, renderChart } from "./svg.ts";

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

/** Options of {@linkcode renderHtmlReport}. */
export interface HtmlReportOptions {
  /**
   * The domain the page leads with: its tables and charts come first. Default: the domain whose
   * policy differs between the runs (memory, then I/O, then CPU); when none differs, memory if a
   * VM referenced memory, else I/O if a request completed, else CPU (every run has a CPU).
   */
  focus?: "cpu" | "memory" | "io";
}

/** Lines drawn at most in one chart over time (more are grouped, see `limitSeries`). */
const MAX_LINES = 10;

/**
 * Renders one or several runs of the same workload as an HTML page.
 *
 * @example
 * ```ts ignore
 * import { renderHtmlReport } from "./html.ts";
 * await Deno.writeTextFile("report.html", renderHtmlReport([{ label: "rr", report }]));
 * ```
 */
export function renderHtmlReport(
  runs: readonly HtmlRun[],
  options: HtmlReportOptions = {},
): string {
  if (runs.length === 0) throw new RangeError("renderHtmlReport: expected at least one run");
  const first = runs[0]!.report;
  const vmIds = first.vms.map((vm) => vm.id);
  const focus = options.focus ?? defaultFocus(runs);
  const parts: Record<"cpu" | "memory" | "io", string[]> = {
    cpu: cpuSections(runs, vmIds),
    memory: memorySections(runs, vmIds),
    io: ioSections(runs, vmIds),
  };
  const order = [focus, ...(["cpu", "memory", "io"] as const).filter((d) => d !== focus)];
  const sections = [
    `<section class="wide"><h2>Host</h2>${hostTable(runs)}</section>`,
    ...order.flatMap((domain) => parts[domain]),
  ];

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

/** The domain the page leads with (see {@linkcode HtmlReportOptions.focus}). */
function defaultFocus(runs: readonly HtmlRun[]): "cpu" | "memory" | "io" {
  const differing = (["memory", "io", "cpu"] as const).find((domain) =>
    new Set(runs.map((run) => run.report.policies[domain]?.name ?? "")).size > 1
  );
  if (differing !== undefined) return differing;
  const vms = runs.flatMap((run) => run.report.vms);
  if (vms.some((vm) => vm.memory.refs > 0)) return "memory";
  if (vms.some((vm) => vm.io.completed > 0)) return "io";
  return "cpu";
}

/** A section holding one chart. */
function chartSection(svg: string, wide = false): string {
  return `<section${wide ? ' class="wide"' : ""}>${svg}</section>`;
}

/** The moments to mark on a run's time charts: its timeline changes and its incidents. */
function marksOf(run: HtmlRun): ChartMark[] {
  const marks: ChartMark[] = (run.trace?.changes ?? []).map((change) => ({
    x: change.atNs,
    label: change.label,
  }));
  for (const incident of run.report.incidents) {
    marks.push({
      x: incident.atNs,
      label: `${incident.domain} policy ${incident.policy} ejected (${incident.kind})`,
      color: "#dc2626",
    });
  }
  return marks;
}

/**
 * Rates between consecutive samples of cumulative counters, as `[time, rate]` points: each
 * interval's increase of `numerator` over its increase of `denominator`. An interval in which the
 * denominator does not grow (no time passed, no request completed) has no point, rather than a
 * zero; the last, shorter interval is a rate over its own length like the others.
 */
function rates(
  nowNs: readonly number[],
  numerator: readonly number[],
  denominator: (i: number) => number,
): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 1; i < nowNs.length && i < numerator.length; i++) {
    const span = denominator(i);
    if (span > 0) points.push([nowNs[i]!, (numerator[i]! - numerator[i - 1]!) / span]);
  }
  return points;
}

/** A line chart over simulated time, with many lines grouped and the note saying how. */
function timeChart(
  title: string,
  series: ChartSeries[],
  marks: ChartMark[],
  format: { yFormat?: "pct" | "dur" | "num"; empty?: string; extra?: ChartSeries[] } = {},
): string {
  const limited = limitSeries(series, MAX_LINES);
  return renderChart({
    kind: "line",
    title,
    note: limited.note || undefined,
    series: [...limited.series, ...(format.extra ?? [])],
    xFormat: "s",
    yFormat: format.yFormat,
    yMin: 0,
    xLabel: "simulated time",
    width: 640,
    height: 280,
    marks,
    empty: format.empty,
  });
}

function cpuSections(runs: readonly HtmlRun[], vmIds: string[]): string[] {
  const sections: string[] = [];
  const barWidth = Math.min(1240, Math.max(640, 40 + vmIds.length * (16 + 10 * runs.length)));
  sections.push(chartSection(
    renderChart({
      kind: "bar",
      title: "CPU share by VM (fraction of the host over the run)",
      categories: vmIds,
      series: runs.map((run) => ({
        name: run.label,
        points: run.report.vms.map((vm, i) => [i, vm.cpu.share] as [number, number]),
      })),
      yFormat: "pct",
      width: barWidth,
      height: 300,
    }),
    barWidth > 640,
  ));

  // A run in which no vCPU ever waited has a CDF that is one vertical line at zero: no data.
  const latency = runs.filter((run) =>
    (run.trace?.latencyCdf.length ?? 0) > 0 && run.report.host.cpu.latencyNs.max > 0
  );
  sections.push(chartSection(renderChart({
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
  })));

  for (const run of runs) {
    const trace = run.trace;
    if (trace === undefined || trace.nowNs.length < 2) continue;
    const now = trace.nowNs, pcpus = Math.max(1, trace.pcpus);
    const series = Object.entries(trace.runNs).map(([name, runNs]) => ({
      name,
      points: rates(now, runNs, (i) => (now[i]! - now[i - 1]!) * pcpus),
    }));
    sections.push(chartSection(
      timeChart(`CPU share over time · ${run.label}`, series, marksOf(run), { yFormat: "pct" }),
    ));
  }
  return sections;
}

function memorySections(runs: readonly HtmlRun[], vmIds: string[]): string[] {
  const hasMemory = runs.some((run) =>
    run.report.policies.memory !== undefined || run.report.vms.some((vm) => vm.memory.faults > 0)
  );
  const faults = chartSection(renderChart({
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
  }));
  if (!hasMemory) return [faults];
  const sections = [
    `<section class="wide"><h2>Memory by VM</h2>${memoryTable(runs)}</section>`,
  ];
  for (const run of runs) {
    const memory = run.trace?.memory;
    if (memory === undefined || run.trace!.nowNs.length < 2) continue;
    const now = run.trace!.nowNs;
    const pointsOf = (values: readonly (number | null)[]) =>
      values.flatMap((value, i) => value === null ? [] : [[now[i]!, value] as [number, number]]);
    const resident = limitSeries(
      Object.entries(memory.resident).map(([name, values]) => ({ name, points: pointsOf(values) })),
      MAX_LINES,
    );
    // Targets, when the run sets any: dashed, in the colour of the same VM's (or group's) line.
    const targets = limitSeries(
      Object.entries(memory.target)
        .filter(([, values]) => values.some((value) => value !== null))
        .map(([name, values]) => ({ name, points: pointsOf(values) })),
      MAX_LINES,
    );
    const palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"];
    const colours = new Map(
      resident.series.map((series, i) => [series.name, palette[i % palette.length]!]),
    );
    sections.push(chartSection(renderChart({
      kind: "line",
      title: `Resident frames over time · ${run.label}`,
      note: [resident.note, targets.series.length > 0 ? "dashed: balloon target" : ""]
        .filter(Boolean).join("; ") || undefined,
      series: [
        ...resident.series.map((series) => ({ ...series, color: colours.get(series.name) })),
        ...targets.series.map((series) => ({
          name: `${series.name} target`,
          points: series.points,
          color: colours.get(series.name) ?? "#6b7280",
          dash: "5 3",
        })),
      ],
      xFormat: "s",
      yMin: 0,
      xLabel: "simulated time",
      width: 640,
      height: 280,
      marks: marksOf(run),
    })));
    const faultRates = Object.entries(memory.faults).map(([name, values]) => ({
      name,
      points: rates(now, values, (i) => (now[i]! - now[i - 1]!) / 1e9),
    }));
    sections.push(chartSection(
      timeChart(`Page faults per simulated second · ${run.label}`, faultRates, marksOf(run)),
    ));
  }
  sections.push(faults);
  sections.push(chartSection(renderChart({
    kind: "bar",
    title: "Hit ratio by VM",
    categories: vmIds,
    series: runs.map((run) => ({
      name: run.label,
      points: run.report.vms.flatMap((vm, i) =>
        typeof vm.memory.hitRatio === "number" ? [[i, vm.memory.hitRatio] as [number, number]] : []
      ),
    })),
    yFormat: "pct",
    yMax: 1,
    width: 640,
    height: 280,
  })));
  return sections;
}

function ioSections(runs: readonly HtmlRun[], vmIds: string[]): string[] {
  const hasIo = runs.some((run) =>
    run.report.policies.io !== undefined || run.report.vms.some((vm) => vm.io.completed > 0)
  );
  const p99 = chartSection(renderChart({
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
  }));
  if (!hasIo) return [p99];
  const sections = [`<section class="wide"><h2>I/O by VM</h2>${ioTable(runs)}</section>`];
  for (const run of runs) {
    const io = run.trace?.io;
    if (io === undefined || run.trace!.nowNs.length < 2) continue;
    const now = run.trace!.nowNs;
    const series = Object.entries(io.latencySumNs).map(([name, sums]) => {
      const completed = io.completed[name]!;
      return { name, points: rates(now, sums, (i) => completed[i]! - completed[i - 1]!) };
    }).filter((series) => series.points.length > 0);
    sections.push(chartSection(
      timeChart(
        `I/O latency over time (mean of the requests completed per interval) · ${run.label}`,
        series,
        marksOf(run),
        { yFormat: "dur", empty: "No request completed" },
      ),
    ));
  }
  sections.push(p99);
  return sections;
}

/** Per VM and run: faults, hit ratio, peak and final residency, balloon target. */
function memoryTable(runs: readonly HtmlRun[]): string {
  const ratio = (x: unknown) => typeof x === "number" ? pct(x) : "–";
  const num = (x: unknown) => typeof x === "number" ? String(x) : "–";
  const columns: [string, (vm: Report["vms"][number]) => string][] = [
    ["faults", (vm) => String(vm.memory.faults)],
    ["hit ratio", (vm) => ratio(vm.memory.hitRatio)],
    ["resident peak", (vm) => String(vm.memory.residentPeak)],
    ["resident", (vm) => num(vm.memory.resident)],
    ["target", (vm) => num(vm.memory.target)],
  ];
  return runTable(runs, columns, (vm) => vm.memory.refs > 0);
}

/** Per VM and run: requests completed and their latency. */
function ioTable(runs: readonly HtmlRun[]): string {
  const columns: [string, (vm: Report["vms"][number]) => string][] = [
    ["completed", (vm) => String(vm.io.completed)],
    ["mean", (vm) => dur(vm.io.latencyNs.mean)],
    ["p99", (vm) => dur(vm.io.latencyNs.p99)],
    ["max", (vm) => dur(vm.io.latencyNs.max)],
  ];
  return runTable(runs, columns, (vm) => vm.io.requests > 0);
}

/** A VM per row, a group of columns per run. */
function runTable(
  runs: readonly HtmlRun[],
  columns: [string, (vm: Report["vms"][number]) => string][],
  keep: (vm: Report["vms"][number]) => boolean,
): string {
  const group = runs.length > 1;
  const head =
    (group
      ? `<tr><th></th>${
        runs.map((run) => `<th colspan="${columns.length}">${esc(run.label)}</th>`).join("")
      }</tr>`
      : "") +
    `<tr><th>vm</th>${
      runs.map(() => columns.map(([name]) => `<th>${esc(name)}</th>`).join("")).join("")
    }</tr>`;
  const rows = runs[0]!.report.vms.map((vm, i) => {
    if (!runs.some((run) => run.report.vms[i] !== undefined && keep(run.report.vms[i]!))) {
      return "";
    }
    return `<tr><td>${esc(vm.id)}</td>${
      runs.map((run) => {
        const mine = run.report.vms[i];
        return columns.map(([, value]) => `<td>${mine ? esc(value(mine)) : "–"}</td>`).join("");
      }).join("")
    }</tr>`;
  }).join("");
  return `<table>${head}${rows}</table>`;
}
