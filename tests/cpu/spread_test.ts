// A dispatch answer may fill other pCPUs' local queues (`{ vcpu, pcpu }`, sched_ext's
// SCX_DSQ_LOCAL_ON): a centralized dispatcher, such as `rr` with `spread`, is then asked far less
// often, which is what makes a sandboxed policy cheap.
import assert from "node:assert/strict";
import type { Batch, Reply } from "../../core/protocol/batch.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { createSimulation, simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { burstWorkload } from "../_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const SANDBOX = { batchDeadlineMs: 10_000, initDeadlineMs: 30_000 };
const rawBadPcpu = new URL("../fixtures/cpu/raw_bad_pcpu.ts", import.meta.url).pathname;

/** Four 8 ms bursts on two pCPUs, round robin with a 4 ms quantum. */
function fourBursts(config: Record<string, unknown>): Record<string, unknown> {
  return {
    ...burstWorkload("rr", [[0, 8], [0, 8], [0, 8], [0, 8]], { quantum: "4ms", ...config }),
    host: { pcpus: 2 },
  };
}

/** Mixed CPU-bound and interactive VMs on eight pCPUs, for one simulated second. */
function mixed(config: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "spread-mixed",
    seed: 3,
    host: { pcpus: 8 },
    policies: { cpu: { use: "rr", config: { quantum: "2ms", ...config } } },
    stopAt: "1s",
    vms: Array.from({ length: 48 }, (_, i) => ({
      id: `vm-${i}`,
      cpu: i % 2 === 0
        ? { pattern: "cpu-bound" }
        : { pattern: "interactive", run: "1ms", sleep: "4ms" },
    })),
  };
}

Deno.test("rr dealing its queue to every pCPU gives the same waits as plain rr here", async () => {
  const hashes = new Set<string>();
  for (const isolation of ["none", "worker", "process"] as Isolation[]) {
    const report = await simulate(parseWorkload(fourBursts({ ahead: 2, spread: true })), {
      isolation,
      sandbox: SANDBOX,
    });
    // pCPU 0 asks at 0 and 8 ms; each answer fills both pCPUs: P1 P3 on one, P2 P4 on the other.
    assert.deepEqual(report.vms.map((vm) => vm.cpu.waitNs / 1e6), [4, 4, 8, 8], isolation);
    assert.deepEqual(report.vms.map((vm) => vm.cpu.finishNs! / 1e6), [12, 12, 16, 16]);
    assert.equal(report.incidents.length, 0);
    hashes.add(report.eventsHash);
  }
  assert.equal(hashes.size, 1);
  const plain = await simulate(parseWorkload(fourBursts({})), { isolation: "none" });
  assert.deepEqual(plain.vms.map((vm) => vm.cpu.waitNs / 1e6), [4, 4, 8, 8]);
});

Deno.test("a centralized dispatcher is asked a fraction as often, and runs the same anywhere", async () => {
  const batches: Record<string, number> = {};
  const hashes = new Map<string, Set<string>>();
  for (
    const [name, config] of [["ahead 8", { ahead: 8 }], ["spread", {
      ahead: 8,
      spread: true,
    }]] as const
  ) {
    for (const isolation of ["none", "process"] as Isolation[]) {
      const simulation = await createSimulation(parseWorkload(mixed(config)), {
        isolation,
        sandbox: SANDBOX,
      });
      const runtime = internals(simulation).cpu.slot.runtime, handle = runtime.handle.bind(runtime);
      let count = 0;
      runtime.handle = (batch: Batch): Reply | Promise<Reply> => {
        count++;
        return handle(batch);
      };
      await simulation.run();
      const report = simulation.report();
      await simulation.close();
      assert.equal(report.incidents.length, 0);
      assert.ok(report.host.cpu.utilization > 0.99, `${name}: ${report.host.cpu.utilization}`);
      batches[`${name} ${isolation}`] = count;
      hashes.set(name, (hashes.get(name) ?? new Set()).add(report.eventsHash));
    }
  }
  for (const [name, set] of hashes) assert.equal(set.size, 1, name);
  assert.equal(batches["spread none"], batches["spread process"]);
  assert.ok(
    batches["spread none"]! * 3 < batches["ahead 8 none"]!,
    `batches: ${JSON.stringify(batches)}`,
  );
});

Deno.test("sending vCPUs to a pCPU that does not exist is refused", async () => {
  const sdk = await simulate(
    parseWorkload({
      ...fourBursts({}),
      policies: {
        cpu: { use: new URL("../fixtures/cpu/to_pcpu.ts", import.meta.url).pathname },
      },
    }),
    { isolation: "none" },
  );
  assert.equal(sdk.incidents.length, 1);
  assert.equal(sdk.incidents[0]!.kind, "error");
  assert.match(
    sdk.incidents[0]!.message,
    /dispatch: expected pcpu to be a pCPU index from 0 to 1, got 5$/,
  );
  const raw = await simulate(
    parseWorkload({ ...fourBursts({}), policies: { cpu: { use: rawBadPcpu } } }),
    { isolation: "none" },
  );
  assert.equal(raw.incidents.length, 1);
  assert.equal(raw.incidents[0]!.kind, "invalid");
  assert.equal(raw.incidents[0]!.reason, "bad-pcpu");
  assert.match(raw.incidents[0]!.message, /sent vCPUs to pCPU 9; expected 0 to 1$/);
  for (const report of [sdk, raw]) {
    for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null);
  }
});
