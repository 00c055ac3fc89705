/**
 * Running one shard: exactly what `hyperhook run` does with the shard's workload (the fields set)
 * and `--seed`, on the CLI's own run path, then the metrics read from the report and the key
 * computed from what actually ran (this code, these bundles).
 *
 * @module
 */

import { runWorkload } from "../commands/run.ts";
import { codeIdentity } from "./code.ts";
import { metricValue } from "./metrics.ts";
import { policyDigests, shardKey, type ShardSpec, shardWorkload, traceDigests } from "./shards.ts";

/** The schema identifier of a shard's result file. */
export const RESULT_SCHEMA = "hyperhook.sweep-result/v1";

/** A shard's result, as written to `DIR/shards/<key>.json`. */
export interface ShardResult {
  /** Always `hyperhook.sweep-result/v1`. */
  schema: typeof RESULT_SCHEMA;
  /** The key computed by the code that ran it. */
  key: string;
  /** The key the planner expected (differs when the worker's code or bundles differ). */
  expectedKey: string;
  /** The shard's index in the plan. */
  index: number;
  /** The plan's name. */
  plan: string;
  /** The workload path as the plan's results show it. */
  workload: string;
  /** The matrix fields set, as the plan wrote them. */
  set: [string, unknown][];
  /** The seed. */
  seed: number;
  /** Each metric's value (null when the report has none). */
  metrics: Record<string, number | null>;
  /** The report's eventsHash. */
  eventsHash: string;
  /** Wall-clock time of the run (the report's `wallMs`). */
  wallMs: number;
  /** Simulated time covered. */
  simulatedNs: number;
  /** How many incidents (ejections) the run had. */
  incidents: number;
  /** The code identity that ran it. */
  code: string;
  /** Each domain's policy bundle sha256. */
  policies: Record<string, string>;
  /** Which process ran it (`host:pid`), for the record. */
  ranBy: string;
}

/** A shard's failure that is bad input (its workload or policy cannot run), not bad luck. */
export class ShardInputError extends Error {
  /** @param message One line naming the place and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "ShardInputError";
  }
}

/**
 * Runs one shard in this process.
 *
 * @throws {ShardInputError} When its workload or policies cannot run.
 */
export async function runShard(shard: ShardSpec): Promise<ShardResult> {
  const workload = shardWorkloadOrThrow(shard);
  let report;
  try {
    report = await runWorkload(workload, {
      seed: shard.seed,
      ...(shard.isolation === undefined ? {} : { isolation: shard.isolation }),
      policies: { cpu: undefined, memory: undefined, io: undefined },
    }, `shard ${shard.index}`);
  } catch (error) {
    const name = (error as Error).name;
    if (["WorkloadError", "PolicyReferenceError", "PolicyConfigError"].includes(name)) {
      throw new ShardInputError(
        `Shard ${shard.index} (${shard.workload.path}): ${(error as Error).message}`,
      );
    }
    throw error;
  }
  const policies = policyDigests(report);
  const code = await codeIdentity();
  const key = shardKey({
    code,
    workload: shard.workload.sha256,
    set: shard.set,
    seed: shard.seed,
    isolation: shard.isolation ?? null,
    policies,
    traces: traceDigests(workload),
  });
  const metrics: Record<string, number | null> = {};
  for (const path of shard.metrics) metrics[path] = metricValue(report, path);
  return {
    schema: RESULT_SCHEMA,
    key,
    expectedKey: shard.key,
    index: shard.index,
    plan: shard.plan,
    workload: shard.workload.path,
    set: shard.set,
    seed: shard.seed,
    metrics,
    eventsHash: report.eventsHash,
    wallMs: report.wallMs,
    simulatedNs: report.simulatedNs,
    incidents: report.incidents.length,
    code,
    policies,
    ranBy: `${Deno.hostname()}:${Deno.pid}`,
  };
}

function shardWorkloadOrThrow(shard: ShardSpec) {
  try {
    return shardWorkload(shard, `Shard ${shard.index}`);
  } catch (error) {
    throw new ShardInputError((error as Error).message);
  }
}
