// `hyperhook fuzz`: broken fixture policies are caught and shrunk; sound ones pass a fixed budget.
import assert from "node:assert/strict";
import { fuzzPolicy } from "../../core/observe/fuzz.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { runCli } from "../_helpers.ts";

const fixture = (name: string) => new URL(`../fixtures/fuzz/${name}.ts`, import.meta.url).pathname;

for (
  const [name, property, message] of [
    ["starve_highest", "wait", /^vCPU vm\d\/\d waited ready \d+(\.\d+)? ms \(bound 500 ms\)$/],
    ["idle_two", "work-conserving", /^1 pCPU\(s\) idle while 2 vCPU\(s\) were ready$/],
    ["ignore_weights", "share", /^VM vm\d got .* its weighted fair share is .*$/],
  ] as const
) {
  Deno.test(`fuzz finds and shrinks the fault of ${name} (${property})`, async () => {
    const { counterexample } = await fuzzPolicy({ use: fixture(name) }, {
      properties: [property],
      runs: 60,
      isolation: "none",
    });
    assert.ok(counterexample !== null, "a counterexample");
    assert.equal(counterexample.property, property);
    assert.match(counterexample.message, message);
    const vms = counterexample.workload.vms as { weight: number }[];
    assert.ok(vms.length <= 4, `${vms.length} VMs`);
    if (name === "ignore_weights") assert.notEqual(vms[0]!.weight, vms[1]!.weight);
    // The workload file reproduces it: the same run, the same figures.
    const report = await simulate(parseWorkload(counterexample.workload), { isolation: "none" });
    assert.equal(report.workload, "fuzz-counterexample");
    if (property !== "share") {
      assert.ok(counterexample.atNs !== null && counterexample.decisions.length > 0);
    }
  });
}

Deno.test("fuzz finds nothing in fcfs (work conservation) and credit (caps) within a fixed budget", async () => {
  const fcfs = await fuzzPolicy({ use: "fcfs" }, { properties: ["work-conserving"], runs: 60 });
  assert.deepEqual(fcfs, { runs: 60, counterexample: null });
  const credit = await fuzzPolicy({ use: "credit" }, { properties: ["cap"], runs: 60 });
  assert.deepEqual(credit, { runs: 60, counterexample: null });
});

Deno.test("a property of the user's, as a function of the report", async () => {
  const { counterexample } = await fuzzPolicy({ use: "rr" }, {
    properties: [],
    check: (report) => report.vms.length > 2 ? "more than two VMs" : undefined,
    runs: 60,
  });
  assert.equal(counterexample?.property, "check");
  assert.equal((counterexample?.workload.vms as unknown[]).length, 3);
});

Deno.test("the CLI: exit 1 with the workload written, 0 when the budget finds nothing", async () => {
  const dir = await Deno.makeTempDir();
  const found = await runCli([
    "fuzz",
    fixture("idle_two"),
    "--property",
    "work-conserving",
    "--runs",
    "30",
    "--isolation",
    "none",
    "--out",
    `${dir}/cx.json`,
  ]);
  assert.equal(found.code, 1, found.stderr);
  assert.match(
    found.stdout,
    /property work-conserving broke at \S+: 1 pCPU\(s\) idle while 2 vCPU\(s\) were ready/,
  );
  const workload = JSON.parse(await Deno.readTextFile(`${dir}/cx.json`));
  assert.equal(workload.schema, "hyperhook.workload/v1");
  assert.equal(workload.seed, 1);
  const clean = await runCli(["fuzz", "fcfs", "--property", "work-conserving", "--runs", "10"]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(
    clean.stdout.trim(),
    "fuzz fcfs: no counterexample in 10 workloads (properties: work-conserving)",
  );
  const bad = await runCli(["fuzz", "fcfs", "--property", "speed"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^hyperhook: --property: expected some of work-conserving, wait, share, cap, no-incident, got speed\n$/,
  );
  await Deno.remove(dir, { recursive: true });
});
