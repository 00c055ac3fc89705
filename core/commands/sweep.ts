/**
 * `hyperhook sweep`: a plan of many runs (policies × configurations × workload fields × seeds) on
 * a local pool of warm processes by default, on BullMQ and Redis across machines
 * (`--engine bullmq`), or one shard at a time for Slurm and Kubernetes array jobs (`sweep shard`,
 * `sweep slurm`, `sweep collect`). See docs/sweeps.md.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { ShardFailure } from "../sweep/local.ts";
import { writeCollected } from "../sweep/output.ts";
import { readPlan, type SweepPlan } from "../sweep/plan.ts";
import { V8_FLAGS } from "../sweep/pool.ts";
import {
  gather,
  manifestOf,
  problems,
  readManifest,
  storeResult,
  writeManifest,
} from "../sweep/results.ts";
import { runShard } from "../sweep/run_shard.ts";
import { expandPlan, setLabel, shardJson } from "../sweep/shards.ts";
import { EXIT, parseFlags, UsageError } from "./common.ts";
import { asUsage, ENGINE_FLAGS, engineChoice, openEngine, runShards } from "./_engine.ts";

/** Usage of `sweep`. */
export const SWEEP_USAGE =
  `hyperhook sweep <plan.json> [options]      run every shard of a plan, then collect
  --out DIR            the results folder (default out/sweeps/<plan name>)
  --jobs N             warm local processes, one shard each at a time (default: one per core)
  --engine local|bullmq  where shards run (default local)
  --redis URL          the Redis of the bullmq engine, redis://HOST:PORT
  --queue NAME         the BullMQ queue (default hyperhook-sweeps)
  --attempts N         tries per shard when its process dies or it throws (default 3)
  --parquet            also write DIR/results.parquet
hyperhook sweep shard <plan.json> --index I --out DIR   run shard I into DIR
                     (I defaults to $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)
hyperhook sweep slurm <plan.json> --out DIR [--time 1:00:00] [--partition P] [--command CMD]
                     print an sbatch --array script running every shard
hyperhook sweep collect DIR [--parquet]   merge DIR's result files into DIR/results.csv
hyperhook sweep show <plan.json> --index I   print shard I's workload (run it with hyperhook run)`;

/** Runs the `sweep` subcommand and its own subcommands; returns the exit code. */
export function sweepCommand(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  switch (first) {
    case "shard":
      return asUsage(() => shardCommand(rest));
    case "slurm":
      return asUsage(() => slurmCommand(rest));
    case "collect":
      return asUsage(() => collectCommand(rest));
    case "show":
      return asUsage(() => showCommand(rest));
    default:
      return asUsage(() => runSweep(args));
  }
}

async function runSweep(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    out: { type: "string" },
    ...ENGINE_FLAGS,
    parquet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SWEEP_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`sweep: expected one plan file, got ${positionals.length}`);
  }
  const choice = engineChoice(values);
  const plan = await readPlan(positionals[0]!);
  const dir = (values.out as string | undefined) ?? join("out", "sweeps", safeName(plan.name));
  const engine = await openEngine(choice);
  const expansion = await expandPlan(plan);
  await prepareDir(dir);
  const manifest = manifestOf(plan, expansion);
  await writeManifest(dir, manifest);
  const { failures, summary } = await runShards(engine, expansion.shards, {
    dir,
    label: plan.name,
  });
  return await finish(
    dir,
    plan.name,
    manifest.shards.length,
    summary,
    failures,
    values.parquet === true,
  );
}

async function finish(
  dir: string,
  name: string,
  total: number,
  summary: string,
  failures: ShardFailure[],
  parquet: boolean,
): Promise<number> {
  for (const failure of failures) {
    console.error(
      `hyperhook: shard ${failure.shard.index} (${failure.shard.workload.path}${
        failure.shard.set.length > 0 ? ` ${setLabel(failure.shard.set)}` : ""
      } seed ${failure.shard.seed}) failed: ${failure.message}`,
    );
  }
  const manifest = await readManifest(dir);
  if (typeof manifest === "string") throw new UsageError(manifest);
  const collected = await gather(dir, manifest);
  const files = await writeCollected(dir, collected, { parquet });
  const found = problems(collected);
  for (const line of found) console.error(`hyperhook: ${line}`);
  console.log(`sweep ${name}: ${total} shards (${summary}); wrote ${files.join(", ")}`);
  return failures.length > 0 || found.length > 0 ? EXIT.FAILED : EXIT.OK;
}

/** A plan name as a folder name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

async function prepareDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(join(dir, "shards"), { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${dir}: cannot create the folder (${(error as Error).message})`);
  }
}

function indexFlag(values: Record<string, string | boolean | undefined>): number {
  const text = (values.index as string | undefined) ?? Deno.env.get("SLURM_ARRAY_TASK_ID") ??
    Deno.env.get("JOB_COMPLETION_INDEX");
  if (text === undefined) {
    throw new UsageError(
      "--index: expected a shard index (or $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)",
    );
  }
  const index = Number(text);
  if (!Number.isInteger(index) || index < 0) {
    throw new UsageError(`--index: expected a non-negative integer, got ${text}`);
  }
  return index;
}

async function planAndIndex(
  args: string[],
  extra: Record<string, { type: "string" | "boolean" }>,
  usage: string,
): Promise<
  { plan: SweepPlan; index: number; values: Record<string, string | boolean | undefined> } | number
> {
  const { values, positionals } = parseFlags(args, {
    index: { type: "string" },
    ...extra,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SWEEP_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`${usage}: expected one plan file, got ${positionals.length}`);
  }
  const index = indexFlag(values);
  const plan = await readPlan(positionals[0]!);
  return { plan, index, values };
}

async function shardCommand(args: string[]): Promise<number> {
  const parsed = await planAndIndex(args, { out: { type: "string" } }, "sweep shard");
  if (typeof parsed === "number") return parsed;
  const { plan, index, values } = parsed;
  if (typeof values.out !== "string") throw new UsageError("sweep shard: expected --out DIR");
  const dir = values.out;
  const expansion = await expandPlan(plan, index);
  const shard = expansion.shards[index];
  if (shard === undefined) {
    throw new UsageError(
      `--index: expected an index below ${expansion.shards.length} (the plan's shards), got ${index}`,
    );
  }
  await prepareDir(dir);
  let manifest = await readManifest(dir);
  if (typeof manifest === "string") {
    // The first array task to get here writes the manifest (the others keep it).
    await writeManifest(dir, manifestOf(plan, await expandPlan(plan)), true);
    manifest = await readManifest(dir);
  }
  const planned = typeof manifest === "string" ? undefined : manifest.shards[index]?.key;
  if (planned !== undefined && planned !== shard.key) {
    console.error(
      `hyperhook: shard ${index}: this machine's key ${
        shard.key.slice(0, 12)
      } differs from the manifest's ${
        planned.slice(0, 12)
      } (other code or policy bundles): collect will not merge its result`,
    );
  }
  const result = await runShard(shard);
  const stored = await storeResult(dir, result);
  console.log(
    `shard ${index} of ${plan.name}: ${stored === "new" ? "stored" : stored} ${result.key}${
      result.key === shard.key ? "" : ` (the planner's key is ${shard.key}: other code)`
    }`,
  );
  return stored === "conflict" ? EXIT.FAILED : EXIT.OK;
}

async function slurmCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    out: { type: "string" },
    time: { type: "string" },
    partition: { type: "string" },
    command: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SWEEP_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`sweep slurm: expected one plan file, got ${positionals.length}`);
  }
  if (typeof values.out !== "string") throw new UsageError("sweep slurm: expected --out DIR");
  const plan = await readPlan(positionals[0]!);
  const expansion = await expandPlan(plan);
  const dir = resolve(values.out);
  await prepareDir(dir);
  await writeManifest(dir, manifestOf(plan, expansion));
  const cli = new URL("../cli.ts", import.meta.url);
  const config = new URL("../../deno.json", import.meta.url);
  const command = (values.command as string | undefined) ??
    (cli.protocol === "file:"
      ? `deno run -A --v8-flags=${V8_FLAGS} --config ${config.pathname} ${cli.pathname}`
      : "hyperhook");
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=hyperhook-${safeName(plan.name)}`,
    `#SBATCH --array=0-${expansion.shards.length - 1}`,
    "#SBATCH --cpus-per-task=1",
    `#SBATCH --output=${dir}/logs/%A_%a.out`,
    ...(typeof values.time === "string" ? [`#SBATCH --time=${values.time}`] : []),
    ...(typeof values.partition === "string" ? [`#SBATCH --partition=${values.partition}`] : []),
    "# Every task runs one shard and writes its result file; a task run twice stores it once.",
    "# When the array is done: hyperhook sweep collect " + dir,
    "set -euo pipefail",
    `mkdir -p ${dir}/logs`,
    `cd ${Deno.cwd()}`,
    `${command} sweep shard ${resolve(plan.file)} --index "$SLURM_ARRAY_TASK_ID" --out ${dir}`,
  ];
  console.log(lines.join("\n"));
  return EXIT.OK;
}

async function collectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    parquet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SWEEP_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`sweep collect: expected one results folder, got ${positionals.length}`);
  }
  const dir = positionals[0]!;
  const manifest = await readManifest(dir);
  if (typeof manifest === "string") throw new UsageError(manifest);
  const collected = await gather(dir, manifest);
  const files = await writeCollected(dir, collected, { parquet: values.parquet === true });
  const found = problems(collected);
  for (const line of found) console.error(`hyperhook: ${line}`);
  const rows = collected.results.filter((result) => result !== undefined).length;
  console.log(
    `sweep ${manifest.plan}: ${rows} of ${manifest.shards.length} shards merged; wrote ${
      files.join(", ")
    }${
      collected.strangers > 0
        ? ` (${collected.strangers} result file(s) of another plan left out)`
        : ""
    }${
      collected.superseded > 0
        ? ` (${collected.superseded} result file(s) from other code left out: their shards have the plan's)`
        : ""
    }`,
  );
  return found.length > 0 ? EXIT.FAILED : EXIT.OK;
}

async function showCommand(args: string[]): Promise<number> {
  const parsed = await planAndIndex(args, {}, "sweep show");
  if (typeof parsed === "number") return parsed;
  const { plan, index } = parsed;
  const expansion = await expandPlan(plan, index);
  const shard = expansion.shards[index];
  if (shard === undefined) {
    throw new UsageError(
      `--index: expected an index below ${expansion.shards.length} (the plan's shards), got ${index}`,
    );
  }
  const workload = shardJson(shard, `Sweep plan ${plan.source}`);
  console.log(JSON.stringify(workload, null, 2));
  console.error(
    `hyperhook: shard ${index} is: hyperhook run <this workload, saved beside ${shard.workload.path}> --seed ${shard.seed}${
      shard.isolation === undefined ? "" : ` --isolation ${shard.isolation}`
    } (key ${shard.key})`,
  );
  return EXIT.OK;
}
