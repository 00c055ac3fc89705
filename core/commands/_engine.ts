/**
 * Where `sweep` and `tune` run their shards, private to the commands: the flags they share
 * (`--jobs`, `--engine`, `--redis`, `--queue`, `--attempts`), their checks, and running a list of
 * shards on the local pool or on BullMQ. The BullMQ engine is loaded only when asked for: a local
 * run never imports bullmq or ioredis.
 *
 * @module
 */

import { runLocal, type ShardFailure } from "../sweep/local.ts";
import { SweepError } from "../sweep/plan.ts";
import type { ShardSpec } from "../sweep/shards.ts";
import { UsageError } from "./common.ts";

/** The flags of the shard engine, as `parseFlags` declares them. */
export const ENGINE_FLAGS = {
  jobs: { type: "string" },
  engine: { type: "string" },
  redis: { type: "string" },
  queue: { type: "string" },
  attempts: { type: "string" },
} as const;

/** The engine's flags, checked. */
export interface EngineChoice {
  /** Warm local processes (default: one per core). */
  jobs: number;
  /** Tries per shard (default 3). */
  attempts: number;
  /** The Redis URL when the engine is bullmq; undefined for the local pool. */
  redis: string | undefined;
  /** The BullMQ queue, when given. */
  queue: string | undefined;
}

/** A chosen engine, ready to run shards (its Redis reached when it is bullmq). */
export interface ShardEngine extends EngineChoice {
  /** The BullMQ module and the reached Redis, for the bullmq engine. */
  bullmq: { module: typeof import("../sweep/bullmq.ts"); redis: string } | undefined;
}

/** How a list of shards went. */
export interface EngineOutcome {
  /** The shards that failed every attempt. */
  failures: ShardFailure[];
  /** One line: how many were run (or submitted) and how many were done already. */
  summary: string;
}

/**
 * Turns a plan's bad input into the CLI's (one line, exit 2).
 *
 * @param work The command's work.
 * @returns What the work returns.
 */
export async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SweepError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Reads a positive integer flag.
 *
 * @param flag The flag's name, without `--`.
 * @param text Its value.
 * @param max The greatest value taken.
 * @returns The integer.
 * @throws {UsageError} When it is not an integer from 1 to `max`.
 */
export function countFlag(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${flag}: expected an integer from 1 to ${max}, got ${text}`);
  }
  return value;
}

/**
 * Checks the engine's flags.
 *
 * `--redis` and `--queue` are refused with the local engine: a user who names a Redis expects the
 * work to go there, not to run here without a word.
 *
 * @param values The parsed flags.
 * @returns The checked choice.
 * @throws {UsageError} Naming the flag.
 */
export function engineChoice(
  values: Record<string, string | boolean | undefined>,
): EngineChoice {
  const engine = (values.engine as string | undefined) ?? "local";
  if (engine !== "local" && engine !== "bullmq") {
    throw new UsageError(`--engine: expected local or bullmq, got ${engine}`);
  }
  if (engine === "bullmq" && typeof values.redis !== "string") {
    throw new UsageError("--engine bullmq: expected --redis redis://HOST:PORT");
  }
  if (
    engine === "local" && (values.redis !== undefined || values.queue !== undefined)
  ) {
    throw new UsageError("--redis and --queue: expected --engine bullmq with them");
  }
  const jobs = typeof values.jobs === "string"
    ? countFlag("jobs", values.jobs, 1024)
    : navigator.hardwareConcurrency;
  const attempts = typeof values.attempts === "string"
    ? countFlag("attempts", values.attempts, 100)
    : 3;
  return {
    jobs,
    attempts,
    redis: engine === "bullmq" ? values.redis as string : undefined,
    queue: values.queue as string | undefined,
  };
}

/**
 * Loads the chosen engine: for bullmq, its module, and reaches its Redis.
 *
 * @param choice The checked flags.
 * @returns The engine, ready to run shards.
 */
export async function openEngine(choice: EngineChoice): Promise<ShardEngine> {
  if (choice.redis === undefined) return { ...choice, bullmq: undefined };
  const module = await import("../sweep/bullmq.ts");
  return { ...choice, bullmq: { module, redis: await module.checkRedis(choice.redis) } };
}

/**
 * Runs shards on the engine; results go to `dir`.
 *
 * @param engine The engine.
 * @param shards The shards.
 * @param options The results folder and the progress label.
 * @returns The failures and a one-line summary.
 */
export async function runShards(
  engine: ShardEngine,
  shards: ShardSpec[],
  options: { dir: string; label: string },
): Promise<EngineOutcome> {
  const { dir, label } = options, { attempts, bullmq } = engine;
  if (bullmq !== undefined) {
    const outcome = await bullmq.module.runOnBullmq(shards, {
      dir,
      redis: bullmq.redis,
      queue: engine.queue ?? bullmq.module.DEFAULT_QUEUE,
      attempts,
      label,
    });
    return {
      failures: outcome.failures,
      summary: `${outcome.submitted} submitted, ${outcome.skipped} already done`,
    };
  }
  const outcome = await runLocal(shards, { dir, jobs: engine.jobs, attempts, label });
  return {
    failures: outcome.failures,
    summary: `${outcome.ran} run, ${outcome.skipped} already done`,
  };
}
