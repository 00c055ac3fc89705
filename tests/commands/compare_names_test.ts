// Compare columns, legends and files use each policy's declared name (the path only to break a
// tie), and `"policies": {"cpu": "rr"}` is shorthand for `{"use": "rr"}` (issue #18, item 7).
import assert from "node:assert/strict";
import { comparisonLabels } from "../../core/commands/_labels.ts";
import type { Report } from "../../core/report/report.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { example, runCli } from "../_helpers.ts";

const named = (name: string) => ({ policies: { cpu: { name } } }) as unknown as Report;

Deno.test("runs are labelled by declared name; a shared name falls back to the reference", () => {
  assert.deepEqual(
    comparisonLabels(
      [named("lottery"), named("rr")],
      ["examples/policies/lottery.ts", "rr"],
      "cpu",
    ),
    ["lottery", "rr"],
  );
  assert.deepEqual(
    comparisonLabels(
      [named("mine"), named("mine"), named("rr")],
      ["a/p.ts", "b/p.ts", "rr"],
      "cpu",
    ),
    ["a/p.ts", "b/p.ts", "rr"],
  );
  assert.deepEqual(comparisonLabels([named("rr"), named("rr")], ["rr", "rr"], "cpu"), [
    "rr #1",
    "rr #2",
  ]);
});

Deno.test("a policy named by a string alone is shorthand for { use }", () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "short",
    host: { pcpus: 1 },
    policies: { cpu: "fcfs" },
    vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
  });
  assert.deepEqual(workload.policies.cpu, { use: "fcfs", config: {} });
});

Deno.test("compare names the columns and the files after the policies' declared names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lottery = new URL("../../examples/policies/lottery.ts", import.meta.url).pathname;
    const result = await runCli([
      "compare",
      example("rr_textbook.json"),
      "--cpu",
      `rr,${lottery}`,
      "--out-dir",
      dir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ +rr +lottery$/m);
    const files = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assert.deepEqual(files, ["lottery.json", "rr.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
