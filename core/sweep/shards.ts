/**
 * A plan expanded to shards. Each shard is one run: a workload with the matrix fields set, one
 * seed, and its stable key, a sha256 over everything the run depends on (the workload's bytes and
 * its trace files, the fields set, the seed, the isolation, every policy bundle's sha256, and the
 * code's identity). The same inputs on the same code always give the same key; anything else
 * gives another.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { createSimulation, parseWorkload, type Report, type Workload } from "../../mod.ts";
import { canonicalJson, cellText, setField, sha256Hex } from "./_json.ts";
import { codeIdentity } from "./code.ts";
import { checkMetric } from "./metrics.ts";
import { type PlanIsolation, SweepError, type SweepPlan } from "./plan.ts";

/** One run of a sweep, as a worker receives it: self-contained, but for trace and policy files. */
export interface ShardSpec {
  /** Its place in the plan's expansion (workload, then matrix, then seed). */
  index: number;
  /** The key the planner expects (a worker on other code computes another). */
  key: string;
  /** The plan's name. */
  plan: string;
  /** The workload: its path as shown, its file, its text and that text's sha256. */
  workload: { path: string; file: string; text: string; sha256: string };
  /** The matrix fields set, as the plan wrote them, in plan order. */
  set: [string, unknown][];
  /** The plan's folder: a policy path in the matrix (`./my_policy.ts`) is relative to it. */
  planDir: string;
  /** The seed (`--seed`). */
  seed: number;
  /** `--isolation`, when the plan sets it. */
  isolation?: PlanIsolation;
  /** The report paths to collect. */
  metrics: string[];
}

/** What a key is computed from. */
export interface KeyInputs {
  /** The code's identity ({@linkcode codeIdentity}). */
  code: string;
  /** sha256 of the workload file's text. */
  workload: string;
  /** The matrix fields set. */
  set: [string, unknown][];
  /** The seed. */
  seed: number;
  /** The isolation the plan asked for, if any. */
  isolation: string | null;
  /** Each domain's policy bundle sha256. */
  policies: Record<string, string>;
  /** sha256 of each trace file the workload reads, by path. */
  traces: Record<string, string>;
}

/** The key of a shard: sha256 of its inputs as canonical JSON. */
export function shardKey(inputs: KeyInputs): string {
  return sha256Hex(canonicalJson(inputs));
}

/** A readable label of the fields a shard sets, such as `policies.cpu=rr host.pcpus=4`. */
export function setLabel(set: [string, unknown][]): string {
  return set.map(([key, value]) => `${key}=${cellText(value)}`).join(" ");
}

/**
 * A shard's workload as JSON: the file's with the matrix fields set, and a policy path of the
 * matrix made absolute (it is relative to the plan).
 *
 * @throws {SweepError} When a field cannot be set (an index past an array, a field of a number).
 */
export function shardJson(
  shard: Pick<ShardSpec, "workload" | "set" | "planDir">,
  source: string,
): Record<string, unknown> {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(shard.workload.text);
  } catch (error) {
    throw new SweepError(
      `Workload ${shard.workload.path}: not valid JSON (${(error as Error).message})`,
    );
  }
  for (const [key, fieldValue] of shard.set) {
    const problem = setField(value, key, fieldValue);
    if (problem !== undefined) {
      throw new SweepError(
        `${source}: matrix["${key}"]: ${problem} (in workload ${shard.workload.path})`,
      );
    }
    const policy = /^policies\.(cpu|memory|io)(\.use)?$/.exec(key);
    const choice = policy === null
      ? undefined
      : (value.policies as Record<string, { use?: unknown }> | undefined)?.[policy[1]!];
    if (typeof choice?.use === "string" && /^\.\.?\//.test(choice.use)) {
      choice.use = resolve(shard.planDir, choice.use);
    }
  }
  return value;
}

/**
 * The workload of a shard: the file's JSON with the fields set, validated exactly as
 * `hyperhook run` validates a file (relative trace paths resolve against the workload's folder).
 *
 * @throws {SweepError} When a field is not a workload field or a value is not valid there.
 */
export function shardWorkload(
  shard: Pick<ShardSpec, "workload" | "set" | "planDir">,
  source: string,
): Workload {
  const value = shardJson(shard, source);
  try {
    return parseWorkload(value, {
      source: shard.workload.path,
      baseDir: shard.workload.file.slice(0, shard.workload.file.lastIndexOf("/")) || "/",
    });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /: unknown key ((?:"[^"]*"(?:, )?)+)$/.exec(message);
    if (unknown !== null) {
      const names = [...unknown[1]!.matchAll(/"([^"]*)"/g)].map((match) => match[1]!);
      const key = shard.set.find(([field]) =>
        field.split(".").some((part) => names.includes(part))
      );
      if (key !== undefined) {
        throw new SweepError(
          `${source}: matrix["${
            key[0]
          }"]: expected a workload field such as host.pcpus or policies.cpu, but it is not one (${message})`,
        );
      }
    }
    throw new SweepError(
      `${source}: matrix ${setLabel(shard.set) || "(none)"}: ${message}`,
    );
  }
}

/** The trace files a workload reads. */
export function traceFiles(workload: Workload): string[] {
  const files = new Set<string>();
  for (const vm of workload.vms) {
    if (vm.cpu?.trace !== undefined) files.add(vm.cpu.trace.path);
    for (const trace of vm.io?.trace ?? []) files.add(trace.path);
  }
  return [...files].sort();
}

const traceHashes = new Map<string, { stamp: string; sha256: string }>();

/** sha256 of each trace file, remembered per file while its size and time stamp stay. */
export function traceDigests(workload: Workload): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const file of traceFiles(workload)) {
    let stamp: string;
    try {
      const stat = Deno.statSync(file);
      stamp = `${stat.size}:${stat.mtime?.getTime()}`;
    } catch {
      digests[file] = "missing";
      continue;
    }
    let known = traceHashes.get(file);
    if (known?.stamp !== stamp) {
      known = { stamp, sha256: sha256Hex(Deno.readFileSync(file)) };
      traceHashes.set(file, known);
    }
    digests[file] = known.sha256;
  }
  return digests;
}

/** Each domain's policy bundle sha256, from a report. */
export function policyDigests(report: Report): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [domain, policy] of Object.entries(report.policies)) {
    if (policy !== undefined) digests[domain] = policy.sha256;
  }
  return digests;
}

/** A plan expanded: its shards, in order, and the code that planned them. */
export interface Expansion {
  /** The code identity the keys were computed with. */
  code: string;
  /** Every shard. */
  shards: ShardSpec[];
  /** Each shard's bundle digests (from the preflight of its combination). */
  policies: Record<string, string>[];
}

/**
 * Expands a plan to its shards and computes their keys. Each combination of workload and matrix
 * values is built once before anything runs (its policies loaded and started, then closed, and
 * the metrics checked against its report), so bad input stops the sweep before it writes anything.
 *
 * @param only When given, only the combination holding shard `only` is built (the others' keys
 *   stay empty): what one array task of a cluster needs.
 * @throws {SweepError} On bad input, naming the plan, the place and what was expected.
 */
export async function expandPlan(plan: SweepPlan, only?: number): Promise<Expansion> {
  const code = await codeIdentity();
  const source = `Sweep plan ${plan.source}`;
  const combinations = cartesian(plan.matrix);
  const planDir = dirname(plan.file);
  const shards: ShardSpec[] = [];
  const policies: Record<string, string>[] = [];
  for (const file of plan.workloads) {
    const workloadSha = sha256Hex(file.text);
    const workloadRef = { path: file.path, file: file.file, text: file.text, sha256: workloadSha };
    for (const set of combinations) {
      const workload = shardWorkload({ workload: workloadRef, set, planDir }, source);
      const seeds = plan.seeds ?? [workload.seed];
      const first = shards.length;
      const wanted = only === undefined || (only >= first && only < first + seeds.length);
      let digests: Record<string, string> = {};
      let traces: Record<string, string> = {};
      if (wanted) {
        const where = `${source}: ${file.path}${set.length > 0 ? ` with ${setLabel(set)}` : ""}`;
        digests = await preflight(workload, seeds[0]!, plan, where);
        traces = traceDigests(workload);
      }
      for (const seed of seeds) {
        const isolation = plan.isolation ?? null;
        const inputs = {
          code,
          workload: workloadSha,
          set,
          seed,
          isolation,
          policies: digests,
          traces,
        };
        shards.push({
          index: shards.length,
          key: wanted ? shardKey(inputs) : "",
          plan: plan.name,
          workload: workloadRef,
          set,
          planDir,
          seed,
          ...(plan.isolation === undefined ? {} : { isolation: plan.isolation }),
          metrics: plan.metrics.map((metric) => metric.path),
        });
        policies.push(digests);
      }
    }
  }
  return { code, shards, policies };
}

/** Builds a combination's simulation, checks the metrics on its report, and closes it. */
async function preflight(
  workload: Workload,
  seed: number,
  plan: SweepPlan,
  where: string,
): Promise<Record<string, string>> {
  let report: Report;
  try {
    const simulation = await createSimulation(workload, { seed, isolation: plan.isolation });
    try {
      report = simulation.report();
    } finally {
      await simulation.close();
    }
  } catch (error) {
    if (error instanceof SweepError) throw error;
    const name = (error as Error).name;
    if (["WorkloadError", "PolicyReferenceError", "PolicyConfigError"].includes(name)) {
      throw new SweepError(`${where}: ${(error as Error).message}`);
    }
    throw error;
  }
  plan.metrics.forEach((metric, i) => {
    const problem = checkMetric(report, metric.path);
    if (problem !== undefined) {
      throw new SweepError(`Sweep plan ${plan.source}: metrics[${i}]: ${problem}`);
    }
  });
  return policyDigests(report);
}

/** Every combination of the matrix values, the first key outermost, in plan order. */
export function cartesian(matrix: SweepPlan["matrix"]): [string, unknown][][] {
  let combinations: [string, unknown][][] = [[]];
  for (const { key, values } of matrix) {
    const next: [string, unknown][][] = [];
    for (const combination of combinations) {
      for (const value of values) next.push([...combination, [key, value]]);
    }
    combinations = next;
  }
  return combinations;
}
