/**
 * Means and 95 % confidence intervals over seeds, and the rankings built on them. The interval is
 * Student's t: mean ± t(0.975, n-1) · s / √n. Two configurations whose intervals overlap differ by
 * less than the intervals, and the summary marks that difference as not significant.
 *
 * @module
 */

import { canonicalJson, cellText } from "./_json.ts";
import type { MetricSpec } from "./plan.ts";
import type { ShardResult } from "./run_shard.ts";
import { setLabel } from "./shards.ts";

/** A mean with its 95 % confidence interval. */
export interface Interval {
  /** How many values. */
  n: number;
  /** Their mean. */
  mean: number;
  /** Half the interval's width (NaN with fewer than two values). */
  half: number;
}

/** t(0.975, df) for df 1..30. */
const T_TABLE = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/**
 * The 97.5th percentile of Student's t with `df` degrees of freedom: the table to 30, then the
 * Cornish-Fisher expansion around the normal's 1.96 (within 0.001 past 30).
 *
 * @example
 * ```ts ignore
 * tQuantile(4); // 2.776
 * ```
 */
export function tQuantile(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T_TABLE[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** The mean and 95 % confidence interval of `values`, or null when there are none. */
export function meanInterval(values: number[]): Interval | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n === 1) return { n, mean, half: NaN };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { n, mean, half: tQuantile(n - 1) * Math.sqrt(variance / n) };
}

/** Whether two intervals overlap: their difference is smaller than the intervals. */
export function overlaps(a: Interval, b: Interval): boolean {
  if (Number.isNaN(a.half) || Number.isNaN(b.half)) return true;
  return Math.abs(a.mean - b.mean) <= a.half + b.half;
}

/** One configuration (a workload with its matrix values) and its results over seeds. */
export interface Group {
  /** A readable label: each matrix field and its value. */
  label: string;
  /** A short label: the values alone (for charts). */
  short: string;
  /** The workload path. */
  workload: string;
  /** The matrix values. */
  set: [string, unknown][];
  /** The results, one per seed. */
  results: ShardResult[];
}

/** Results grouped by configuration, in plan order. */
export function groupResults(results: ShardResult[], withWorkload: boolean): Group[] {
  const groups = new Map<string, Group>();
  for (const result of results) {
    const id = canonicalJson([result.workload, result.set]);
    let group = groups.get(id);
    if (group === undefined) {
      const label = [withWorkload ? result.workload : "", setLabel(result.set)].filter(Boolean)
        .join(" ") || result.workload;
      const short = [
        withWorkload ? result.workload : "",
        ...result.set.map(([, value]) => cellText(value)),
      ]
        .filter(Boolean).join(" / ") || result.workload;
      group = { label, short, workload: result.workload, set: result.set, results: [] };
      groups.set(id, group);
    }
    group.results.push(result);
  }
  return [...groups.values()];
}

/** A group's place in one metric's ranking. */
export interface Ranked {
  /** The group. */
  group: Group;
  /** Its interval for the metric. */
  interval: Interval;
  /** 1 for the best. */
  rank: number;
  /** Whether its difference from the one ranked just above is within the intervals. */
  notSignificant: boolean;
}

/** The groups ranked by one metric, best first (groups without a value are left out). */
export function rank(groups: Group[], metric: MetricSpec): Ranked[] {
  const rows: { group: Group; interval: Interval }[] = [];
  for (const group of groups) {
    const values = group.results.map((result) => result.metrics[metric.path])
      .filter((value): value is number => typeof value === "number");
    const interval = meanInterval(values);
    if (interval !== null) rows.push({ group, interval });
  }
  const sign = metric.better === "higher" ? -1 : 1;
  rows.sort((a, b) => sign * (a.interval.mean - b.interval.mean));
  return rows.map((row, i) => ({
    ...row,
    rank: i + 1,
    notSignificant: i > 0 && overlaps(row.interval, rows[i - 1]!.interval),
  }));
}
