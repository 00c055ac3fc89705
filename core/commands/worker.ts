/**
 * `hyperhook worker --redis redis://HOST:PORT`: runs sweep shards from a BullMQ queue on any
 * machine, on warm local processes, until SIGINT or SIGTERM. See docs/sweeps.md.
 *
 * @module
 */

import { asUsage, countFlag } from "./_engine.ts";
import { EXIT, parseFlags, UsageError } from "./common.ts";

/** Usage of `worker`. */
export const WORKER_USAGE = `hyperhook worker --redis redis://HOST:PORT [options]
  --queue NAME     the BullMQ queue (default hyperhook-sweeps)
  --jobs N         shards at once, each in a warm process (default: one per core)
  --lock D         a job's lock without renewal, e.g. 30s (default); a dead worker's shards
                   run again elsewhere once it expires`;

/** Runs the `worker` subcommand; returns the exit code. */
export function workerCommand(args: string[]): Promise<number> {
  return asUsage(async () => {
    const { values, positionals } = parseFlags(args, {
      redis: { type: "string" },
      queue: { type: "string" },
      jobs: { type: "string" },
      lock: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(WORKER_USAGE);
      return EXIT.OK;
    }
    if (positionals.length > 0) {
      throw new UsageError(`worker: expected no arguments besides flags, got ${positionals[0]}`);
    }
    if (typeof values.redis !== "string") {
      throw new UsageError("worker: expected --redis redis://HOST:PORT");
    }
    const jobs = typeof values.jobs === "string"
      ? countFlag("jobs", values.jobs, 1024)
      : navigator.hardwareConcurrency;
    let lockMs = 30_000;
    if (typeof values.lock === "string") {
      const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(values.lock);
      lockMs = match === null ? 0 : Number(match[1]) * (match[2] === "s" ? 1000 : 1);
      if (!(lockMs >= 500)) {
        throw new UsageError(
          `--lock: expected a time of at least 500ms such as "30s", got ${values.lock}`,
        );
      }
    }
    // BullMQ and ioredis load here only: no other command imports them.
    const { checkRedis, DEFAULT_QUEUE } = await import("../sweep/bullmq.ts");
    const { runWorker } = await import("../sweep/worker.ts");
    const redis = await checkRedis(values.redis);
    await runWorker({
      redis,
      queue: (values.queue as string | undefined) ?? DEFAULT_QUEUE,
      jobs,
      lockMs,
      log: (line) => console.error(`hyperhook worker: ${line}`),
    });
    return EXIT.OK;
  });
}
