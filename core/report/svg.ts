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
  const width = spec.width ?? 560, height = spec.height ?? 260;
  const legendWidth = spec.series.length > 1 ? 130 : 0;
  const left = 58, right = 12 + legendWidth, top = spec.title ? 28 : 12, bottom = 40;
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
  const all = spec.series.flatMap((series) => series.points);
  if (all.length === 0) {
    out.push(
      `<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" fill="#888">${
        esc(spec.empty ?? "No data yet")
      }</text></svg>`,
    );
    return out.join("");
  }
  const bar = spec.kind === "bar";
  const categories = spec.categories ?? [];
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
      const cx = left + band * (i + 0.5);
      const label = name.length > 12 ? `${name.slice(0, 11)}…` : name;
      out.push(
        `<text x="${cx.toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle" fill="#555">${
          esc(label)
        }</text>`,
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
  spec.series.forEach((series, s) => {
    const color = series.color ?? palette[s % palette.length];
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
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6" data-series="${
          esc(series.name)
        }"/>`,
      );
    }
    if (legendWidth > 0 && s < 16) {
      const ly = top + 4 + s * 15, lx = width - legendWidth + 6;
      const label = series.name.length > 16 ? `${series.name.slice(0, 15)}…` : series.name;
      out.push(
        `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/>`,
        `<text x="${lx + 14}" y="${ly + 9}" fill="#333">${esc(label)}</text>`,
      );
    }
  });
  out.push("</svg>");
  return out.join("");
}
