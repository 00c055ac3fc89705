/**
 * The embedded engine: a plan's pending shards on the local pool of warm processes, each result
 * stored as it arrives. Interrupted and run again, a sweep skips every shard whose result file is
 * already there.
 *
 * @module
 */

import { SweepProgress } from "./_progress.ts";
import { ShardCrashError, ShardFailedError, ShardPool } from "./pool.ts";
import { hasResult, storeResult } from "./results.ts";
import type { ShardSpec } from "./shards.ts";

/** A shard that did not complete. */
export interface ShardFailure {
  /** The shard. */
  shard: ShardSpec;
  /** The last error, one line. */
  message: string;
}

/** Options of {@linkcode runLocal}. */
export interface LocalOptions {
  /** The output folder (results go to `dir/shards`). */
  dir: string;
  /** How many warm processes. */
  jobs: number;
  /** How many times a shard is tried when its process dies or it throws (default 3). */
  attempts?: number;
  /** The progress bar's label. */
  label?: string;
}

/** What a local run did. */
export interface LocalOutcome {
  /** Shards run now. */
  ran: number;
  /** Shards skipped because their result was there already. */
  skipped: number;
  /** Results that duplicated a stored one (same eventsHash). */
  duplicates: number;
  /** Shards that failed every attempt. */
  failures: ShardFailure[];
}

/** Runs every shard without a result in `options.dir` on a local pool. */
export async function runLocal(shards: ShardSpec[], options: LocalOptions): Promise<LocalOutcome> {
  const pending = shards.filter((shard) => !hasResult(options.dir, shard.key));
  const outcome: LocalOutcome = {
    ran: 0,
    skipped: shards.length - pending.length,
    duplicates: 0,
    failures: [],
  };
  if (pending.length === 0) return outcome;
  const progress = new SweepProgress(options.label ?? "sweep", shards.length);
  const pool = new ShardPool({
    jobs: Math.min(options.jobs, pending.length),
    onOutput: (line) => {
      progress.clear();
      console.error(line);
    },
  });
  pool.warm();
  let done = outcome.skipped, running = 0;
  const attempts = options.attempts ?? 3;
  let stop = (): void => {};
  const interrupted = new Promise<"interrupted">((resolve) => stop = () => resolve("interrupted"));
  try {
    Deno.addSignalListener("SIGINT", stop);
  } catch {
    // No signals here (another platform): Ctrl-C ends the process as usual.
  }
  const runOne = async (shard: ShardSpec): Promise<void> => {
    let message = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      running++;
      progress.update(done, running, outcome.failures.length);
      try {
        const result = await pool.run(shard);
        const stored = await storeResult(options.dir, result);
        if (stored === "duplicate") outcome.duplicates++;
        outcome.ran++;
        return;
      } catch (error) {
        message = (error as Error).message.split("\n")[0]!;
        const retry = error instanceof ShardCrashError || error instanceof ShardFailedError;
        if (!retry) break;
      } finally {
        running--;
      }
    }
    outcome.failures.push({ shard, message });
  };
  const all = Promise.all(pending.map(async (shard) => {
    await runOne(shard);
    done++;
    progress.update(done, running, outcome.failures.length, done === shards.length);
  }));
  const first = await Promise.race([all.then(() => "done" as const), interrupted]);
  progress.clear();
  try {
    Deno.removeSignalListener("SIGINT", stop);
  } catch {
    // Never added.
  }
  if (first === "interrupted") {
    await pool.kill();
    throw new SweepInterrupted(done, shards.length);
  }
  await pool.close();
  return outcome;
}

/** The sweep was interrupted (Ctrl-C); finished shards are stored, a rerun skips them. */
export class SweepInterrupted extends Error {
  /** @param done Shards finished. @param total All shards. */
  constructor(done: number, total: number) {
    super(`Interrupted with ${done} of ${total} shards done; run the same command again to finish`);
    this.name = "SweepInterrupted";
  }
}
