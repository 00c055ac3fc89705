/**
 * The BullMQ engine, across machines: the sweep submits each pending shard as a job whose id is
 * the shard's key (so submitting twice adds nothing), with attempts and exponential back-off;
 * workers (`hyperhook worker`) on any machine run them; the sweep waits, storing each job's result
 * as it completes. Loaded only by `--engine bullmq` and `hyperhook worker`.
 *
 * Delivery is at least once per shard: a worker that dies holding a shard loses its lock, and the
 * shard runs again elsewhere; a Redis that restarts from its append-only file may have lost the
 * last second, which can run a shard again too, or forget a job (the sweep adds it again). The
 * effect is exactly once: results are files keyed by the shard key, and a second result for a key
 * is compared by `eventsHash`, never counted twice.
 *
 * @module
 */

import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { SweepProgress } from "./_progress.ts";
import type { ShardFailure } from "./local.ts";
import { SweepError } from "./plan.ts";
import { hasResult, storeResult } from "./results.ts";
import type { ShardResult } from "./run_shard.ts";
import type { ShardSpec } from "./shards.ts";

/** The queue sweeps and workers use unless told otherwise. */
export const DEFAULT_QUEUE = "hyperhook-sweeps";

/** How long finished jobs stay in Redis (a rerun of the sweep finds their results there). */
const KEEP_SECONDS = 7 * 24 * 3600;

/** How often the sweep checks every outstanding job's state, besides the queue's events. */
const RECONCILE_MS = 1000;

/** How long a sweep waits for its first result before it asks whether any worker runs. */
const WAIT_HINT_MS = 30_000;

/**
 * Checks that Redis answers at `url` and keeps every key (`maxmemory-policy noeviction`, which
 * BullMQ needs: an evicted job is a lost shard).
 *
 * @returns The URL, checked.
 * @throws {SweepError} When the URL is not redis://, Redis does not answer, or it may evict keys.
 */
export async function checkRedis(url: string): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SweepError(`--redis: expected a URL such as redis://127.0.0.1:6379, got ${url}`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new SweepError(`--redis: expected a redis:// or rediss:// URL, got ${url}`);
  }
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      throw new SweepError(
        `--redis ${url}: cannot reach Redis (${
          (error as Error).message || (error as Error).name
        }); expected a running redis-server there`,
      );
    }
    let policy: string | undefined;
    try {
      policy = ((await client.config("GET", "maxmemory-policy")) as string[])[1];
    } catch {
      // CONFIG is disabled on some managed servers: their operators answer for the policy.
    }
    if (policy !== undefined && policy !== "noeviction") {
      throw new SweepError(
        `--redis ${url}: maxmemory-policy is ${policy}; expected noeviction (BullMQ loses jobs to eviction; see docs/sweeps.md)`,
      );
    }
    return url;
  } finally {
    client.disconnect();
  }
}

/** Options of {@linkcode runOnBullmq}. */
export interface BullmqOptions {
  /** The output folder. */
  dir: string;
  /** The Redis URL (checked with {@linkcode checkRedis}). */
  redis: string;
  /** The queue's name. */
  queue: string;
  /** Attempts per shard (exponential back-off from one second). */
  attempts: number;
  /** The progress bar's label. */
  label: string;
}

/** What a BullMQ sweep did. */
export interface BullmqOutcome {
  /** Shards submitted (or found already submitted). */
  submitted: number;
  /** Shards whose result was already in the folder. */
  skipped: number;
  /** Results that duplicated a stored one. */
  duplicates: number;
  /** Shards whose job failed every attempt. */
  failures: ShardFailure[];
}

/** Submits the pending shards, waits for every one, and stores the results in `options.dir`. */
export async function runOnBullmq(
  shards: ShardSpec[],
  options: BullmqOptions,
): Promise<BullmqOutcome> {
  const pending = shards.filter((shard) => !hasResult(options.dir, shard.key));
  const outcome: BullmqOutcome = {
    submitted: pending.length,
    skipped: shards.length - pending.length,
    duplicates: 0,
    failures: [],
  };
  if (pending.length === 0) return outcome;
  const connection = new Redis(options.redis, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  const queue = new Queue(options.queue, { connection });
  queue.on("error", () => {});
  const events = new QueueEvents(options.queue, { connection: connection.duplicate() });
  events.on("error", () => {});
  const progress = new SweepProgress(`${options.label} (bullmq)`, shards.length);
  const outstanding = new Map(pending.map((shard) => [shard.key, shard]));
  let done = outcome.skipped;
  let wake = (): void => {};
  const settle = async (key: string): Promise<void> => {
    const shard = outstanding.get(key);
    if (shard === undefined) return;
    const state = await queue.getJobState(key);
    if (!outstanding.has(key)) return;
    if (state === "completed") {
      const job = await Job.fromId<ShardSpec, ShardResult>(queue, key);
      if (job === undefined || !outstanding.has(key)) return;
      outstanding.delete(key);
      if (await storeResult(options.dir, job.returnvalue) === "duplicate") outcome.duplicates++;
    } else if (state === "failed") {
      const job = await Job.fromId<ShardSpec, ShardResult>(queue, key);
      if (!outstanding.has(key)) return;
      outstanding.delete(key);
      outcome.failures.push({ shard, message: job?.failedReason ?? "failed" });
    } else if (state === "unknown") {
      // Redis lost the job (it restarted without its last second): submit it again.
      await add(queue, [shard], options.attempts);
      return;
    } else return;
    done++;
    progress.update(done, 0, outcome.failures.length, true);
    if (outstanding.size === 0) wake();
  };
  events.on("completed", ({ jobId }) => void settle(jobId).catch(() => {}));
  events.on("failed", ({ jobId }) => void settle(jobId).catch(() => {}));
  try {
    await events.waitUntilReady();
    await add(queue, pending, options.attempts);
    // A job that failed in an earlier sweep stays failed under its id, and one that a worker on
    // other code completed holds a result under another key: run them again.
    for (const shard of pending) {
      const state = await queue.getJobState(shard.key);
      if (state !== "failed" && state !== "completed") continue;
      const job = await Job.fromId<ShardSpec, ShardResult>(queue, shard.key);
      if (state === "failed") await job?.retry("failed");
      else if (job !== undefined && job.returnvalue?.key !== shard.key) {
        await job.retry("completed");
      }
    }
    const started = performance.now();
    let hinted = false;
    while (outstanding.size > 0) {
      if (!hinted && done === outcome.skipped && performance.now() - started > WAIT_HINT_MS) {
        hinted = true;
        progress.clear();
        console.error(
          `hyperhook: no shard finished yet: is a worker running? hyperhook worker --redis ${options.redis}${
            options.queue === DEFAULT_QUEUE ? "" : ` --queue ${options.queue}`
          }`,
        );
      }
      const finished = new Promise<void>((resolve) => wake = resolve);
      // A Redis that is away (restarting) fails the calls: the next round asks again.
      await Promise.all([...outstanding.keys()].map((key) => settle(key).catch(() => {})));
      if (outstanding.size === 0) break;
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, RECONCILE_MS))]);
    }
  } finally {
    progress.clear();
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
    connection.disconnect();
  }
  return outcome;
}

async function add(queue: Queue, shards: ShardSpec[], attempts: number): Promise<void> {
  await queue.addBulk(shards.map((shard) => ({
    name: shard.plan,
    data: shard,
    opts: {
      jobId: shard.key,
      attempts,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: { age: KEEP_SECONDS },
      removeOnFail: { age: KEEP_SECONDS },
    },
  })));
}
