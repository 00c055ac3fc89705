/**
 * A datacenter run as one self-contained HTML page (inline SVG, no scripts): the headline
 * figures, active hosts, power and mean utilisation at every evaluation, and a heat map of every
 * host's utilisation over time.
 *
 * @module
 */

import type { Report } from "../report/report.ts";
import { renderChart } from "../report/svg.ts";
import { formatDatacenter } from "./report.ts";

const esc = (text: unknown) =>
  String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Renders a datacenter report; `rows` are the per-host utilisations at each evaluation
 * (`DatacenterDomain.utilizationRows`), drawn as a heat map of the hosts that were ever busy.
 *
 * @example
 * ```ts ignore
 * import { renderDatacenterHtml } from "./html.ts";
 * await Deno.writeTextFile("dc.html", renderDatacenterHtml(report, simulation.domain.utilizationRows));
 * ```
 */
export function renderDatacenterHtml(report: Report, rows: readonly Float32Array[]): string {
  const datacenter = report.datacenter;
  if (datacenter === undefined) throw new RangeError("renderDatacenterHtml: not a datacenter run");
  const timeline = datacenter.timeline;
  const line = (title: string, values: number[], yFormat: "num" | "pct") =>
    renderChart({
      kind: "line",
      title,
      xFormat: "s",
      yFormat,
      width: 640,
      series: [{ name: title, points: timeline.atNs.map((t, i) => [t, values[i]!]) }],
      empty: "no evaluation",
    });
  const sections = [
    `<section><pre>${esc(formatDatacenter(datacenter))}</pre></section>`,
    `<section>${line("active hosts", timeline.activeHosts, "num")}</section>`,
    `<section>${line("power (W)", timeline.powerW, "num")}</section>`,
    `<section>${line("mean utilisation of active hosts", timeline.utilization, "pct")}</section>`,
    `<section><h2>Host utilisation over time</h2>${heatMap(rows, timeline.atNs)}</section>`,
  ];
  const policy = report.policies.placement;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(report.workload)} · ${
    esc(policy?.name)
  }</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}` +
    `section{margin:0 0 24px}pre{background:#f6f6f6;padding:12px}</style></head><body>` +
    `<h1>${esc(report.workload)}: placement ${esc(policy?.name)}</h1>${sections.join("")}` +
    `<p>eventsHash ${esc(report.eventsHash)}</p></body></html>\n`;
}

/** One row of cells per host that was ever busy, one column per evaluation; darker is busier. */
function heatMap(rows: readonly Float32Array[], atNs: readonly number[]): string {
  if (rows.length === 0) return "<p>no evaluation</p>";
  const hosts = rows[0]!.length, busy: number[] = [];
  for (let h = 0; h < hosts; h++) if (rows.some((row) => row[h]! > 0)) busy.push(h);
  if (busy.length === 0) return "<p>no host was busy</p>";
  const cell = Math.max(1, Math.min(6, Math.floor(900 / rows.length)));
  const height = Math.max(1, Math.min(6, Math.floor(1200 / busy.length)));
  const width = rows.length * cell, tall = busy.length * height;
  const rects: string[] = [];
  busy.forEach((h, y) => {
    rows.forEach((row, x) => {
      const u = row[h]!;
      if (u <= 0) return;
      const shade = Math.round(255 - 200 * Math.min(1, u));
      rects.push(
        `<rect x="${x * cell}" y="${
          y * height
        }" width="${cell}" height="${height}" fill="rgb(${shade},${shade},255)"/>`,
      );
    });
  });
  const hours = (atNs[atNs.length - 1]! / 3.6e12).toFixed(1);
  return `<p>${busy.length} hosts (rows) × ${rows.length} evaluations (columns, up to ${hours} h)` +
    `</p><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${tall}" ` +
    `style="border:1px solid #ccc">${rects.join("")}</svg>`;
}
