// Edge cases of simulated time, through the CLI as users run them.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

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
