/**
 * A BullMQ worker: takes shards from the queue and runs them on a local pool of warm processes,
 * never on its own event loop, which must stay free to renew the jobs' locks. A worker that dies
 * loses its locks; once a lock expires, any live worker's stalled check puts the shard back in the
 * queue and it runs again elsewhere.
 *
 * @module
 */

import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { ShardPool } from "./pool.ts";
import { ShardInputError } from "./run_shard.ts";
import type { ShardSpec } from "./shards.ts";

/** Options of {@linkcode runWorker}. */
export interface WorkerOptions {
  /** The Redis URL. */
  redis: string;
  /** The queue's name. */
  queue: string;
  /** Shards at once (warm processes). */
  jobs: number;
  /** How long a job's lock lasts without renewal, in ms (also the stalled-check period). */
  lockMs: number;
  /** Where the worker says what it does (one line per shard). */
  log: (line: string) => void;
}

/** Runs until SIGINT or SIGTERM, then lets running shards finish and returns. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const pool = new ShardPool({ jobs: options.jobs, onOutput: options.log });
  pool.warm();
  const connection = new Redis(options.redis, { maxRetriesPerRequest: null });
  let connected = true;
  connection.on("error", (error: Error) => {
    if (connected) options.log(`Redis ${options.redis}: ${error.message}; retrying`);
    connected = false;
  });
  connection.on("ready", () => connected = true);
  const worker = new Worker<ShardSpec>(
    options.queue,
    async (job) => {
      const shard = job.data;
      options.log(
        `running shard ${shard.index} of ${shard.plan} (key ${job.id?.slice(0, 12)}, attempt ${
          job.attemptsMade + 1
        })`,
      );
      try {
        const result = await pool.run(shard);
        options.log(`finished shard ${shard.index} of ${shard.plan} in ${result.wallMs} ms`);
        return result;
      } catch (error) {
        // Bad input fails the same way everywhere: no point in another attempt.
        if (error instanceof ShardInputError) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection,
      concurrency: options.jobs,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      // A shard may outlive several dead workers before one finishes it.
      maxStalledCount: 10,
    },
  );
  worker.on("error", () => {});
  let stop = (): void => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await worker.waitUntilReady();
  options.log(`worker ready on ${options.queue} at ${options.redis}, ${options.jobs} slot(s)`);
  await stopped;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  options.log("stopping: letting running shards finish");
  await worker.close();
  await pool.close();
  connection.disconnect();
}
