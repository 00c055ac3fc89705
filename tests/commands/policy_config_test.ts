// Naming a policy keeps the workload's config for it, and every run says how its policies were
// configured (issue #18, item 1).
import assert from "node:assert/strict";
import { resolvePolicyChoice } from "../../core/workload/policy_choice.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { formatComparison, formatReport } from "../../core/report/table.ts";
import { runCli, workloadFile } from "../_helpers.ts";

const workload = {
  schema: "hyperhook.workload/v1",
  name: "quanta",
  host: { pcpus: 1 },
  policies: { cpu: { use: "rr", config: { quantum: "4ms" } } },
  vms: [{ id: "a", cpu: { program: [{ run: "10ms" }] } }, {
    id: "b",
    cpu: { program: [{ run: "10ms" }] },
  }],
};

Deno.test("a flag naming the workload's policy keeps its config; an explicit config wins", () => {
  const fromWorkload = { use: "rr", config: { quantum: "4ms" } };
  assert.deepEqual(resolvePolicyChoice({ use: "rr" }, fromWorkload), fromWorkload);
  assert.deepEqual(resolvePolicyChoice({ use: "rr", config: { quantum: "2ms" } }, fromWorkload), {
    use: "rr",
    config: { quantum: "2ms" },
  });
  assert.deepEqual(resolvePolicyChoice({ use: "fcfs" }, fromWorkload), { use: "fcfs" });
  assert.deepEqual(resolvePolicyChoice(undefined, fromWorkload), fromWorkload);
});

Deno.test("--cpu rr on a workload configuring rr runs the workload's quantum", async () => {
  const parsed = parseWorkload(workload);
  const plain = await simulate(parsed);
  const named = await simulate(parsed, { policies: { cpu: { use: "rr" } } });
  assert.deepEqual(named.policies.cpu!.config, { quantum: "4ms", ahead: 1, spread: false });
  // a: 0-4, 8-12, 16-18 ms; b finishes at 20 ms: with the 10 ms default, a would end at 10 ms.
  assert.equal(named.vms[0]!.cpu.finishNs, 18_000_000);
  assert.equal(named.eventsHash, plain.eventsHash);
  const header = formatReport(named).split("\n")[0]!;
  assert.match(header, /· cpu rr \[none\] \(quantum 4ms, ahead 1, spread false\) ·/);
  const other = await simulate(parsed, { policies: { cpu: { use: "rr", config: {} } } });
  assert.equal(other.vms[0]!.cpu.finishNs, 10_000_000);
  const table = formatComparison([named, other], ["4ms", "default"]);
  assert.match(
    table,
    /^cpu config +quantum 4ms, ahead 1, spread false +quantum 10ms, ahead 1, spread false$/m,
  );
});

Deno.test("sim --cpu rr prints the workload's config in its header", async () => {
  const path = await workloadFile(workload);
  try {
    const result = await runCli(["run", path, "--cpu", "rr"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^quanta · cpu rr \[none\] \(quantum 4ms, ahead 1, spread false\) · seed 1 ·/,
    );
  } finally {
    await Deno.remove(path);
  }
});
