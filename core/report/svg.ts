/**
 * Charts as inline SVG text: line charts (shares and utilisation over time), step charts (latency
 * CDFs) and grouped bar charts (per-VM figures side by side). No dependencies and no DOM, so the
 * same function draws the offline HTML reports on the server and the live dashboard in the
 * browser (the dashboard embeds its source text).
 *
 * @module
 */

/** One line (or one bar colour) of a chart. */
export interface ChartSeries {
  /** The legend label. */
  name: string;
  /** Points `[x, y]`; for bar charts `[categoryIndex, value]`. */
  points: [number, number][];
  /** A CSS colour (default: from the palette). */
  color?: string;
  /** A stroke dash pattern for a line, such as `"5 3"` (default: solid within the palette). */
  dash?: string;
}

/** What to draw. */
export interface ChartSpec {
  /** `line`, `step` (a staircase, for CDFs) or `bar` (grouped bars over `categories`). */
  kind: "line" | "step" | "bar";
  /** Title above the plot. */
  title?: string;
  /** Width in px (default 560). */
  width?: number;
  /** Height in px (default 260). */
  height?: number;
  /** Label under the x axis. */
  xLabel?: string;
  /** Label beside the y axis. */
  yLabel?: string;
  /**
   * How tick labels read: `s`, `ms` and `dur` (a unit chosen per value) take ns, `pct` takes
   * fractions, `num` plain numbers.
   */
  xFormat?: "s" | "ms" | "dur" | "pct" | "num";
  /** As `xFormat`, for the y axis. */
  yFormat?: "s" | "ms" | "dur" | "pct" | "num";
  /** A logarithmic x axis (values must be above 0). */
  xLog?: boolean;
  /** The lowest y shown (default 0). */
  yMin?: number;
  /** The highest y shown (default: from the data). */
  yMax?: number;
  /** Category names of a bar chart. */
  categories?: string[];
  /** The data. */
  series: ChartSeries[];
  /** Shown instead of a plot when there is no data. */
  empty?: string;
  /** A line under the title, in grey: what the lines are (`grouped by id prefix`, …). */
  note?: string;
  /**
   * Where the legend goes: `right` of the plot (lines) or `top`, under the title (bars: a wide bar
   * chart keeps its legend in view at its left end). Default: `top` for bars, `right` otherwise.
   */
  legend?: "right" | "top";
  /** Moments to mark on a time axis: a dashed vertical line each, its label on hover. */
  marks?: ChartMark[];
}

/** A moment marked on a chart's x axis (a swap, a parameter change, an incident). */
export interface ChartMark {
  /** Where, in the x axis' unit. */
  x: number;
  /** What happened (shown on hover). */
  label: string;
  /** A CSS colour (default grey). */
  color?: string;
}

/**
 * Renders a chart as an `<svg>` element. The function is self-contained (it uses nothing outside
 * its own body), so its source text runs as is in a browser.
 *
 * @example
 * ```ts
 * import { renderChart } from "./svg.ts";
 * const svg = renderChart({
 *   kind: "line",
 *   title: "share",
 *   series: [{ name: "vm-1", points: [[0, 0.2], [1e9, 0.5]] }],
 *   xFormat: "s",
 *   yFormat: "pct",
 * });
 * console.assert(svg.startsWith("<svg") && svg.includes("vm-1"));
 * ```
 */
export function renderChart(spec: ChartSpec): string {
  const palette = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#d62728",
  ];
  const width = spec.width ?? 560;
  let height = spec.height ?? 260;
  const bar = spec.kind === "bar";
  const categories = spec.categories ?? [];
  const shown = (name: string, max: number) =>
    name.length > max ? `${name.slice(0, max - 1)}…` : name;
  // Past the palette, lines are told apart by their dash pattern as well.
  const dashes = ["", "6 3", "2 2", "8 3 2 3"];
  const dashOf = (s: number) => dashes[Math.floor(s / palette.length) % dashes.length]!;
  const legendPlace = spec.series.length > 1 ? spec.legend ?? (bar ? "top" : "right") : "none";
  const legendWidth = legendPlace === "right" ? 140 : 0;
  const left = 58, right = 12 + legendWidth;
  // A top legend flows left to right under the title, as many rows as it takes.
  const topLegend: { x: number; row: number; label: string }[] = [];
  if (legendPlace === "top") {
    let x = left, row = 0;
    for (const series of spec.series) {
      const label = shown(series.name, 24);
      const w = 22 + label.length * 6.2;
      if (x + w > width - 12 && x > left) x = left, row++;
      topLegend.push({ x, row, label });
      x += w;
    }
  }
  const legendRows = topLegend.length === 0 ? 0 : topLegend[topLegend.length - 1]!.row + 1;
  const top = (spec.title ? 28 : 12) + (spec.note ? 14 : 0) + legendRows * 15;
  // Long category names lean, so that none overlaps its neighbour.
  const band0 = (width - left - right) / Math.max(1, categories.length);
  const longest = Math.max(0, ...categories.map((name) => shown(name, 14).length));
  const lean = bar && longest * 6.2 > band0 - 4;
  const bottom = lean ? 30 + Math.ceil(longest * 6.2 * 0.6) : 40;
  // Every line is in the legend: the chart grows to hold it.
  if (legendPlace === "right") height = Math.max(height, top + 8 + spec.series.length * 15 + 4);
  const plotW = Math.max(10, width - left - right), plotH = Math.max(10, height - top - bottom);
  const esc = (text: unknown) =>
    String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
      /"/g,
      "&quot;",
    );
  const fmt = (value: number, kind: string | undefined) => {
    const trim = (x: number) => {
      const abs = Math.abs(x);
      const text = abs >= 100 || x === Math.round(x)
        ? x.toFixed(0)
        : abs >= 10
        ? x.toFixed(1)
        : abs >= 1
        ? x.toFixed(2)
        : x.toPrecision(2);
      return String(Number(text));
    };
    if (kind === "pct") return `${trim(value * 100)}%`;
    if (kind === "s") return `${trim(value / 1e9)}s`;
    if (kind === "ms") return `${trim(value / 1e6)}ms`;
    if (kind === "dur") {
      const abs = Math.abs(value);
      if (abs >= 1e9) return `${trim(value / 1e9)}s`;
      if (abs >= 1e6) return `${trim(value / 1e6)}ms`;
      if (abs >= 1e3) return `${trim(value / 1e3)}µs`;
      return `${trim(value)}ns`;
    }
    return trim(value);
  };
  const niceStep = (span: number, count: number) => {
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    const unit = raw / power;
    return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
  };
  const legendEntry = (
    x: number,
    y: number,
    color: string,
    dash: string,
    label: string,
    name: string,
  ) =>
    `<g class="legend"><title>${esc(name)}</title>` + (bar
      ? `<rect x="${x}" y="${y}" width="10" height="10" fill="${color}"/>`
      : `<line x1="${x}" x2="${x + 14}" y1="${y + 5}" y2="${
        y + 5
      }" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`) +
    `<text x="${x + (bar ? 14 : 18)}" y="${y + 9}" fill="#333">${esc(label)}</text></g>`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="11" role="img">`,
  );
  if (spec.title) {
    out.push(
      `<text x="${left}" y="16" font-size="13" font-weight="600" fill="#222">${
        esc(spec.title)
      }</text>`,
    );
  }
  if (spec.note) {
    out.push(
      `<text x="${left}" y="${spec.title ? 30 : 16}" fill="#666" class="note">${
        esc(spec.note)
      }</text>`,
    );
  }
  const all = spec.series.flatMap((series) => series.points);
  if (all.length === 0) {
    out.push(
      `<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" fill="#888">${
        esc(spec.empty ?? "No data yet")
      }</text></svg>`,
    );
    return out.join("");
  }
  let xMin = 0, xMax = 1;
  if (!bar) {
    xMin = Math.min(...all.map((p) => p[0]));
    xMax = Math.max(...all.map((p) => p[0]));
    if (spec.xLog) {
      xMin = Math.max(xMin, 1e-12);
      xMax = Math.max(xMax, xMin * 10);
    } else if (xMax === xMin) xMax = xMin + 1;
  }
  let yMin = spec.yMin ?? Math.min(0, ...all.map((p) => p[1]));
  let yMax = spec.yMax ?? Math.max(...all.map((p) => p[1]));
  if (!(yMax > yMin)) yMax = yMin + 1;
  const yStep = niceStep(yMax - yMin, 5);
  if (spec.yMax === undefined) yMax = Math.ceil(yMax / yStep) * yStep;
  yMin = Math.floor(yMin / yStep) * yStep;
  const sx = (x: number) =>
    left +
    (spec.xLog
        ? (Math.log10(Math.max(x, xMin)) - Math.log10(xMin)) /
          (Math.log10(xMax) - Math.log10(xMin))
        : (x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) =>
    top + plotH - (Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin) * plotH;
  // Grid and y ticks.
  for (let y = yMin; y <= yMax + yStep / 1e6; y += yStep) {
    const py = sy(y).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${py}" dy="0.32em" text-anchor="end" fill="#555">${
        esc(fmt(y, spec.yFormat))
      }</text>`,
    );
  }
  // X ticks.
  if (bar) {
    const band = plotW / Math.max(1, categories.length);
    categories.forEach((name, i) => {
      const cx = (left + band * (i + 0.5)).toFixed(1), y = top + plotH + 14;
      out.push(
        lean
          ? `<text x="${cx}" y="${y}" text-anchor="end" transform="rotate(-35 ${cx} ${y})" fill="#555">${
            esc(shown(name, 14))
          }<title>${esc(name)}</title></text>`
          : `<text x="${cx}" y="${y}" text-anchor="middle" fill="#555">${
            esc(shown(name, 12))
          }<title>${esc(name)}</title></text>`,
      );
    });
  } else if (spec.xLog) {
    for (let e = Math.ceil(Math.log10(xMin)); e <= Math.floor(Math.log10(xMax)); e++) {
      const px = sx(Math.pow(10, e)).toFixed(1);
      out.push(
        `<line x1="${px}" x2="${px}" y1="${top}" y2="${top + plotH}" stroke="#f0f0f0"/>`,
        `<text x="${px}" y="${top + plotH + 14}" text-anchor="middle" fill="#555">${
          esc(fmt(Math.pow(10, e), spec.xFormat))
        }</text>`,
      );
    }
  } else {
    const xStep = niceStep(xMax - xMin, 6);
    for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax + xStep / 1e6; x += xStep) {
      out.push(
        `<text x="${sx(x).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle" fill="#555">${
          esc(fmt(x, spec.xFormat))
        }</text>`,
      );
    }
  }
  out.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${
      top + plotH
    }" stroke="#999"/>`,
  );
  if (spec.xLabel) {
    out.push(
      `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" fill="#333">${
        esc(spec.xLabel)
      }</text>`,
    );
  }
  if (spec.yLabel) {
    out.push(
      `<text transform="translate(12 ${
        top + plotH / 2
      }) rotate(-90)" text-anchor="middle" fill="#333">${esc(spec.yLabel)}</text>`,
    );
  }
  for (const mark of spec.marks ?? []) {
    if (bar || mark.x < xMin || mark.x > xMax) continue;
    const px = sx(mark.x).toFixed(1);
    out.push(
      `<g class="mark"><title>${esc(`${fmt(mark.x, spec.xFormat)}: ${mark.label}`)}</title>` +
        `<line x1="${px}" x2="${px}" y1="${top}" y2="${top + plotH}" stroke="${
          mark.color ?? "#6b7280"
        }" stroke-dasharray="3 3"/>` +
        `<line x1="${px}" x2="${px}" y1="${top}" y2="${
          top + plotH
        }" stroke="transparent" stroke-width="7"/></g>`,
    );
  }
  spec.series.forEach((series, s) => {
    const color = series.color ?? palette[s % palette.length];
    const dash = series.dash ?? (series.color === undefined ? dashOf(s) : "");
    if (bar) {
      const band = plotW / Math.max(1, categories.length);
      const barW = (band * 0.8) / spec.series.length;
      for (const [index, value] of series.points) {
        const x = left + band * index + band * 0.1 + barW * s;
        const y0 = sy(Math.max(0, yMin)), y1 = sy(value);
        out.push(
          `<rect x="${x.toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${
            Math.max(1, barW - 1).toFixed(1)
          }" height="${Math.abs(y0 - y1).toFixed(1)}" fill="${color}"><title>${
            esc(`${series.name} · ${categories[index] ?? index}: ${fmt(value, spec.yFormat)}`)
          }</title></rect>`,
        );
      }
    } else if (series.points.length > 0) {
      let d = "";
      series.points.forEach(([x, y], i) => {
        const px = sx(x).toFixed(1), py = sy(y).toFixed(1);
        if (i === 0) d += `M${px},${py}`;
        else if (spec.kind === "step") d += `H${px}V${py}`;
        else d += `L${px},${py}`;
      });
      // The name on hover: a wide transparent stroke over the line catches the pointer.
      out.push(
        `<g class="series"><title>${
          esc(series.name)
        }</title><path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${
          dash ? ` stroke-dasharray="${dash}"` : ""
        } data-series="${
          esc(series.name)
        }"/><path d="${d}" fill="none" stroke="transparent" stroke-width="8"/></g>`,
      );
    }
    if (legendPlace === "right") {
      const ly = top + 4 + s * 15, lx = width - legendWidth + 6;
      out.push(legendEntry(lx, ly, color!, dash, shown(series.name, 18), series.name));
    } else if (legendPlace === "top") {
      const entry = topLegend[s]!;
      const ly = (spec.title ? 24 : 8) + (spec.note ? 14 : 0) + entry.row * 15;
      out.push(legendEntry(entry.x, ly, color!, dash, entry.label, series.name));
    }
  });
  out.push("</svg>");
  return out.join("");
}

/** What {@linkcode limitSeries} drew: at most `max` lines, and a note that says how. */
export interface LimitedSeries {
  /** The lines to draw. */
  series: ChartSeries[];
  /** How they were formed (empty when each line is one of the inputs). */
  note: string;
}

/**
 * Keeps a line chart readable with many lines: at most `max` lines, each with its own colour.
 * When the names group by prefix into 2 to `max` groups (`web-1`, `web-2` → `web-*`), each
 * group is drawn as the sum of its members; otherwise the `max - 1` lines with the largest mean
 * are kept and the others summed into one `others` line. The note says which. Points are summed
 * by x. The function is self-contained, like {@linkcode renderChart}, so the dashboard embeds it.
 *
 * @example
 * ```ts
 * import { limitSeries } from "./svg.ts";
 * const series = Array.from({ length: 12 }, (_, i) => ({
 *   name: `${i < 6 ? "web" : "db"}-${i}`,
 *   points: [[0, 0.05], [1, 0.05]] as [number, number][],
 * }));
 * const limited = limitSeries(series, 10);
 * console.assert(limited.series.map((s) => s.name).join() === "web-* (6),db-* (6)");
 * ```
 *
 * @param series The lines.
 * @param max The most lines to draw (default 10).
 * @returns The lines to draw and the note.
 */
export function limitSeries(series: ChartSeries[], max = 10): LimitedSeries {
  if (series.length <= max) return { series, note: "" };
  const sum = (members: ChartSeries[], name: string): ChartSeries => {
    const byX = new Map<number, number>();
    for (const member of members) {
      for (const [x, y] of member.points) byX.set(x, (byX.get(x) ?? 0) + y);
    }
    return { name, points: [...byX.entries()].sort((a, b) => a[0] - b[0]) };
  };
  const groups = new Map<string, ChartSeries[]>();
  for (const one of series) {
    const prefix = /^(.*?\D)\d+$/.exec(one.name)?.[1] ?? one.name;
    const members = groups.get(prefix);
    if (members === undefined) groups.set(prefix, [one]);
    else members.push(one);
  }
  // One group of all (`vm-1` … `vm-40`) says nothing: then the top lines.
  if (groups.size > 1 && groups.size <= max) {
    return {
      series: [...groups.entries()].map(([prefix, members]) =>
        members.length === 1 ? members[0]! : sum(members, `${prefix}* (${members.length})`)
      ),
      note: `${series.length} lines grouped by id prefix: each line is the sum of its group`,
    };
  }
  const mean = (one: ChartSeries) =>
    one.points.reduce((total, point) => total + point[1], 0) / Math.max(1, one.points.length);
  const ranked = [...series].sort((a, b) => mean(b) - mean(a) || (a.name < b.name ? -1 : 1));
  const kept = ranked.slice(0, max - 1), rest = ranked.slice(max - 1);
  return {
    series: [...kept, sum(rest, `others (${rest.length})`)],
    note:
      `top ${kept.length} of ${series.length} by mean; the other ${rest.length} summed as "others"`,
  };
}
