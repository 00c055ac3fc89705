// Bad flags: exit 2 with one line on stderr naming the flag and what was expected.
import assert from "node:assert/strict";
import { example, runCli } from "./_helpers.ts";

async function refused(args: string[], expected: RegExp) {
  const result = await runCli(args);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, expected);
}

Deno.test("--stall, --deadline and --init-deadline must be above zero", async () => {
  const workload = example("rr_textbook.json");
  await refused(
    ["run", workload, "--stall", "0s"],
    /^hyperhook: --stall: expected a duration above zero such as "30s", got 0s$/,
  );
  await refused(["run", workload, "--stall", "soon"], /--stall: expected a duration/);
  await refused(
    ["run", workload, "--deadline", "0ms"],
    /^hyperhook: --deadline: expected a wall-clock time above zero such as "100ms", got 0ms$/,
  );
  await refused(["run", workload, "--init-deadline", "0s"], /--init-deadline: expected/);
  const ok = await runCli(["run", workload, "--stall", "1m", "--format", "json"]);
  assert.equal(ok.code, 0, ok.stderr);
});
