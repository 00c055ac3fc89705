/**
 * `summary.html`: one self-contained page per sweep. For each metric, every configuration's mean
 * and 95 % confidence interval over seeds, its rank, a chart of the intervals, and a mark where a
 * difference from the configuration ranked just above is within the intervals (not significant).
 *
 * @module
 */

import type { MetricSpec } from "./plan.ts";
import type { Collected } from "./results.ts";
import type { ShardResult } from "./run_shard.ts";
import { groupResults, rank, type Ranked } from "./stats.ts";

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A number for people: thousands grouped when large, four significant digits when small. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(4)).toString();
}

const NOT_SIGNIFICANT = "n.s.";

function table(ranked: Ranked[]): string {
  const rows = ranked.map((row) => {
    const { mean, half, n } = row.interval;
    const interval = Number.isNaN(half)
      ? "n/a (one seed)"
      : `${formatNumber(mean - half)} … ${formatNumber(mean + half)}`;
    const mark = row.notSignificant
      ? `<span class="ns" title="within the intervals of rank ${
        row.rank - 1
      }">${NOT_SIGNIFICANT}</span>`
      : "";
    const incidents = row.group.results.reduce((sum, result) => sum + result.incidents, 0);
    return `<tr><td>${row.rank}</td><td>${escape(row.group.label)}</td><td>${n}</td><td>${
      formatNumber(mean)
    }</td><td>${interval}</td><td>${mark}</td><td>${incidents || ""}</td></tr>`;
  });
  return `<table><thead><tr><th>rank</th><th>configuration</th><th>seeds</th><th>mean</th><th>95 % CI</th><th></th><th>incidents</th></tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}

/** Horizontal bars (the means) with whiskers (the intervals), best first. */
function chart(metric: MetricSpec, ranked: Ranked[]): string {
  if (ranked.length === 0) return "";
  const labelWidth = 260, plotWidth = 420, rowHeight = 22, top = 8;
  const lows = ranked.map((row) =>
    row.interval.mean - (Number.isNaN(row.interval.half) ? 0 : row.interval.half)
  );
  const highs = ranked.map((row) =>
    row.interval.mean + (Number.isNaN(row.interval.half) ? 0 : row.interval.half)
  );
  const min = Math.min(0, ...lows), max = Math.max(0, ...highs);
  const span = max - min || 1;
  const x = (value: number) => labelWidth + ((value - min) / span) * plotWidth;
  const height = top * 2 + ranked.length * rowHeight;
  const parts = ranked.map((row, i) => {
    const y = top + i * rowHeight;
    const { mean, half } = row.interval;
    const zero = x(0), end = x(mean);
    const bar = `<rect x="${Math.min(zero, end).toFixed(1)}" y="${y + 4}" width="${
      Math.abs(end - zero).toFixed(1)
    }" height="${rowHeight - 8}" class="${row.notSignificant ? "bar ns-bar" : "bar"}"/>`;
    const whisker = Number.isNaN(half)
      ? ""
      : `<line x1="${x(mean - half).toFixed(1)}" x2="${x(mean + half).toFixed(1)}" y1="${
        y + rowHeight / 2
      }" y2="${y + rowHeight / 2}" class="ci"/><line x1="${x(mean - half).toFixed(1)}" x2="${
        x(mean - half).toFixed(1)
      }" y1="${y + 6}" y2="${y + rowHeight - 6}" class="ci"/><line x1="${
        x(mean + half).toFixed(1)
      }" x2="${x(mean + half).toFixed(1)}" y1="${y + 6}" y2="${y + rowHeight - 6}" class="ci"/>`;
    const label = `<text x="${labelWidth - 6}" y="${
      y + rowHeight / 2 + 4
    }" text-anchor="end">${row.rank}. ${
      escape(row.group.short.length > 34 ? row.group.short.slice(0, 33) + "…" : row.group.short)
    }</text>`;
    return label + bar + whisker;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${
    labelWidth + plotWidth + 20
  }" height="${height}" role="img" aria-label="${escape(metric.path)}">${parts.join("")}</svg>`;
}

/** The summary page of collected results. */
export function renderSummary(collected: Collected): string {
  const { manifest } = collected;
  const results = collected.results.filter((result): result is ShardResult => result !== undefined);
  const groups = groupResults(results, manifest.workloads.length > 1);
  const sections = manifest.metrics.map((metric) => {
    const ranked = rank(groups, metric);
    return `<section><h2>${escape(metric.path)} <small>(${metric.better} is better)</small></h2>${
      chart(metric, ranked)
    }${table(ranked)}</section>`;
  });
  const primary = manifest.metrics[0];
  const ranking = primary === undefined ? [] : rank(groups, primary);
  const overall = ranking.map((row) =>
    `<li>${escape(row.group.label)}${
      row.notSignificant ? ` <span class="ns">${NOT_SIGNIFICANT}</span>` : ""
    }</li>`
  ).join("");
  const problems = collected.missing.length + collected.mismatches.length +
    collected.conflicts.length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep ${escape(manifest.plan)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 2em; }
th, td { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
td:nth-child(2), th:nth-child(2) { text-align: left; }
.ns { color: #a15c00; font-weight: 600; }
.bar { fill: #4a7bd0; } .ns-bar { fill: #b9c8e6; } .ci { stroke: #111; stroke-width: 1.5; }
svg text { font-size: 12px; fill: #222; }
small { color: #666; font-weight: normal; }
</style></head><body>
<h1>Sweep ${escape(manifest.plan)}</h1>
<p>${results.length} of ${manifest.shards.length} shards, ${groups.length} configurations, code ${
    escape(manifest.code)
  }${
    problems > 0
      ? `; <strong>${problems} problem(s): see <code>hyperhook sweep collect</code></strong>`
      : ""
  }.
Each configuration's mean over its seeds with a 95 % confidence interval (Student's t).
<span class="ns">${NOT_SIGNIFICANT}</span> marks a configuration whose difference from the one ranked
just above it is smaller than their intervals: not significant.</p>
${primary === undefined ? "" : `<h2>Ranking by ${escape(primary.path)}</h2><ol>${overall}</ol>`}
${sections.join("\n")}
</body></html>
`;
}
