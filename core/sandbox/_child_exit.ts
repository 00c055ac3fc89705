/**
 * Why a sandbox child ended on its own, from its exit status and the tail of its stderr: shared
 * by the per-batch (`process.ts`) and replay (`replay.ts`) runtimes.
 *
 * @module
 */

import { PolicyFailure } from "../protocol/runtime.ts";

/** What V8 prints when a heap cap is reached (wording varies across versions). */
const OUT_OF_MEMORY = /out of memory|reached heap limit|allocation failed/i;

/**
 * The failure of a child that ended on its own: `oom/heap` when V8 said it reached its heap cap,
 * else `crash/exit` with its signal or exit code and the last line it printed.
 *
 * @param status The child's exit status.
 * @param stderrTail The end of what it printed on stderr.
 * @param heapMiB Its heap cap, for the message.
 */
export function childExitFailure(
  status: Deno.CommandStatus,
  stderrTail: string,
  heapMiB: number,
): PolicyFailure {
  if (OUT_OF_MEMORY.test(stderrTail)) {
    return new PolicyFailure(
      "oom",
      "heap",
      `Policy process ran out of memory (heap cap ${heapMiB} MiB)`,
    );
  }
  const how = status.signal !== null
    ? `was killed by ${status.signal}`
    : `exited with code ${status.code}`;
  const lastLine = stderrTail.trim().split("\n").at(-1)?.trim();
  return new PolicyFailure(
    "crash",
    "exit",
    `Policy process ${how}${lastLine ? `: ${lastLine.slice(0, 500)}` : ""}`,
  );
}
