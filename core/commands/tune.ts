/**
 * `hyperhook tune <tune.json>`: searches a policy's declared parameters for the best mean of one
 * metric under constraints, by grid or random search with successive halving over seeds, each
 * rung a sweep on the local pool or on BullMQ. See docs/sweeps.md.
 *
 * @module
 */

import { join } from "node:path";
import { writeCollected } from "../sweep/output.ts";
import type { SweepPlan } from "../sweep/plan.ts";
import { formatNumber } from "../sweep/summary.ts";
import { gather, manifestOf, resultFile, writeAtomic, writeManifest } from "../sweep/results.ts";
import type { ShardResult } from "../sweep/run_shard.ts";
import { expandPlan, setLabel } from "../sweep/shards.ts";
import { readTune, runTune, type Score, type TunePlan } from "../sweep/tune.ts";
import { asUsage, ENGINE_FLAGS, engineChoice, openEngine, runShards } from "./_engine.ts";
import { EXIT, parseFlags, UsageError } from "./common.ts";

/** Usage of `tune`. */
export const TUNE_USAGE = `hyperhook tune <tune.json> [options]   search a policy's parameters
  --out DIR            the results folder (default out/tune/<name>)
  --jobs N             warm local processes (default: one per core)
  --engine local|bullmq, --redis URL, --queue NAME, --attempts N   as for hyperhook sweep`;

/** Runs the `tune` subcommand; returns the exit code. */
export function tuneCommand(args: string[]): Promise<number> {
  return asUsage(async () => {
    const { values, positionals } = parseFlags(args, {
      out: { type: "string" },
      ...ENGINE_FLAGS,
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(TUNE_USAGE);
      return EXIT.OK;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`tune: expected one tune file, got ${positionals.length}`);
    }
    const choice = engineChoice(values);
    const tune = await readTune(positionals[0]!);
    const dir = (values.out as string | undefined) ??
      join("out", "tune", tune.base.name.replace(/[^A-Za-z0-9_.-]+/g, "_"));
    const engine = await openEngine(choice);
    let lastPlan: SweepPlan | undefined;
    let failed = 0;
    const run = async (plan: SweepPlan): Promise<ShardResult[]> => {
      const expansion = await expandPlan(plan);
      await Deno.mkdir(join(dir, "shards"), { recursive: true });
      await writeManifest(dir, manifestOf(plan, expansion));
      lastPlan = plan;
      const label = `${plan.name}: ${expansion.shards.length} shards`;
      const { failures } = await runShards(engine, expansion.shards, { dir, label });
      for (const failure of failures) {
        failed++;
        console.error(
          `hyperhook: shard ${failure.shard.index} (${
            setLabel(failure.shard.set)
          } seed ${failure.shard.seed}) failed: ${failure.message}`,
        );
      }
      const results: ShardResult[] = [];
      for (const shard of expansion.shards) {
        try {
          results.push(JSON.parse(await Deno.readTextFile(resultFile(dir, shard.key))));
        } catch {
          // Failed: reported above, and left out of the scores.
        }
      }
      return results;
    };
    const outcome = await runTune(tune, run);
    await writeAtomic(join(dir, "tune.csv"), tuneCsv(tune, outcome.rungs));
    if (lastPlan !== undefined) {
      const manifest = manifestOf(lastPlan, await expandPlan(lastPlan));
      await writeCollected(dir, await gather(dir, manifest));
    }
    console.log(formatRungs(tune, outcome.rungs));
    if (outcome.best === undefined) {
      console.log(`no candidate met ${tune.constraints.map((c) => c.text).join(" and ")}`);
      return EXIT.FAILED;
    }
    const best = outcome.best;
    console.log(
      `best: ${tune.use} ${
        JSON.stringify({ ...tune.fixed, ...best.config })
      }: ${tune.objective.path} ${formatNumber(best.objective!.mean)} ± ${
        formatNumber(best.objective!.half)
      } over ${best.seeds} seed(s); wrote ${join(dir, "tune.csv")}`,
    );
    return failed > 0 ? EXIT.FAILED : EXIT.OK;
  });
}

function tuneCsv(tune: TunePlan, rungs: Score[][]): string {
  const header = [
    "rung",
    "seeds",
    "config",
    `${tune.objective.path} mean`,
    `${tune.objective.path} ci95`,
    ...tune.constraints.map((constraint) => `${constraint.path} mean`),
    "feasible",
    "kept",
  ];
  const lines = [header];
  rungs.forEach((scores, rung) => {
    for (const entry of scores) {
      lines.push([
        String(rung),
        String(entry.seeds),
        JSON.stringify(entry.config),
        String(entry.objective?.mean ?? ""),
        entry.objective === null || Number.isNaN(entry.objective.half)
          ? ""
          : String(entry.objective.half),
        ...entry.constraints.map((value) => value === null ? "" : String(value)),
        entry.feasible ? "yes" : "no",
        entry.kept ? "yes" : "no",
      ]);
    }
  });
  return lines.map((fields) =>
    fields.map((field) => /[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field).join(
      ",",
    )
  ).join("\n") + "\n";
}

function formatRungs(tune: TunePlan, rungs: Score[][]): string {
  const lines: string[] = [];
  rungs.forEach((scores, rung) => {
    lines.push(`rung ${rung}: ${scores.length} candidate(s) on ${scores[0]?.seeds ?? 0} seed(s)`);
    for (const entry of scores) {
      const objective = entry.objective === null
        ? "n/a"
        : `${formatNumber(entry.objective.mean)}${
          Number.isNaN(entry.objective.half) ? "" : ` ± ${formatNumber(entry.objective.half)}`
        }`;
      const constraints = tune.constraints.map((constraint, i) =>
        `${constraint.path} ${
          entry.constraints[i] === null ? "n/a" : formatNumber(entry.constraints[i]!)
        }`
      );
      lines.push(
        `  ${entry.kept ? "*" : " "} ${
          JSON.stringify(entry.config)
        }  ${tune.objective.path} ${objective}${
          constraints.length > 0 ? `  ${constraints.join("  ")}` : ""
        }${entry.feasible ? "" : "  (fails the constraints)"}`,
      );
    }
  });
  return lines.join("\n");
}
