/**
 * The cost of crossing each isolation's boundary: one round trip of a 64-number batch to the
 * `echo` fixture policy (which answers the numbers doubled), per isolation.
 *
 * Run: `deno bench -A bench/sandbox_roundtrip_bench.ts`
 *
 * @module
 */

import { bundlePolicy } from "../core/bundle/bundle.ts";
import { createRuntime } from "../core/sandbox/mod.ts";
import type { Isolation, PolicyRuntime } from "../core/protocol/runtime.ts";
import type { Batch } from "../core/protocol/batch.ts";

const bundle = await bundlePolicy(
  new URL("../tests/fixtures/policies/echo.ts", import.meta.url).pathname,
);
const batch: Batch = {
  nums: Float64Array.from({ length: 64 }, (_, index) => index * 1.5),
  length: 64,
  objs: [],
};

const runtimes = new Map<Isolation, PolicyRuntime>();
for (const isolation of ["none", "worker", "process"] as const) {
  const runtime = createRuntime(isolation, bundle, { batchDeadlineMs: 5_000 });
  await runtime.start({ config: {}, seed: 1, host: { pcpus: 4 } });
  runtimes.set(isolation, runtime);
}

for (const [isolation, runtime] of runtimes) {
  Deno.bench({
    name: `round trip of 64 numbers, isolation ${isolation}`,
    group: "roundtrip",
    baseline: isolation === "none",
    async fn() {
      const reply = await runtime.handle(batch);
      if (reply.length !== 64 || reply.nums[1] !== 3) throw new Error("Wrong reply");
    },
  });
}
