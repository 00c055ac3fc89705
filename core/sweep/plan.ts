/**
 * The sweep plan `hyperhook.sweep/v1`: workloads (paths or globs, relative to the plan), a matrix
 * over policies and workload fields, seeds, the isolation, and the report metrics to collect.
 * Validated like workloads: the first problem found, in one line naming its place.
 *
 * @example
 * ```json
 * { "schema": "hyperhook.sweep/v1", "name": "quantum",
 *   "workloads": ["../workloads/demo.json"],
 *   "matrix": { "policies.cpu": ["rr", { "use": "rr", "config": { "quantum": "5ms" } }],
 *               "host.pcpus": [4, 8] },
 *   "seeds": { "from": 1, "count": 5 },
 *   "metrics": ["host.cpu.fairness", "host.cpu.latencyNs.p99", "vms.cpu.waitNs.mean"] }
 * ```
 *
 * @module
 */

import { dirname, relative, resolve } from "node:path";
import { expandGlob } from "./_glob.ts";
import { type Better, defaultBetter } from "./metrics.ts";

/** The schema identifier of a sweep plan. */
export const SWEEP_SCHEMA = "hyperhook.sweep/v1";

/** Where policies run, as `--isolation` takes it. */
export type PlanIsolation = "none" | "worker" | "process";

/** A sweep plan that cannot be used: one line naming the place and what was expected (exit 2). */
export class SweepError extends Error {
  /** @param message What was wrong, where, and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "SweepError";
  }
}

/** A metric to collect: a report path, and which way is better (for rankings and tuning). */
export interface MetricSpec {
  /** The report path, such as `host.cpu.latencyNs.p99` or `vms.cpu.waitNs.mean`. */
  path: string;
  /** Whether a higher or a lower value is better. */
  better: Better;
}

/** One workload file of a plan. */
export interface PlanWorkload {
  /** The path as shown in results: relative to the current folder when inside it. */
  path: string;
  /** The absolute path. */
  file: string;
  /** The file's text, exactly as read. */
  text: string;
}

/** A validated sweep plan. */
export interface SweepPlan {
  /** The plan's name. */
  name: string;
  /** The plan file (absolute), or a label for plans made in memory. */
  file: string;
  /** The plan as messages name it (the path as given). */
  source: string;
  /** Every workload file, globs expanded, in plan order. */
  workloads: PlanWorkload[];
  /** Matrix keys and their values as the plan wrote them, in plan order. */
  matrix: { key: string; values: unknown[] }[];
  /** The seeds; undefined runs each workload with its own seed. */
  seeds: number[] | undefined;
  /** Where policies run; undefined keeps the CLI's default. */
  isolation: PlanIsolation | undefined;
  /** The metrics to collect. */
  metrics: MetricSpec[];
}

const ISOLATIONS: readonly PlanIsolation[] = ["none", "worker", "process"];
const PLAN_KEYS = [
  "schema",
  "name",
  "description",
  "workloads",
  "matrix",
  "seeds",
  "isolation",
  "metrics",
];

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads and validates a plan file.
 *
 * @throws {SweepError} When the file is missing, not JSON, or not a valid plan.
 */
export async function readPlan(path: string): Promise<SweepPlan> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new SweepError(`Sweep plan ${path}: cannot read the file (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SweepError(`Sweep plan ${path}: not valid JSON (${(error as Error).message})`);
  }
  return parsePlan(value, { source: path, baseDir: dirname(resolve(path)), file: resolve(path) });
}

/**
 * Validates a parsed plan. Workload patterns are resolved against `baseDir` and read.
 *
 * @param options `source` names the plan in messages; `baseDir` resolves workload paths; `file` is
 *   the plan's file, when it has one; `extraKeys` are further top-level keys a caller reads (tune).
 * @throws {SweepError} On the first problem found.
 */
export function parsePlan(
  value: unknown,
  options: { source: string; baseDir: string; file?: string; extraKeys?: string[] },
): SweepPlan {
  const fail = (where: string, message: string): never => {
    throw new SweepError(`Sweep plan ${options.source}: ${where}: ${message}`);
  };
  if (!isRecord(value)) return fail("(top level)", `expected a JSON object, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (!PLAN_KEYS.includes(key) && !(options.extraKeys ?? []).includes(key)) {
      fail("(top level)", `unknown key "${key}": expected one of ${PLAN_KEYS.join(", ")}`);
    }
  }
  if (value.schema !== SWEEP_SCHEMA) {
    fail("schema", `expected "${SWEEP_SCHEMA}", got ${show(value.schema)}`);
  }
  if (typeof value.name !== "string" || value.name === "") {
    fail("name", `expected a non-empty string, got ${show(value.name)}`);
  }
  const workloads = parseWorkloads(value.workloads, options.baseDir, fail);
  const matrix = parseMatrix(value.matrix, fail);
  const seeds = parseSeeds(value.seeds, fail);
  if (value.isolation !== undefined && !ISOLATIONS.includes(value.isolation as PlanIsolation)) {
    fail("isolation", `expected one of ${ISOLATIONS.join(", ")}, got ${show(value.isolation)}`);
  }
  return {
    name: value.name as string,
    file: options.file ?? options.source,
    source: options.source,
    workloads,
    matrix,
    seeds,
    isolation: value.isolation as PlanIsolation | undefined,
    metrics: parseMetrics(value.metrics, fail),
  };
}

type Fail = (where: string, message: string) => never;

function parseWorkloads(value: unknown, baseDir: string, fail: Fail): PlanWorkload[] {
  if (!Array.isArray(value) || value.length === 0) {
    return fail("workloads", `expected a non-empty array of paths or globs, got ${show(value)}`);
  }
  const workloads: PlanWorkload[] = [];
  const seen = new Set<string>();
  value.forEach((pattern, i) => {
    if (typeof pattern !== "string" || pattern === "") {
      fail(
        `workloads[${i}]`,
        `expected a path or glob such as "../workloads/*.json", got ${show(pattern)}`,
      );
    }
    const files = expandGlob(pattern as string, baseDir);
    if (files.length === 0) {
      fail(`workloads[${i}]`, `expected a workload file, but ${show(pattern)} matches no file`);
    }
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      let text: string;
      try {
        text = Deno.readTextFileSync(file);
      } catch (error) {
        return fail(`workloads[${i}]`, `cannot read ${file} (${(error as Error).message})`);
      }
      workloads.push({ path: displayPath(file), file, text });
    }
  });
  return workloads;
}

/** A path relative to the current folder when it lies inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(Deno.cwd(), file);
  return rel.startsWith("..") || rel === "" ? file : rel;
}

function parseMatrix(value: unknown, fail: Fail): SweepPlan["matrix"] {
  if (value === undefined) return [];
  if (!isRecord(value)) {
    return fail(
      "matrix",
      `expected an object of workload fields to lists of values, got ${show(value)}`,
    );
  }
  return Object.entries(value).map(([key, values]) => {
    if (!/^[A-Za-z_$][\w$]*(\.([\w$-]+|\*))*$/.test(key)) {
      fail(
        `matrix["${key}"]`,
        "expected a dotted workload field such as host.pcpus or policies.cpu",
      );
    }
    if (!Array.isArray(values) || values.length === 0) {
      fail(`matrix["${key}"]`, `expected a non-empty array of values, got ${show(values)}`);
    }
    return { key, values: values as unknown[] };
  });
}

function parseSeeds(value: unknown, fail: Fail): number[] | undefined {
  if (value === undefined) return undefined;
  const isSeed = (seed: unknown): seed is number =>
    typeof seed === "number" && Number.isSafeInteger(seed) && seed >= 0;
  if (Array.isArray(value)) {
    if (value.length === 0) fail("seeds", "expected at least one seed, got []");
    value.forEach((seed, i) => {
      if (!isSeed(seed)) fail(`seeds[${i}]`, `expected a non-negative integer, got ${show(seed)}`);
    });
    if (new Set(value).size !== value.length) {
      fail("seeds", `expected distinct seeds, got ${show(value)}`);
    }
    return value as number[];
  }
  if (!isRecord(value)) {
    return fail(
      "seeds",
      `expected {"from": N, "count": N} or an array of integers, got ${show(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== "from" && key !== "count") {
      fail("seeds", `unknown key "${key}": expected from, count`);
    }
  }
  const from = value.from ?? 1, count = value.count;
  if (!isSeed(from)) fail("seeds.from", `expected a non-negative integer, got ${show(from)}`);
  if (!(typeof count === "number" && Number.isInteger(count) && count >= 1 && count <= 100_000)) {
    fail("seeds.count", `expected an integer from 1 to 100000, got ${show(count)}`);
  }
  return Array.from({ length: count as number }, (_, i) => (from as number) + i);
}

function parseMetrics(value: unknown, fail: Fail): MetricSpec[] {
  if (!Array.isArray(value) || value.length === 0) {
    return fail(
      "metrics",
      `expected a non-empty array of report paths such as "host.cpu.fairness", got ${show(value)}`,
    );
  }
  const metrics = value.map((item, i): MetricSpec => {
    if (typeof item === "string" && item !== "") return { path: item, better: defaultBetter(item) };
    if (isRecord(item) && typeof item.path === "string" && item.path !== "") {
      for (const key of Object.keys(item)) {
        if (key !== "path" && key !== "better") {
          fail(`metrics[${i}]`, `unknown key "${key}": expected path, better`);
        }
      }
      if (item.better !== undefined && item.better !== "higher" && item.better !== "lower") {
        fail(`metrics[${i}].better`, `expected "higher" or "lower", got ${show(item.better)}`);
      }
      return {
        path: item.path,
        better: (item.better as Better | undefined) ?? defaultBetter(item.path),
      };
    }
    return fail(
      `metrics[${i}]`,
      `expected a report path such as "host.cpu.fairness" or {"path", "better"}, got ${show(item)}`,
    );
  });
  const paths = metrics.map((metric) => metric.path);
  const twice = paths.find((path, i) => paths.indexOf(path) !== i);
  if (twice !== undefined) fail("metrics", `expected distinct paths, got "${twice}" twice`);
  return metrics;
}
