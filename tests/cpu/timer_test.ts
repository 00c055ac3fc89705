// The CPU SDK's timers and counters, through the CLI: a timer hook called at the asked time,
// deterministically under every isolation; bad timers are incidents.
import assert from "node:assert/strict";
import { loadPolicy } from "../../core/simulation/loader.ts";
import { createSimulation } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { runCli, workloadFile } from "../_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const fixture = (name: string) => new URL(`../fixtures/cpu/${name}`, import.meta.url).pathname;

const workload = (policy: string, extra: Record<string, unknown> = {}) =>
  workloadFile({
    schema: "hyperhook.workload/v1",
    name: "timers",
    host: { pcpus: 1 },
    stopAt: "1s",
    policies: { cpu: { use: fixture(policy) } },
    vms: [{ id: "a", cpu: { pattern: "cpu-bound" } }],
    ...extra,
  });

async function run(path: string, flags: string[] = []) {
  const result = await runCli(["run", path, "--format", "json", ...flags]);
  return { ...result, report: result.stdout === "" ? undefined : JSON.parse(result.stdout) };
}

Deno.test("timers wake the policy at the asked times: a 3 ms on / 10 ms period duty cycle gives 0.3", async () => {
  const path = await workload("duty_cycle.ts");
  const hashes = new Set<string>();
  for (const isolation of ["none", "worker", "process"]) {
    const { code, stderr, report } = await run(path, ["--isolation", isolation]);
    assert.equal(code, 0, stderr);
    assert.equal(report.vms[0].cpu.runNs, 300_000_000, isolation);
    // The policy counts the windows its timers opened: at 10, 20, ..., 1000 ms.
    assert.deepEqual(report.vms[0].cpu.counters, { windows: 100 }, isolation);
    hashes.add(report.eventsHash);
  }
  assert.equal(hashes.size, 1, "the same decisions under none, worker and process");
});

Deno.test("a timer in the past is an error incident naming the time", async () => {
  const { code, report } = await run(await workload("past_timer.ts"), ["--isolation", "none"]);
  assert.equal(code, 1);
  assert.equal(report.incidents[0].kind, "error");
  assert.match(
    report.incidents[0].message,
    /ctx\.timer: expected a time after now \(0 ns\), got -1/,
  );
});

Deno.test("more pending timers than MAX_TIMERS is an invalid decision", async () => {
  const { code, report } = await run(await workload("timer_flood.ts"), ["--isolation", "none"]);
  assert.equal(code, 1);
  assert.deepEqual(
    [report.incidents[0].kind, report.incidents[0].reason],
    ["invalid", "too-many-timers"],
  );
});

Deno.test("a timer policy swapped in mid-run arms its timers from the replayed state", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "swap-to-rtds",
    host: { pcpus: 1 },
    stopAt: "2s",
    vms: [
      { id: "a", sched: { period: "10ms", budget: "4ms" }, cpu: { pattern: "cpu-bound" } },
      { id: "b", sched: { period: "20ms", budget: "10ms" }, cpu: { pattern: "cpu-bound" } },
    ],
  });
  const simulation = await createSimulation(workload, { policies: { cpu: { use: "rr" } } });
  try {
    await simulation.run(1e9);
    const rtds = await loadPolicy("cpu", "rtds", { config: { extratime: false } });
    await internals(simulation).kernel.swap("cpu", rtds);
    const before = internals(simulation).cpu.vms.map((vm) =>
      internals(simulation).cpu.vcpus[vm.vcpus[0]!]!.runNs
    );
    await simulation.run();
    const report = simulation.report();
    assert.deepEqual(report.incidents, []);
    const after = report.vms.map((vm, i) => (vm.cpu.runNs - before[i]!) / 1e9);
    assert.ok(Math.abs(after[0]! - 0.4) < 0.01 && Math.abs(after[1]! - 0.5) < 0.01, `${after}`);
  } finally {
    await simulation.close();
  }
});
