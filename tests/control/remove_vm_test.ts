import assert from "node:assert/strict";
import { createSimulation } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { internals } from "../../core/simulation/internals.ts";

function workload(policy: string) {
  return parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "remove",
    host: { pcpus: 1 },
    policies: { cpu: { use: policy } },
    stopAt: "1s",
    vms: [
      { id: "a", cpu: { pattern: "cpu-bound" } },
      { id: "b", cpu: { pattern: "cpu-bound" } },
      { id: "late", cpu: { arrive: "500ms", program: [{ run: "10ms" }] } },
    ],
  });
}

for (const policy of ["rr", "fcfs", "srtf", "priority"]) {
  Deno.test(`removeVm stops a VM for good and the ${policy} policy carries on`, async () => {
    const simulation = await createSimulation(workload(policy));
    try {
      await simulation.run(105_000_000);
      const [a, b, late] = internals(simulation).cpu.vms;
      internals(simulation).cpu.removeVm(a!.index);
      internals(simulation).cpu.removeVm(late!.index);
      internals(simulation).cpu.removeVm(a!.index);
      const ranBefore = internals(simulation).cpu.vcpus[a!.vcpus[0]!]!.runNs;
      await simulation.run();
      const report = simulation.report();
      assert.equal(report.incidents.length, 0, JSON.stringify(report.incidents));
      assert.equal(report.vms[0]!.cpu.runNs, ranBefore);
      assert.equal(a!.removedNs, 105_000_000);
      assert.equal(report.vms[2]!.cpu.runNs, 0);
      assert.equal(late!.arrived, false);
      assert.ok(report.vms[1]!.cpu.runNs >= 1_000_000_000 - ranBefore - 20_000_000);
      assert.equal(
        internals(simulation).cpu.status(internals(simulation).cpu.vcpus[b!.vcpus[0]!]!),
        "running",
      );
    } finally {
      await simulation.close();
    }
  });
}

Deno.test("a policy that dispatches a vCPU of a removed VM is not ejected", async () => {
  const simulation = await createSimulation(parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "remove-ready",
    host: { pcpus: 1 },
    policies: { cpu: { use: "rr", config: { quantum: "10ms" } } },
    stopAt: "1s",
    vms: ["a", "b", "c"].map((id) => ({ id, cpu: { pattern: "cpu-bound" } })),
  }));
  try {
    await simulation.run(105_000_000);
    const cpu = internals(simulation).cpu;
    const waiting = cpu.vms.filter((vm) => cpu.status(cpu.vcpus[vm.vcpus[0]!]!) === "ready");
    assert.equal(waiting.length, 2);
    for (const vm of waiting) cpu.removeVm(vm.index);
    await simulation.run();
    const report = simulation.report();
    assert.deepEqual(report.incidents, []);
    const survivor = report.vms.find((vm) => !waiting.some((w) => w.id === vm.id))!;
    assert.ok(survivor.cpu.runNs > 1_000_000_000 - 105_000_000);
  } finally {
    await simulation.close();
  }
});
