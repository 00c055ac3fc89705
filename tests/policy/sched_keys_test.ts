// Policies declare their `sched` keys: a VM with an unknown one is refused, naming it (issue #18,
// item 6); before, `"perod"` under rtds was silently ignored.
import assert from "node:assert/strict";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { PolicyConfigError } from "../../core/kernel/kernel.ts";
import { runCli, workloadFile } from "../_helpers.ts";

const MESSAGE =
  'Policy rtds: VM web sched.perod: unknown key (did you mean "period"?); expected one of period, budget, extratime';

function rtds(sched: Record<string, unknown>) {
  return {
    schema: "hyperhook.workload/v1",
    name: "rt",
    host: { pcpus: 1 },
    policies: { cpu: { use: "rtds" } },
    vms: [{ id: "web", sched, cpu: { program: [{ run: "5ms" }] } }],
  };
}

Deno.test("rtds refuses a VM's unknown sched key before the run starts, naming it", async () => {
  await assert.rejects(
    () => simulate(parseWorkload(rtds({ perod: "20ms" }))),
    (error: unknown) => error instanceof PolicyConfigError && error.message === MESSAGE,
  );
  // The keys it declares are taken: period 20 ms, budget 5 ms runs the 5 ms job in one go.
  const report = await simulate(parseWorkload(rtds({ period: "20ms", budget: "5ms" })));
  assert.equal(report.vms[0]!.cpu.finishNs, 5_000_000);
});

Deno.test("sim exits 2 with the unknown sched key named, in a sandbox too", async () => {
  const path = await workloadFile(rtds({ perod: "20ms" }));
  try {
    const result = await runCli(["run", path, "--isolation", "process"]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `hyperhook: ${MESSAGE}\n`);
  } finally {
    await Deno.remove(path);
  }
});
