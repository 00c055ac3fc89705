// Edge cases of simulated time, through the CLI as users run them.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const base = { schema: "hyperhook.workload/v1", name: "edge", host: { pcpus: 1 } };

async function report(workload: unknown) {
  const result = await runCli(["run", await workloadFile(workload), "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test("a workload with no work simulates no time", async () => {
  // The CLI advances in steps; with nothing to do it used to report the first step (1 s).
  const idle = await report({ ...base, vms: [{ id: "a" }] });
  assert.equal(idle.simulatedNs, 0);
  assert.equal(idle.vms[0].cpu.finishNs, null);
  const empty = await report({ ...base, vms: [{ id: "a", cpu: { program: [{ sleep: "0ms" }] } }] });
  assert.equal(empty.simulatedNs, 0);
  assert.equal(empty.vms[0].cpu.finishNs, 0);
});

Deno.test("work that arrives late, or after stopAt", async () => {
  const late = await report({
    ...base,
    vms: [{ id: "a", cpu: { arrive: "10s", program: [{ run: "5ms" }] } }],
  });
  assert.equal(late.simulatedNs, 10_005_000_000);
  assert.equal(late.vms[0].cpu.finishNs, 10_005_000_000);
  const cut = await report({
    ...base,
    stopAt: "1s",
    vms: [{ id: "a", cpu: { arrive: "10s", program: [{ run: "5ms" }] } }],
  });
  assert.equal(cut.simulatedNs, 1_000_000_000);
  assert.equal(cut.vms[0].cpu.runNs, 0);
  assert.equal(cut.vms[0].cpu.finishNs, null);
});

Deno.test("a VM's latency histogram holds every dispatch, read mid-run or at the end", async () => {
  // The kernel records waits in batches; reading a histogram records the batch first.
  const { scaleSimulation } = await import("../../bench/_scale.ts");
  const simulation = await scaleSimulation(256, { pcpus: 16, seconds: 2 });
  try {
    for (const limit of [3_000_000, 700_000_000, Infinity]) {
      await simulation.run(limit);
      let dispatches = 0, recorded = 0;
      for (const vm of internals(simulation).cpu.vms) {
        const own = vm.vcpus.reduce(
          (sum, id) => sum + internals(simulation).cpu.vcpus[id]!.dispatches,
          0,
        );
        assert.equal(vm.latency.count, own, `VM ${vm.id} at ${limit} ns`);
        dispatches += own;
        recorded += vm.latency.count;
      }
      assert.ok(dispatches > 0 && recorded === dispatches);
    }
    assert.ok(internals(simulation).cpu.latency().count > 4096, "more waits than one batch");
  } finally {
    await simulation.close();
  }
});

Deno.test("a policy is given its own deep copy of each VM's parameters, as structuredClone makes it", async () => {
  const { createSimulation } = await import("../../core/simulation/mod.ts");
  const { parseWorkload } = await import("../../core/workload/load.ts");
  const sched = { budget: "2ms", levels: [1, [2, { x: null }]], deep: { on: true, none: null } };
  const simulation = await createSimulation(parseWorkload({
    ...base,
    vms: [{ id: "a", weight: 300, sched, cpu: { program: [{ run: "1ms" }] } }],
  }));
  try {
    const cpu = internals(simulation).cpu, kept = cpu.vms[0]!.params;
    const given = (cpu.host().vms as { params: typeof kept }[])[0]!.params;
    assert.deepStrictEqual(given, structuredClone(kept));
    assert.notEqual(given.sched, kept.sched);
    (given.sched.levels as unknown[][])[1]!.push("changed");
    (given.sched.deep as Record<string, unknown>).on = false;
    assert.deepStrictEqual(kept.sched.levels, [1, [2, { x: null }]]);
    assert.deepStrictEqual(kept.sched.deep, { on: true, none: null });
  } finally {
    await simulation.close();
  }
});

Deno.test("reading the figures mid-run changes no decision (a bursty VM's demand looks ahead without drawing)", async () => {
  // The HTML report's recorder and the live kernel's snapshots read the figures while the run
  // goes on; a bursty pattern's demand drew the phases ahead from the vCPU's random stream, so a
  // run with --html made other decisions than the same run without.
  const { createSimulation } = await import("../../core/simulation/mod.ts");
  const { parseWorkload } = await import("../../core/workload/load.ts");
  const workload = parseWorkload({
    ...base,
    host: { pcpus: 2 },
    stopAt: "3s",
    vms: [
      { id: "b1", cpu: { pattern: "bursty", phase: "200ms", busy: 0.9, quiet: 0.1 } },
      { id: "b2", cpu: { pattern: "bursty", phase: "300ms", busy: 0.8, quiet: 0.2 } },
      { id: "u", cpu: { utilization: [30, 90, 10], interval: "500ms" } },
      { id: "c", cpu: { pattern: "cpu-bound" } },
    ],
  });
  const hashes: string[] = [], demands: (number | null)[][] = [];
  for (const peek of [false, true]) {
    const simulation = await createSimulation(workload, { policies: { cpu: { use: "fcfs" } } });
    try {
      for (let t = 7_000_000; !simulation.ended; t += 7_000_000) {
        await simulation.run(t);
        if (peek) simulation.cpuFigures();
      }
      hashes.push(simulation.report().eventsHash);
      demands.push(simulation.cpuFigures().vms.map((vm) => vm.demandNs));
    } finally {
      await simulation.close();
    }
  }
  assert.equal(hashes[1], hashes[0]);
  assert.deepEqual(demands[1], demands[0]);
});
