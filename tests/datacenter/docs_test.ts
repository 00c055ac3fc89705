// docs/datacenter.md's policy is examples/policies/relieve_placement.ts, verbatim, and it runs as a
// third party's policy would: bundled, in a child process, importing the published SDK name.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";
import { overloadWorkload } from "./_helpers.ts";

const root = new URL("../../", import.meta.url);

Deno.test("the datacenter guide's policy is the example file and moves one VM off host 0", async () => {
  const guide = await Deno.readTextFile(new URL("docs/datacenter.md", root));
  const block = /```ts\n(import \{ definePlacementPolicy[\s\S]*?)```/.exec(guide)?.[1];
  assert.ok(block, "the guide shows a placement policy");
  const path = new URL("examples/policies/relieve_placement.ts", root).pathname;
  assert.equal(block, await Deno.readTextFile(path));
  const workload = await workloadFile(overloadWorkload(path));
  const result = await runCli(
    ["run", workload, "--format", "json", "--init-deadline", "20s", "--deadline", "5s"],
    { cwd: root.pathname },
  );
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.policies.placement.name, "relieve");
  assert.equal(report.policies.placement.isolation, "process");
  assert.equal(report.datacenter.migrations, 1);
  assert.equal(report.datacenter.meanMigrationNs, 16_000_000_000);
  await Deno.remove(workload);
});
