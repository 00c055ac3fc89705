/**
 * `hyperhook tune`: a search over a policy's declared parameters (the bounds of its `param.*`
 * declarations, narrowed by the tune file) for the best mean of one metric under constraints on
 * others, such as "minimise p99 latency with fairness ≥ 0.95". Candidates come from a grid or a
 * seeded random sample; successive halving gives every candidate a few seeds, keeps the best
 * 1/eta, doubles (eta times) their seeds, and so on up to the file's seeds. Each rung is a sweep
 * into one folder, so a candidate's earlier seeds are never run twice.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BUILTIN_POLICIES } from "../../mod.ts";
import type { Param } from "../policy/mod.ts";
import { canonicalJson } from "./_json.ts";
import type { Better } from "./metrics.ts";
import { parsePlan, SweepError, type SweepPlan } from "./plan.ts";
import type { ShardResult } from "./run_shard.ts";
import { type Interval, meanInterval } from "./stats.ts";

/** The schema identifier of a tune file. */
export const TUNE_SCHEMA = "hyperhook.tune/v1";

const TUNE_KEYS = ["policy", "domain", "params", "objective", "constraints", "search", "halving"];

/** A constraint on a metric's mean over seeds. */
export interface Constraint {
  /** The metric path. */
  path: string;
  /** The comparison. */
  op: ">=" | "<=" | ">" | "<";
  /** The bound. */
  value: number;
  /** As written. */
  text: string;
}

/** A validated tune file. */
export interface TunePlan {
  /** The sweep part: workloads, fixed matrix fields, the most seeds, isolation, metrics. */
  base: SweepPlan;
  /** The domain tuned. */
  domain: "cpu" | "memory" | "io";
  /** The policy reference (a path made absolute). */
  use: string;
  /** Config the search keeps fixed. */
  fixed: Record<string, unknown>;
  /** The values each searched parameter may take (grid) or its range (random). */
  space: ParamSpace[];
  /** The metric to optimise, and which way. */
  objective: { path: string; better: Better };
  /** The constraints. */
  constraints: Constraint[];
  /** Grid or random. */
  search: { method: "grid"; points: number } | { method: "random"; samples: number; seed: number };
  /** Successive halving: keep 1/eta per rung, start with minSeeds seeds. */
  halving: { eta: number; minSeeds: number };
}

/** One searched parameter. */
export interface ParamSpace {
  /** Its name. */
  name: string;
  /** Its grid of `points` values, as the policy takes them (a list or a choice: all of them). */
  values: (points: number) => unknown[];
  /** A random value from `u` in [0, 1). */
  draw: (u: number) => unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** A duration for a config: three significant digits in the largest readable unit. */
export function durationText(ns: number): string {
  const [unit, size] = ns >= 1e9
    ? ["s", 1e9]
    : ns >= 1e6
    ? ["ms", 1e6]
    : ns >= 1e3
    ? ["us", 1e3]
    : ["ns", 1];
  const value = Number((ns / (size as number)).toPrecision(3));
  return `${unit === "ns" ? Math.round(value) : value}${unit}`;
}

/**
 * Reads and validates a tune file. The policy's declared parameters are read from its definition:
 * a built-in's, or the module's default export (imported here, in this process: tune your own
 * code; the runs themselves are sandboxed as usual).
 *
 * @throws {SweepError} On the first problem, naming its place.
 */
export async function readTune(path: string): Promise<TunePlan> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new SweepError(`Tune file ${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  const fail = (where: string, message: string): never => {
    throw new SweepError(`Tune file ${path}: ${where}: ${message}`);
  };
  if (!isRecord(value)) return fail("(top level)", `expected a JSON object, got ${show(value)}`);
  if (value.schema !== TUNE_SCHEMA) {
    fail("schema", `expected "${TUNE_SCHEMA}", got ${show(value.schema)}`);
  }
  const baseDir = dirname(resolve(path));
  const domain = (value.domain ?? "cpu") as TunePlan["domain"];
  if (!["cpu", "memory", "io"].includes(domain)) {
    fail("domain", `expected cpu, memory or io, got ${show(value.domain)}`);
  }
  const policy = typeof value.policy === "string" ? { use: value.policy } : value.policy;
  if (!isRecord(policy) || typeof policy.use !== "string" || policy.use === "") {
    return fail(
      "policy",
      `expected a policy name or path, or {"use", "config"}, got ${show(value.policy)}`,
    );
  }
  const fixed = policy.config ?? {};
  if (!isRecord(fixed)) return fail("policy.config", `expected an object, got ${show(fixed)}`);
  const use = /^\.\.?\//.test(policy.use) ? resolve(baseDir, policy.use) : policy.use;
  const declared = await declaredParams(domain, use, (message) => fail("policy", message));
  const objective = value.objective;
  if (!isRecord(objective) || Object.keys(objective).length !== 1) {
    return fail(
      "objective",
      `expected {"minimize": PATH} or {"maximize": PATH}, got ${show(objective)}`,
    );
  }
  const [direction, objectivePath] = Object.entries(objective)[0]!;
  if ((direction !== "minimize" && direction !== "maximize") || typeof objectivePath !== "string") {
    return fail(
      "objective",
      `expected {"minimize": PATH} or {"maximize": PATH}, got ${show(objective)}`,
    );
  }
  const constraints = parseConstraints(value.constraints, fail);
  const metrics = [objectivePath, ...constraints.map((constraint) => constraint.path)];
  const extra = Array.isArray(value.metrics) ? value.metrics : [];
  const sweepPart: Record<string, unknown> = { ...value, schema: "hyperhook.sweep/v1" };
  for (const key of TUNE_KEYS) delete sweepPart[key];
  sweepPart.metrics = [...new Set([...metrics, ...extra])];
  sweepPart.seeds ??= { from: 1, count: 8 };
  const base = parsePlan(sweepPart, { source: path, baseDir, file: resolve(path) });
  if (base.matrix.some((entry) => entry.key.startsWith(`policies.${domain}`))) {
    fail("matrix", `expected no policies.${domain} field: the tune searches that policy`);
  }
  return {
    base,
    domain,
    use,
    fixed,
    space: parseSpace(value.params, declared, use, fail),
    objective: { path: objectivePath, better: direction === "minimize" ? "lower" : "higher" },
    constraints,
    search: parseSearch(value.search, fail),
    halving: parseHalving(value.halving, base.seeds!.length, fail),
  };
}

async function declaredParams(
  domain: string,
  use: string,
  fail: (message: string) => never,
): Promise<Readonly<Record<string, Param<unknown>>>> {
  const builtin = (BUILTIN_POLICIES as Record<
    string,
    Record<string, { definition: { params?: Record<string, Param<unknown>> } }>
  >)[domain]?.[use];
  let definition:
    | { params?: Readonly<Record<string, Param<unknown>>>; domain?: string }
    | undefined = builtin?.definition;
  if (definition === undefined) {
    try {
      const specifier = use.startsWith("/") ? pathToFileURL(use).href : use;
      definition = (await import(specifier)).default;
    } catch (error) {
      return fail(
        `cannot import ${use} to read its parameters (${(error as Error).message.split("\n")[0]})`,
      );
    }
  }
  if (definition?.params === undefined) {
    return fail(
      `${use} declares no parameters: expected a policy made with define${
        domain === "io" ? "Io" : domain === "cpu" ? "Cpu" : "Memory"
      }Policy and a config of param.*`,
    );
  }
  return definition.params;
}

function parseConstraints(
  value: unknown,
  fail: (where: string, message: string) => never,
): Constraint[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    return fail(
      "constraints",
      `expected an array such as ["host.cpu.fairness >= 0.95"], got ${show(value)}`,
    );
  }
  return value.map((text, i) => {
    const match = typeof text === "string"
      ? /^\s*(\S+)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)(ns|us|ms|s)?\s*$/.exec(text)
      : null;
    if (match === null) {
      return fail(
        `constraints[${i}]`,
        `expected "PATH >= NUMBER" (or <=, >, <; a time in ns may be a duration such as 10ms), got ${
          show(text)
        }`,
      );
    }
    return {
      path: match[1]!,
      op: match[2] as Constraint["op"],
      value: Number(match[3]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[match[4] ?? "ns"]!,
      text: text as string,
    };
  });
}

function parseSearch(
  value: unknown,
  fail: (where: string, message: string) => never,
): TunePlan["search"] {
  const search = value ?? { method: "grid" };
  if (!isRecord(search)) {
    return fail("search", `expected {"method": "grid" | "random", ...}, got ${show(value)}`);
  }
  const count = (key: string, fallback: number): number => {
    const n = search[key] ?? fallback;
    if (!(typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 10_000)) {
      return fail(`search.${key}`, `expected an integer from 1 to 10000, got ${show(n)}`);
    }
    return n;
  };
  if (search.method === "grid") return { method: "grid", points: count("points", 4) };
  if (search.method === "random") {
    return { method: "random", samples: count("samples", 16), seed: count("seed", 1) };
  }
  return fail("search.method", `expected "grid" or "random", got ${show(search.method)}`);
}

function parseHalving(
  value: unknown,
  maxSeeds: number,
  fail: (where: string, message: string) => never,
): TunePlan["halving"] {
  const halving = value ?? {};
  if (!isRecord(halving)) {
    return fail("halving", `expected {"eta": N, "minSeeds": N}, got ${show(value)}`);
  }
  const eta = halving.eta ?? 2, minSeeds = halving.minSeeds ?? Math.min(2, maxSeeds);
  if (!(typeof eta === "number" && Number.isInteger(eta) && eta >= 2 && eta <= 10)) {
    fail("halving.eta", `expected an integer from 2 to 10, got ${show(eta)}`);
  }
  if (
    !(typeof minSeeds === "number" && Number.isInteger(minSeeds) && minSeeds >= 1 &&
      minSeeds <= maxSeeds)
  ) {
    fail(
      "halving.minSeeds",
      `expected an integer from 1 to ${maxSeeds} (the seeds), got ${show(minSeeds)}`,
    );
  }
  return { eta: eta as number, minSeeds: minSeeds as number };
}

function parseSpace(
  value: unknown,
  declared: Readonly<Record<string, Param<unknown>>>,
  use: string,
  fail: (where: string, message: string) => never,
): ParamSpace[] {
  if (!isRecord(value) || Object.keys(value).length === 0) {
    return fail(
      "params",
      `expected the parameters to search, such as {"quantum": {"min": "1ms", "max": "50ms"}}, got ${
        show(value)
      }`,
    );
  }
  return Object.entries(value).map(([name, spec]): ParamSpace => {
    const where = `params.${name}`;
    const param = declared[name];
    if (param === undefined) {
      return fail(
        where,
        `${use} declares no such parameter; expected one of ${Object.keys(declared).join(", ")}`,
      );
    }
    if (!isRecord(spec)) {
      return fail(where, `expected {"min", "max"}, {"values": [...]} or {}, got ${show(spec)}`);
    }
    const check = (given: unknown, key: string): void => {
      try {
        param.parse(given);
      } catch (error) {
        fail(`${where}.${key}`, (error as Error).message);
      }
    };
    if (spec.values !== undefined) {
      if (!Array.isArray(spec.values) || spec.values.length === 0) {
        return fail(`${where}.values`, `expected a non-empty array, got ${show(spec.values)}`);
      }
      spec.values.forEach((given, i) => check(given, `values[${i}]`));
      const values = spec.values as unknown[];
      return { name, values: () => values, draw: (u) => values[Math.floor(u * values.length)] };
    }
    const bounds = param.bounds;
    if (bounds?.kind === "boolean") {
      return { name, values: () => [false, true], draw: (u) => u >= 0.5 };
    }
    if (bounds?.kind === "choice") {
      const choices = [...bounds.choices!];
      return { name, values: () => choices, draw: (u) => choices[Math.floor(u * choices.length)] };
    }
    if (bounds?.kind !== "duration" && bounds?.kind !== "number") {
      return fail(where, `${use} declares it without bounds to search: expected {"values": [...]}`);
    }
    const isDuration = bounds.kind === "duration";
    const toNumber = (given: unknown, key: string): number => {
      check(given, key);
      return isDuration ? param.parse(given) as number : given as number;
    };
    const min = spec.min !== undefined ? toNumber(spec.min, "min") : bounds.min;
    const max = spec.max !== undefined ? toNumber(spec.max, "max") : bounds.max;
    if (min === undefined || !Number.isFinite(min)) {
      return fail(
        where,
        `${use} declares no lower bound: expected "min"${isDuration ? ' such as "1ms"' : ""}`,
      );
    }
    if (max === undefined || !Number.isFinite(max)) {
      return fail(
        where,
        `${use} declares no upper bound: expected "max"${isDuration ? ' such as "50ms"' : ""}`,
      );
    }
    if (!(max > min)) {
      return fail(where, `expected "max" above "min", got ${show(spec.max)} and ${show(spec.min)}`);
    }
    const scale = spec.scale ?? "linear";
    if (scale !== "linear" && scale !== "log") {
      fail(`${where}.scale`, `expected "linear" or "log", got ${show(scale)}`);
    }
    if (scale === "log" && !(min > 0)) {
      fail(`${where}.scale`, `expected a positive "min" for a log scale, got ${min}`);
    }
    const at = (u: number): number =>
      scale === "log"
        ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)))
        : min + u * (max - min);
    const asValue = (x: number): unknown => {
      if (isDuration) return durationText(Math.min(max, Math.max(min, x)));
      const rounded = bounds.integer ? Math.round(x) : Number(x.toPrecision(4));
      return Math.min(max, Math.max(min, rounded));
    };
    return {
      name,
      values: (points) => {
        const grid = Array.from(
          { length: points },
          (_, i) => asValue(at(points === 1 ? 0 : i / (points - 1))),
        );
        return [...new Map(grid.map((item) => [JSON.stringify(item), item])).values()];
      },
      draw: (u) => asValue(at(u)),
    };
  });
}

/** A seeded uniform generator in [0, 1) (mulberry32): the same seed, the same candidates. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The candidate configs of a tune: the grid, or the random sample (duplicates dropped). */
export function candidates(tune: TunePlan): Record<string, unknown>[] {
  let configs: Record<string, unknown>[] = [{}];
  if (tune.search.method === "grid") {
    for (const param of tune.space) {
      const values = param.values(tune.search.points);
      configs = configs.flatMap((config) =>
        values.map((value) => ({ ...config, [param.name]: value }))
      );
      if (configs.length > 10_000) {
        throw new SweepError(
          `Tune: the grid has over 10000 candidates: expected fewer points or parameters`,
        );
      }
    }
  } else {
    const next = uniform(tune.search.seed);
    configs = Array.from({ length: tune.search.samples }, () => {
      const config: Record<string, unknown> = {};
      for (const param of tune.space) config[param.name] = param.draw(next());
      return config;
    });
  }
  return [...new Map(configs.map((config) => [canonicalJson(config), config])).values()];
}

/** How a candidate fared in one rung. */
export interface Score {
  /** Its searched values. */
  config: Record<string, unknown>;
  /** How many seeds it ran. */
  seeds: number;
  /** The objective's mean and interval over all its runs. */
  objective: Interval | null;
  /** Each constraint's mean. */
  constraints: (number | null)[];
  /** Whether every constraint's mean holds. */
  feasible: boolean;
  /** Whether it goes on to the next rung (or, in the last, whether it is the best). */
  kept: boolean;
}

function holds(constraint: Constraint, value: number | null): boolean {
  if (value === null) return false;
  switch (constraint.op) {
    case ">=":
      return value >= constraint.value;
    case "<=":
      return value <= constraint.value;
    case ">":
      return value > constraint.value;
    case "<":
      return value < constraint.value;
  }
}

/** Scores each candidate from its results, and orders them: feasible first, then by objective. */
export function score(
  tune: TunePlan,
  configs: Record<string, unknown>[],
  results: ShardResult[],
  seeds: number,
): Score[] {
  const key = `policies.${tune.domain}`;
  const byConfig = new Map<string, ShardResult[]>(
    configs.map((config) => [canonicalJson(config), []]),
  );
  for (const result of results) {
    const choice = result.set.find(([field]) => field === key)?.[1] as {
      config: Record<string, unknown>;
    };
    const searched: Record<string, unknown> = {};
    for (const param of tune.space) searched[param.name] = choice.config[param.name];
    byConfig.get(canonicalJson(searched))?.push(result);
  }
  const numbers = (list: ShardResult[], path: string): number[] =>
    list.map((result) => result.metrics[path]).filter((value): value is number =>
      typeof value === "number"
    );
  const scores = configs.map((config): Score => {
    const list = byConfig.get(canonicalJson(config)) ?? [];
    const constraints = tune.constraints.map((constraint) =>
      meanInterval(numbers(list, constraint.path))?.mean ?? null
    );
    return {
      config,
      seeds,
      objective: meanInterval(numbers(list, tune.objective.path)),
      constraints,
      feasible: tune.constraints.every((constraint, i) => holds(constraint, constraints[i]!)),
      kept: false,
    };
  });
  const sign = tune.objective.better === "higher" ? -1 : 1;
  return scores.sort((a, b) =>
    Number(b.feasible) - Number(a.feasible) ||
    sign * ((a.objective?.mean ?? Infinity * sign) - (b.objective?.mean ?? Infinity * sign))
  );
}

/** The plan of one rung: every surviving candidate on the first `seeds` seeds. */
export function rungPlan(
  tune: TunePlan,
  configs: Record<string, unknown>[],
  seeds: number,
): SweepPlan {
  return {
    ...tune.base,
    matrix: [
      {
        key: `policies.${tune.domain}`,
        values: configs.map((config) => ({ use: tune.use, config: { ...tune.fixed, ...config } })),
      },
      ...tune.base.matrix,
    ],
    seeds: tune.base.seeds!.slice(0, seeds),
  };
}

/** The outcome of a tune. */
export interface TuneOutcome {
  /** Every rung's scores, in order. */
  rungs: Score[][];
  /** The best feasible candidate of the last rung, if any. */
  best: Score | undefined;
}

/**
 * Runs the search: rung after rung, each a sweep of the survivors on more seeds.
 *
 * @param run Runs a rung's plan (expands it, runs its pending shards) and returns its results.
 */
export async function runTune(
  tune: TunePlan,
  run: (plan: SweepPlan) => Promise<ShardResult[]>,
): Promise<TuneOutcome> {
  let configs = candidates(tune);
  const maxSeeds = tune.base.seeds!.length;
  let seeds = Math.min(tune.halving.minSeeds, maxSeeds);
  const rungs: Score[][] = [];
  while (true) {
    const results = await run(rungPlan(tune, configs, seeds));
    const scores = score(tune, configs, results, seeds);
    rungs.push(scores);
    const last = seeds >= maxSeeds;
    const keep = last ? 1 : Math.max(1, Math.ceil(configs.length / tune.halving.eta));
    scores.forEach((entry, i) => entry.kept = i < keep);
    if (last) {
      const best = scores[0];
      return { rungs, best: best?.feasible ? best : undefined };
    }
    configs = scores.slice(0, keep).map((entry) => entry.config);
    seeds = Math.min(maxSeeds, seeds * tune.halving.eta);
  }
}
