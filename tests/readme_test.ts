// The README's custom policy is the example file, verbatim, and it runs as written.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "./_helpers.ts";

const root = new URL("../", import.meta.url);

Deno.test("the README's twenty-line policy is examples/policies/lottery.ts and works", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const block = /```ts\n(\/\/ Lottery scheduling[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README shows the lottery policy");
  const file = await Deno.readTextFile(new URL("examples/policies/lottery.ts", root));
  assert.equal(block, file);
  assert.ok(file.trimEnd().split("\n").length <= 24);
  // Two CPU-bound VMs on one pCPU, weights 512 and 256: lottery gives them about 2/3 and 1/3.
  const workload = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "lottery",
    host: { pcpus: 1 },
    stopAt: "10s",
    vms: [
      { id: "heavy", weight: 512, cpu: { pattern: "cpu-bound" } },
      { id: "light", weight: 256, cpu: { pattern: "cpu-bound" } },
    ],
  });
  const result = await runCli([
    "run",
    workload,
    "--cpu",
    "examples/policies/lottery.ts",
    "--isolation",
    "none",
    "--format",
    "json",
  ], { cwd: root.pathname });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.policies.cpu.name, "lottery");
  assert.equal(report.incidents.length, 0);
  assert.equal(report.host.cpu.utilization, 1);
  const [heavy, light] = report.vms.map((vm: { cpu: { share: number } }) => vm.cpu.share);
  assert.ok(Math.abs(heavy - 2 / 3) < 0.03, `heavy ${heavy}`);
  assert.ok(Math.abs(light - 1 / 3) < 0.03, `light ${light}`);
});

Deno.test("the README shows the two commands", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.match(readme, /deno task demo/);
  assert.match(readme, /deno task test/);
});
