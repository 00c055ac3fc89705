/**
 * Report metrics by path: `host.cpu.fairness`, `host.cpu.latencyNs.p99`, one VM's figure
 * (`vms[web-1].cpu.waitNs`), an aggregate over the VMs or disks (`vms.cpu.waitNs.mean`, with
 * `mean`, `min`, `max` or `sum` last) and `incidents` (how many). A path is checked against the
 * report's shape before anything runs, so a typo is one clear line rather than an empty column.
 *
 * @module
 */

import type { Report } from "../../mod.ts";

/** Which way a metric is better. */
export type Better = "higher" | "lower";

/** The aggregates over a list (the VMs, the disks), named last in a path. */
export const AGGREGATES = ["mean", "min", "max", "sum"] as const;

/**
 * Which way is better for a path when the plan does not say: higher for fairness, utilisation,
 * shares and completions, lower for everything else (waits, latencies, faults, misses).
 */
export function defaultBetter(path: string): Better {
  return /fairness|utilization|share|completed|entitlement|hit/i.test(path) ? "higher" : "lower";
}

/** Splits a path at dots outside brackets: `vms[a.b].cpu` → `vms[a.b]`, `cpu`. */
function tokens(path: string): string[] {
  const out: string[] = [];
  let current = "", depth = 0;
  for (const char of path) {
    if (char === "[") depth++;
    if (char === "]") depth--;
    if (char === "." && depth === 0) {
      out.push(current);
      current = "";
    } else current += char;
  }
  out.push(current);
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Walk = { value: number | null } | { problem: string };

function walk(node: unknown, parts: string[], where: string): Walk {
  if (parts.length === 0) {
    if (typeof node === "number") return { value: node };
    if (node === null) return { value: null };
    if (typeof node === "boolean") return { value: node ? 1 : 0 };
    if (isRecord(node)) {
      return {
        problem: `${where} is an object (${
          Object.keys(node).join(", ")
        }): expected a number, such as ${where}.${Object.keys(node)[0]}`,
      };
    }
    return { problem: `${where} is ${JSON.stringify(node)}: expected a number` };
  }
  const [part, ...rest] = parts as [string, ...string[]];
  const byId = /^([^[\]]+)\[([^\]]+)\]$/.exec(part);
  const name = byId === null ? part : byId[1]!;
  const here = where === "" ? name : `${where}.${name}`;
  if (!isRecord(node) || !Object.hasOwn(node, name)) {
    const known = isRecord(node) ? Object.keys(node).join(", ") : "no fields";
    return {
      problem: `unknown report path "${here}": ${where === "" ? "a report" : where} has ${known}`,
    };
  }
  const child = node[name];
  if (byId !== null) {
    if (!Array.isArray(child)) return { problem: `${here} is not a list: expected ${here}.FIELD` };
    const item = child.find((entry) => isRecord(entry) && entry.id === byId[2]);
    if (item === undefined) {
      const ids = child.map((entry) => (isRecord(entry) ? entry.id : "?")).join(", ");
      return { problem: `${here}[${byId[2]}]: no such id; ${here} has ${ids || "none"}` };
    }
    return walk(item, rest, `${here}[${byId[2]}]`);
  }
  if (Array.isArray(child)) {
    if (rest.length === 0) return { value: child.length };
    const aggregate = rest[rest.length - 1] as typeof AGGREGATES[number];
    if (!AGGREGATES.includes(aggregate)) {
      return {
        problem: `${here}.${rest.join(".")}: expected an aggregate (${
          AGGREGATES.join(", ")
        }) last, as in ${here}.${rest.join(".")}.mean, or one item as ${here}[ID].${
          rest.join(".")
        }`,
      };
    }
    const inner = rest.slice(0, -1);
    if (inner.length === 0) {
      return { problem: `${here}.${aggregate}: expected a field before the aggregate` };
    }
    const values: number[] = [];
    for (const item of child) {
      const result = walk(item, inner, `${here}[]`);
      if ("problem" in result) return result;
      if (result.value !== null) values.push(result.value);
    }
    return { value: aggregateOf(aggregate, values) };
  }
  return walk(child, rest, here);
}

function aggregateOf(aggregate: typeof AGGREGATES[number], values: number[]): number | null {
  if (values.length === 0) return null;
  switch (aggregate) {
    case "sum":
      return values.reduce((sum, value) => sum + value, 0);
    case "mean":
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case "min":
      return Math.min(...values);
    case "max":
      return Math.max(...values);
  }
}

/**
 * Checks `path` against a report's shape (a report of the same workload, even at time zero).
 *
 * @returns What is wrong, or undefined when the path names a number.
 */
export function checkMetric(report: Report, path: string): string | undefined {
  const result = walk(report, tokens(path), "");
  return "problem" in result ? result.problem : undefined;
}

/**
 * The value of `path` in a report: a number, or null when the report has none (an unfinished VM's
 * `finishNs`, an aggregate over an empty list).
 *
 * @example
 * ```ts ignore
 * metricValue(report, "vms.cpu.waitNs.mean"); // the mean wait over the VMs
 * ```
 */
export function metricValue(report: Report, path: string): number | null {
  const result = walk(report, tokens(path), "");
  return "value" in result ? result.value : null;
}
