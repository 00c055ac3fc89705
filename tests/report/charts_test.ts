// The charts of the HTML reports, read from the SVG text: every line is named (a <title>) and in
// the legend; many VMs are grouped (and the chart says how); the last sample is never a false
// drop to zero; bar legends stay at the left end; memory and I/O comparisons lead with their own
// tables and charts; timeline changes and incidents are marked.
import assert from "node:assert/strict";
import { limitSeries, renderChart } from "../../core/report/svg.ts";
import { renderHtmlReport } from "../../core/report/html.ts";
import { RunRecorder } from "../../core/report/recorder.ts";
import { runWorkload } from "../../core/commands/run.ts";
import { parseWorkload, readWorkload } from "../../core/workload/load.ts";
import { example } from "../_helpers.ts";

const lines = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    name: `vm-${String(i).padStart(2, "0")}`,
    points: [[0, 0.01 * i], [1e9, 0.02]] as [number, number][],
  }));

/** The text of every `<title>` of the `<g class="…">` groups of a chart. */
const titles = (svg: string, kind: string) =>
  [...svg.matchAll(new RegExp(`<g class="${kind}"><title>([^<]*)</title>`, "g"))].map((m) => m[1]);

Deno.test("renderChart: every line carries its name and is in the legend, however many", () => {
  const series = lines(24);
  const svg = renderChart({ kind: "line", series, height: 260 });
  const names = series.map((one) => one.name);
  assert.deepEqual(titles(svg, "series"), names);
  assert.deepEqual(titles(svg, "legend"), names);
  // The chart grows to hold its legend: 24 entries of 15 px below the top margin.
  const height = Number(/^<svg [^>]*height="(\d+)"/.exec(svg)![1]);
  assert.ok(height >= 12 + 8 + 24 * 15, `height ${height}`);
  // Past the 12 colours, lines differ by dash as well: no two share colour and dash.
  const styles = [
    ...svg.matchAll(/stroke="(#[0-9a-f]+)" stroke-width="1.6"( stroke-dasharray="[^"]*")?/g),
  ]
    .map((m) => `${m[1]}${m[2] ?? ""}`);
  assert.equal(styles.length, 24);
  assert.equal(new Set(styles).size, 24);
});

Deno.test("limitSeries: groups by id prefix, else keeps the top lines and sums the others", () => {
  const byPrefix = limitSeries([
    ...["web-1", "web-2", "web-3"].map((name) => ({ name, points: [[0, 0.1], [1, 0.2]] })),
    ...["db-1", "db-2"].map((name) => ({ name, points: [[0, 0.3], [1, 0.1]] })),
    { name: "batch", points: [[1, 0.5]] },
  ] as { name: string; points: [number, number][] }[], 3);
  assert.deepEqual(byPrefix.series.map((one) => [one.name, one.points]), [
    ["web-* (3)", [[0, 0.1 * 3], [1, 0.2 * 3]]],
    ["db-* (2)", [[0, 0.6], [1, 0.2]]],
    ["batch", [[1, 0.5]]],
  ]);
  assert.equal(byPrefix.note, "6 lines grouped by id prefix: each line is the sum of its group");
  const top = limitSeries(lines(12), 4);
  assert.deepEqual(top.series.map((one) => one.name), ["vm-11", "vm-10", "vm-09", "others (9)"]);
  assert.deepEqual(top.series[3]!.points, [[0, 0.01 * 36], [1e9, 0.02 * 9]]);
  assert.equal(top.note, 'top 3 of 12 by mean; the other 9 summed as "others"');
  assert.deepEqual(limitSeries(lines(3), 4), { series: lines(3), note: "" });
});

Deno.test("renderChart: a bar chart's legend sits under the title, at its left end", () => {
  const svg = renderChart({
    kind: "bar",
    title: "share",
    categories: Array.from({ length: 24 }, (_, i) => `analytics-${i}`),
    series: ["rr", "credit", "credit2", "fair", "srtf", "fcfs"].map((name) => ({
      name,
      points: Array.from({ length: 24 }, (_, i) => [i, 0.04] as [number, number]),
    })),
    width: 1240,
  });
  const legend = [
    ...svg.matchAll(/<g class="legend"><title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)"/g),
  ]
    .map((m) => ({ name: m[1], x: Number(m[2]), y: Number(m[3]) }));
  assert.deepEqual(legend.map((entry) => entry.name), [
    "rr",
    "credit",
    "credit2",
    "fair",
    "srtf",
    "fcfs",
  ]);
  // Above the plot (whose first grid line is lower) and within the first 640 px.
  const gridTop = Math.min(
    ...[...svg.matchAll(/<line [^>]*y1="([\d.]+)" y2="\1" stroke="#e5e5e5"/g)]
      .map((m) => Number(m[1])),
  );
  for (const entry of legend) {
    assert.ok(entry.y + 10 < gridTop && entry.x < 640, JSON.stringify({ entry, gridTop }));
  }
  // Long category names lean instead of overlapping, and keep their full name on hover.
  assert.match(
    svg,
    /transform="rotate\(-35 [^"]+\)" fill="#555">analytics-0<title>analytics-0<\/title>/,
  );
});

Deno.test("RunRecorder: the end is not sampled twice (a zero-length interval read as a 0 % share)", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "two",
    host: { pcpus: 2 },
    stopAt: "40ms",
    vms: ["a", "b"].map((id) => ({ id, cpu: { pattern: "cpu-bound" } })),
  });
  const recorder = new RunRecorder();
  await runWorkload(workload, {}, "x", recorder);
  const now = recorder.trace.nowNs;
  assert.equal(now[now.length - 1], 40_000_000);
  for (let i = 1; i < now.length; i++) assert.ok(now[i]! > now[i - 1]!, `samples ${now}`);
  const html = renderHtmlReport([{
    label: "rr",
    report: await runAgain(workload),
    trace: recorder.trace,
  }]);
  // Each VM has one of the two pCPUs in every interval, the last one included.
  const share = /CPU share over time · rr[\s\S]*?<\/svg>/.exec(html)![0];
  const zero = /<text x="\d+" y="([\d.]+)" dy="0.32em" text-anchor="end" fill="#555">0%<\/text>/
    .exec(share)![1];
  for (const d of share.matchAll(/<path d="([^"]+)" fill="none" stroke="#/g)) {
    const ys = [...d[1]!.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => m[1]);
    assert.notEqual(ys[ys.length - 1], zero, d[1]);
  }
});

async function runAgain(workload: Parameters<typeof runWorkload>[0]) {
  return await runWorkload(workload, {}, "x");
}

Deno.test("html: the demo's 24 VMs are drawn as groups by id prefix, and the chart says so", async () => {
  const workload = await readWorkload(example("demo.json"));
  workload.stopAt = 2_000_000_000;
  const recorder = new RunRecorder(20);
  const report = await runWorkload(workload, { policies: { cpu: { use: "rr" } } }, "rr", recorder);
  const html = renderHtmlReport([{ label: "rr", report, trace: recorder.trace }]);
  const share =
    /<svg [^>]*>(?:(?!<\/svg>)[\s\S])*CPU share over time · rr[\s\S]*?<\/svg>/.exec(html)![0];
  const groups = ["web-* (8)", "batch-* (4)", "analytics-* (8)", "job-* (4)"];
  assert.deepEqual(titles(share, "series"), groups);
  assert.deepEqual(titles(share, "legend"), groups);
  assert.match(share, /24 lines grouped by id prefix: each line is the sum of its group/);
});

Deno.test("html: a memory comparison leads with memory: its table, residency and targets over time", async () => {
  const workload = await readWorkload(example("memory_balloon.json"));
  workload.stopAt = 400_000_000;
  const runs = [];
  for (const policy of ["balancer", "lru"]) {
    const recorder = new RunRecorder(20);
    const report = await runWorkload(
      workload,
      { policies: { memory: { use: policy } } },
      policy,
      recorder,
    );
    runs.push({ label: policy, report, trace: recorder.trace });
  }
  const html = renderHtmlReport(runs);
  const order = [
    "<h2>Host</h2>",
    "<h2>Memory by VM</h2>",
    "Resident frames over time · balancer",
    "Page faults per simulated second · balancer",
    "Resident frames over time · lru",
    "Page faults by VM",
    "Hit ratio by VM",
    "CPU share by VM",
  ].map((text) => [text, html.indexOf(text)] as const);
  for (const [text, at] of order) assert.ok(at >= 0, `missing: ${text}`);
  assert.deepEqual(
    [...order].sort((a, b) => a[1] - b[1]).map(([text]) => text),
    order.map(([text]) => text),
  );
  const table = /<h2>Memory by VM<\/h2>(<table>[\s\S]*?<\/table>)/.exec(html)![1]!;
  assert.match(table, /<th colspan="5">balancer<\/th><th colspan="5">lru<\/th>/);
  assert.match(
    table,
    /<th>hit ratio<\/th><th>resident peak<\/th><th>resident<\/th><th>target<\/th>/,
  );
  for (const vm of ["db", "web", "batch"]) assert.match(table, new RegExp(`<td>${vm}</td>`));
  const resident = /Resident frames over time · balancer[\s\S]*?<\/svg>/.exec(html)![0];
  assert.deepEqual(titles(resident, "series"), [
    "db",
    "web",
    "batch",
    "db target",
    "web target",
    "batch target",
  ]);
  assert.match(resident, /dashed: balloon target/);
});

Deno.test("html: an I/O comparison leads with its table and latency over time", async () => {
  const workload = await readWorkload(example("disk_hdd.json"));
  workload.stopAt = 3_000_000_000;
  const runs = [];
  for (const policy of ["clook", "sstf"]) {
    const recorder = new RunRecorder(20);
    const report = await runWorkload(
      workload,
      { policies: { io: { use: policy } } },
      policy,
      recorder,
    );
    runs.push({ label: policy, report, trace: recorder.trace });
  }
  const html = renderHtmlReport(runs);
  const at = (text: string) => html.indexOf(text);
  assert.ok(at("<h2>I/O by VM</h2>") > at("<h2>Host</h2>"));
  assert.ok(
    at("I/O latency over time (mean of the requests completed per interval) · clook") >
      at("<h2>I/O by VM</h2>"),
  );
  assert.ok(at("I/O latency over time (mean of the requests completed per interval) · sstf") > 0);
  assert.ok(at("CPU share by VM") > at("I/O latency by VM (p99)"));
  const overTime = /I\/O latency over time [^<]*· clook[\s\S]*?<\/svg>/.exec(html)![0];
  assert.deepEqual(titles(overTime, "series"), runs[0]!.report.vms.map((vm) => vm.id));
  const table = /<h2>I\/O by VM<\/h2>(<table>[\s\S]*?<\/table>)/.exec(html)![1]!;
  assert.match(table, /<th>completed<\/th><th>mean<\/th><th>p99<\/th><th>max<\/th>/);
});

Deno.test("html: the timeline's changes and the incidents are marked on the charts over time", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "marked",
    host: { pcpus: 2 },
    stopAt: "100ms",
    vms: ["a", "b", "c"].map((id) => ({ id, cpu: { pattern: "cpu-bound" } })),
    timeline: [{ at: "40ms", vm: "a", set: { weight: 1024, cap: 50 } }],
  });
  const recorder = new RunRecorder(20);
  const report = await runWorkload(
    workload,
    { policies: { cpu: { use: "credit" } } },
    "c",
    recorder,
  );
  report.incidents.push(
    {
      atNs: 70_000_000,
      domain: "cpu",
      policy: "credit",
      kind: "error",
      reason: "threw",
      message: "boom",
    } as (typeof report.incidents)[number],
  );
  const html = renderHtmlReport([{ label: "credit", report, trace: recorder.trace }]);
  const share = /CPU share over time · credit[\s\S]*?<\/svg>/.exec(html)![0];
  assert.deepEqual(titles(share, "mark"), [
    "0.04s: a weight 1024, cap 50",
    "0.07s: cpu policy credit ejected (error)",
  ]);
  assert.match(share, /<g class="mark"><title>0\.07s[^<]*<\/title><line [^>]*stroke="#dc2626"/);
});
