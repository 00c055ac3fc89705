// The same decisions, byte for byte, whichever runtime hosts the placement policy: the same
// batches go to each, so the eventsHash and every figure agree.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import { simulateDatacenter } from "../../core/datacenter/simulation.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { fixture, LINEAR_POWER, overloadWorkload } from "./_helpers.ts";

/** Six hosts, twenty VMs whose curves rise and fall: every consolidation policy migrates. */
function busyWorkload(placement: string, mode: "hyperhook" | "cloudsim") {
  const curve = (i: number) =>
    Array.from({ length: 40 }, (_, k) => Math.round(55 + 45 * Math.sin((k + 3 * i) / 3)));
  return parseDatacenter({
    schema: "hyperhook.datacenter/v1",
    name: "busy",
    policies: { placement },
    datacenter: {
      mode,
      interval: "300s",
      hostTypes: [
        { id: "small", cores: 2, mips: 1000, ram: 4096, bandwidth: 1000, power: LINEAR_POWER },
        { id: "big", cores: 4, mips: 1000, ram: 8192, bandwidth: 1000, power: LINEAR_POWER },
      ],
      hosts: [{ types: ["small", "big"], count: 6 }],
      vmTypes: [
        { id: "a", mips: 1000, ram: 1024, bandwidth: 100 },
        { id: "b", mips: 500, ram: 512, bandwidth: 100 },
      ],
      vms: Array.from({ length: 20 }, (_, i) => ({
        id: `vm${i}-`,
        type: i % 2 === 0 ? "a" : "b",
        demand: { utilization: curve(i), interval: "300s" },
      })),
    },
  });
}

const SANDBOX = { batchDeadlineMs: 5000, initDeadlineMs: 20_000 };

async function hashes(
  make: () => ReturnType<typeof parseDatacenter>,
  isolations: Isolation[],
): Promise<{ hash: string; energy: number; migrations: number }[]> {
  const out = [];
  for (const isolation of isolations) {
    // A loaded CI machine can take more than the production 100 ms for a batch.
    const report = await simulateDatacenter(make(), { isolation, sandbox: SANDBOX });
    assert.deepEqual(report.incidents, [], isolation);
    out.push({
      hash: report.eventsHash,
      energy: report.datacenter!.energyKwh,
      migrations: report.datacenter!.migrations,
    });
  }
  return out;
}

for (const mode of ["hyperhook", "cloudsim"] as const) {
  for (const policy of ["lr-mmt", "iqr-mc", "thr-mmt"]) {
    Deno.test(`${policy} (${mode} mode): the same eventsHash in-process, in a worker and in a child process (process, process-rpc)`, async () => {
      const runs = await hashes(
        () => busyWorkload(policy, mode),
        ["none", "worker", "process", "process-rpc"],
      );
      assert.ok(runs[0]!.migrations > 0, "the workload makes the policy migrate");
      for (const run of runs.slice(1)) assert.deepEqual(run, runs[0]);
    });
  }
}

Deno.test("a policy from a file runs in a child process by default and decides the same", async () => {
  const workload = () => parseDatacenter(overloadWorkload(fixture("relieve")));
  const sandboxed = await simulateDatacenter(workload(), { sandbox: SANDBOX });
  assert.equal(sandboxed.policies.placement!.isolation, "process");
  const inline = await simulateDatacenter(workload(), { isolation: "none" });
  assert.equal(sandboxed.eventsHash, inline.eventsHash);
  assert.equal(sandboxed.datacenter!.energyKwh, inline.datacenter!.energyKwh);
});

Deno.test("another placement makes other decisions (the eventsHash sees placements)", async () => {
  const [thr] = await hashes(() => busyWorkload("thr-mmt", "hyperhook"), ["none"]);
  const [dvfs] = await hashes(() => busyWorkload("dvfs", "hyperhook"), ["none"]);
  assert.notEqual(thr!.hash, dvfs!.hash);
});
