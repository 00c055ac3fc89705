/**
 * Run by worker_limits_test.ts in a child `deno run`, because what it shows would take the test
 * process down or keep it from exiting:
 * - `spin`: a hook loops forever; the runtime reports a stall and terminates the worker, then we
 *   measure the CPU this process still burns, print it as JSON, and leave with Deno.exit.
 * - `spin-no-exit`: the same, but end normally: the process never exits by itself.
 * - `oom`: a hook exhausts the heap; V8 aborts the whole process.
 *
 * @module
 */

import { bundlePolicy } from "../../core/bundle/bundle.ts";
import { WorkerRuntime } from "../../core/sandbox/worker.ts";
import { PolicyFailure } from "../../core/protocol/runtime.ts";

const mode = Deno.args[0];
const SPIN = 2;
const EXHAUST_HEAP = 3;

/** CPU time this process has used, in ms (Linux). */
function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const bundle = await bundlePolicy(
  new URL("../fixtures/policies/misbehave.ts", import.meta.url).pathname,
);
const runtime = new WorkerRuntime(bundle, { batchDeadlineMs: 200, log: () => {} });
await runtime.start({ config: {}, seed: 1, host: { pcpus: 1 } });
const behaviour = mode === "oom" ? EXHAUST_HEAP : SPIN;
let kind = "none";
try {
  await runtime.handle({ nums: new Float64Array([behaviour]), length: 1, objs: [] });
} catch (error) {
  kind = error instanceof PolicyFailure ? error.kind : String(error);
}
await runtime.close();
const before = cpuMs();
await new Promise((resolve) => setTimeout(resolve, 1000));
const after = cpuMs();
console.log(JSON.stringify({ kind, cpuMsInTheSecondAfterTerminate: after - before }));
if (mode === "spin") Deno.exit(0);
