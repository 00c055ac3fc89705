// The per-batch process sandbox (`process-rpc`) streams a batch's notifications ahead, in parts the
// child handles while the kernel goes on; the batch's own round trip then carries little. Nothing
// of it shows in a run: the same decisions, a failure answered at the same instant, the policy's
// output all there. The replay sandbox (`process`) has no parts (its child makes its own batches)
// and must give the same runs on this large, chatty workload too.
import assert from "node:assert/strict";
import type { StreamedBatch } from "../../core/protocol/runtime.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { createSimulation } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import type { Report } from "../../core/report/report.ts";
import { internals } from "../../core/simulation/internals.ts";

const dealer = new URL("../fixtures/cpu/dealer.ts", import.meta.url).pathname;

/** The foundation's scale shape: 64 pCPUs, 1024 vCPUs, half CPU-bound, for 1 simulated second. */
function workload(config: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "stream",
    seed: 5,
    host: { pcpus: 64 },
    policies: { cpu: { use: dealer, config } },
    stopAt: "1s",
    vms: Array.from({ length: 512 }, (_, i) => ({
      id: `vm-${i}`,
      vcpus: 2,
      cpu: i % 2 === 0
        ? { program: [{ run: `${300 + i}ms` }] }
        : { pattern: "interactive", run: "1ms", sleep: "10ms" },
    })),
  };
}

async function run(
  config: Record<string, unknown>,
  isolation: Isolation,
  batchDeadlineMs = 10_000,
): Promise<{ report: Report; parts: number; log: string }> {
  let log = "";
  const simulation = await createSimulation(parseWorkload(workload(config)), {
    isolation,
    sandbox: { batchDeadlineMs, initDeadlineMs: 30_000, log: (text) => log += text },
  });
  const runtime = internals(simulation).cpu.slot.runtime;
  let parts = 0;
  const stream = runtime.stream?.bind(runtime);
  if (stream !== undefined) {
    runtime.stream = (batch: StreamedBatch) => {
      const before = batch.streamed;
      stream(batch);
      if (batch.streamed > before) parts++;
    };
  }
  await simulation.run();
  const report = simulation.report();
  await simulation.close();
  return { report, parts, log };
}

Deno.test("notifications streamed ahead in parts change nothing in the run", async () => {
  const none = await run({}, "none");
  const [perBatch, replayed] = await Promise.all([
    run({}, "process-rpc"),
    run({}, "process"),
  ]);
  assert.ok(perBatch.parts > 10, `parts streamed: ${perBatch.parts}`);
  assert.equal(none.parts, 0);
  assert.equal(replayed.parts, 0);
  for (const { report } of [perBatch, replayed]) {
    assert.equal(report.eventsHash, none.report.eventsHash);
    assert.equal(report.incidents.length, 0);
  }
});

Deno.test("a throw while the child handles a part is answered with the batch, at its instant", async () => {
  const none = await run({ throwAt: 8000 }, "none");
  const [perBatch, replayed] = await Promise.all([
    run({ throwAt: 8000 }, "process-rpc"),
    run({ throwAt: 8000 }, "process"),
  ]);
  assert.ok(perBatch.parts > 0);
  assert.equal(none.report.incidents.length, 1);
  assert.equal(none.report.incidents[0]!.message, "Error: stop 8000 failed");
  for (const { report } of [perBatch, replayed]) {
    assert.deepEqual(report.incidents, none.report.incidents);
    assert.equal(report.eventsHash, none.report.eventsHash);
  }
});

Deno.test("what the policy prints while handling parts all arrives, in order", async () => {
  const none = await run({ log: true }, "none");
  const [perBatch, replayed] = await Promise.all([
    run({ log: true }, "process-rpc"),
    run({ log: true }, "process"),
  ]);
  assert.ok(perBatch.parts > 10);
  for (const { log, report } of [perBatch, replayed]) {
    const lines = log.trimEnd().split("\n");
    assert.ok(lines.length > 5000, `${lines.length} lines`);
    lines.forEach((line, i) => assert.match(line, new RegExp(`^stop ${i + 1} vcpu \\d+ at \\d+$`)));
    assert.equal(report.eventsHash, none.report.eventsHash);
  }
});

Deno.test("a policy spinning on a part is killed at the deadline, and the run goes on", async () => {
  for (const isolation of ["process-rpc", "process"] as const) {
    const { report, parts } = await run({ spinAt: 8000 }, isolation, 1000);
    if (isolation === "process-rpc") assert.ok(parts > 0);
    assert.equal(report.incidents.length, 1, isolation);
    assert.equal(report.incidents[0]!.kind, "stall");
    assert.equal(report.incidents[0]!.reason, "deadline");
    assert.equal(report.simulatedNs, 1_000_000_000);
  }
});
