// The policies a simulation names as asked for are its own: a caller reads a copy, and only a
// swap changes them.
import assert from "node:assert/strict";
import { createSimulation } from "../../core/simulation/mod.ts";
import { loadPolicy } from "../../core/simulation/loader.ts";
import { parseWorkload } from "../../core/workload/load.ts";

Deno.test("Simulation.requested is a copy; a swap names the new policy", async () => {
  const simulation = await createSimulation(parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "requested",
    host: { pcpus: 1 },
    vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
  }));
  try {
    const requested = simulation.requested;
    assert.equal(requested.cpu!.name, "rr");
    requested.cpu!.name = "changed";
    delete (requested as Record<string, unknown>).cpu;
    assert.equal(simulation.requested.cpu!.name, "rr");
    await simulation.run(1_000_000);
    await simulation.swap("cpu", await loadPolicy("cpu", "fcfs"));
    assert.equal(simulation.requested.cpu!.name, "fcfs");
    await simulation.run();
    const report = simulation.report();
    assert.equal(report.policies.cpu!.name, "fcfs");
    assert.equal(report.policies.cpu!.ejected, false);
  } finally {
    await simulation.close();
  }
});
