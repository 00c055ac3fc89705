// The kernel crosses to a policy only when it needs an answer: notifications ride along with the
// next query. These counts are what keeps a sandboxed policy fast.
import assert from "node:assert/strict";
import { CPU_OP } from "../../core/protocol/ops.ts";
import type { Batch } from "../../core/protocol/batch.ts";
import { createSimulation } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { internals } from "../../core/simulation/internals.ts";

const workload = parseWorkload({
  schema: "hyperhook.workload/v1",
  name: "round-trips",
  seed: 3,
  host: { pcpus: 8 },
  stopAt: "300ms",
  vms: Array.from({ length: 32 }, (_, i) => ({
    id: `vm-${i}`,
    vcpus: 2,
    cpu: i % 2 === 0
      ? { pattern: "cpu-bound" }
      : { pattern: "interactive", run: "1ms", sleep: "10ms" },
  })),
});

/** The queries of each batch the CPU policy received. */
async function batchesOf(policy: string): Promise<number[][]> {
  const simulation = await createSimulation(workload, {
    policies: { cpu: { use: policy } },
    isolation: "none",
  });
  const runtime = internals(simulation).cpu.slot.runtime;
  const handle = runtime.handle.bind(runtime);
  const batches: number[][] = [];
  runtime.handle = (batch: Batch) => {
    const queries: number[] = [];
    for (let i = 0; i < batch.length; i += 3 + batch.nums[i + 2]!) {
      if (batch.nums[i]! >= CPU_OP.DISPATCH) queries.push(batch.nums[i]!);
    }
    batches.push(queries);
    return handle(batch);
  };
  await simulation.run();
  await simulation.close();
  return batches;
}

Deno.test("a policy without timers or counters gets no SYNC, and no batch without a question", async () => {
  for (const policy of ["rr", "fcfs", "srtf"]) {
    const batches = await batchesOf(policy);
    assert.ok(batches.length > 0, policy);
    assert.deepEqual(batches.filter((queries) => queries.length === 0), [], policy);
    assert.equal(batches.flat().filter((op) => op === CPU_OP.SYNC).length, 0, policy);
  }
});

Deno.test("a policy with timers gets SYNC last in its batches, only at instants it hears of", async () => {
  const batches = await batchesOf("credit");
  for (const queries of batches) assert.equal(queries.at(-1), CPU_OP.SYNC);
  // Some instants carry notifications only: there SYNC is the one question (its timers may be new).
  const syncOnly = batches.filter((queries) => queries.length === 1).length;
  assert.ok(syncOnly > 0 && syncOnly < batches.length / 4, `${syncOnly} of ${batches.length}`);
});
