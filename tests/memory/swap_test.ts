// Live swaps and ejections hand the memory state to the new policy without a gap: every VM,
// every resident frame in load order, then in order of last reference. A fresh LRU (or FIFO)
// swapped in mid-run therefore faults exactly as the one it replaces would have.
import assert from "node:assert/strict";
import { createSimulation, loadPolicy, parseWorkload, type Report } from "../../mod.ts";
import { internals } from "../../core/simulation/internals.ts";

function workload(policy: string): ReturnType<typeof parseWorkload> {
  return parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "memory-swap",
    host: { pcpus: 2, memory: { frames: 64, faultCost: "10us" } },
    policies: { memory: { use: policy } },
    vms: [
      { id: "zipf", memory: { pattern: "zipf", pages: 400, count: 20_000, writes: 0.1 } },
      { id: "phases", memory: { pattern: "phases", pages: 800, workingSet: 40, count: 20_000 } },
    ],
  });
}

async function faults(policy: string, swapAtNs?: number): Promise<Report> {
  const simulation = await createSimulation(workload(policy));
  try {
    if (swapAtNs !== undefined) {
      await simulation.run(swapAtNs);
      await internals(simulation).kernel.swap("memory", await loadPolicy("memory", policy));
    }
    await simulation.run();
    return simulation.report();
  } finally {
    await simulation.close();
  }
}

for (const policy of ["lru", "fifo"]) {
  Deno.test(`${policy} swapped for a fresh ${policy} mid-run makes the same choices`, async () => {
    const straight = await faults(policy);
    for (const at of [3_000_000, 11_000_000]) {
      const swapped = await faults(policy, at);
      assert.deepEqual(swapped.incidents, []);
      assert.deepEqual(
        swapped.vms.map((vm) => [vm.memory.refs, vm.memory.faults, vm.memory.writebacks]),
        straight.vms.map((vm) => [vm.memory.refs, vm.memory.faults, vm.memory.writebacks]),
      );
    }
  });
}

Deno.test("a swap to another policy mid-run carries on without incident", async () => {
  const simulation = await createSimulation(workload("lru"));
  try {
    await simulation.run(5_000_000);
    await internals(simulation).kernel.swap("memory", await loadPolicy("memory", "clock"));
    await simulation.run();
    const report = simulation.report();
    assert.deepEqual(report.incidents, []);
    assert.deepEqual(report.vms.map((vm) => vm.memory.refs), [20_000, 20_000]);
    assert.equal(report.host.memory.usedPeak, 64);
  } finally {
    await simulation.close();
  }
});

Deno.test("swapping in opt where a VM generates its references is refused; the old policy stays", async () => {
  const simulation = await createSimulation(workload("lru"));
  try {
    await simulation.run(1_000_000);
    await assert.rejects(
      async () => internals(simulation).kernel.swap("memory", await loadPolicy("memory", "opt")),
      /Policy opt: needs the future page references, but vms\[0\]\.memory\.pattern/,
    );
    await simulation.run();
    const report = simulation.report();
    assert.deepEqual(report.incidents, []);
    assert.equal(report.policies.memory!.name, "lru");
  } finally {
    await simulation.close();
  }
});
