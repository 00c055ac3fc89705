/**
 * A warm shard process: reads shard descriptions, one JSON line each, on stdin, runs them one
 * after another, and answers each with one line on stdout, marked so that anything else a policy
 * prints cannot be taken for an answer. It exits when stdin closes.
 *
 * @module
 */

import { runShard, ShardInputError } from "./run_shard.ts";
import type { ShardSpec } from "./shards.ts";

/** Marks an answer line on stdout. */
export const ANSWER_MARK = "\x1ehyperhook-shard ";

/** What the pool sends: an id and a shard. */
export interface ShardRequest {
  /** Matches the answer to the request. */
  id: number;
  /** The shard to run. */
  shard: ShardSpec;
}

async function serve(): Promise<void> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const reader = Deno.stdin.readable.getReader();
  let buffered = "";
  while (true) {
    const newline = buffered.indexOf("\n");
    if (newline < 0) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      continue;
    }
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line.trim() === "") continue;
    const request = JSON.parse(line) as ShardRequest;
    let answer: unknown;
    try {
      answer = { id: request.id, result: await runShard(request.shard) };
    } catch (error) {
      answer = {
        id: request.id,
        error: error instanceof ShardInputError
          ? error.message
          : (error as Error).stack ?? String(error),
        input: error instanceof ShardInputError,
      };
    }
    Deno.stdout.writeSync(encoder.encode(`${ANSWER_MARK}${JSON.stringify(answer)}\n`));
  }
}

if (import.meta.main) await serve();
