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

Deno.test("every usage mistake is one line: a missing workload, a flag missing its value", async () => {
  const workload = example("rr_textbook.json");
  await refused(["run"], /^hyperhook: run: expected one workload file, got 0$/);
  await refused(["compare", workload, workload, "--cpu", "rr"], /compare: expected one workload/);
  await refused(["bundle"], /^hyperhook: bundle: expected one policy, got 0$/);
  await refused(
    ["run", workload, "--seed", "-1"],
    /^hyperhook: --seed: expected a value after it; write --seed=VALUE for a value starting with "-"$/,
  );
  await refused(["run", workload, "--seed=-1"], /--seed: expected a non-negative integer, got -1/);
});

Deno.test("a file that cannot be written names the flag that gave it", async () => {
  const workload = example("rr_textbook.json");
  const blocker = await Deno.makeTempFile(); // a file where a folder is needed
  await refused(["run", workload, "--html", `${blocker}/r.html`], /^hyperhook: --html /);
  await refused(["run", workload, "--log", `${blocker}/r.log`], /^hyperhook: --log /);
  await refused(["run", workload, "--out", `${blocker}/r.json`], /^hyperhook: --out /);
  await refused(
    ["compare", workload, "--cpu", "rr", "--out-dir", `${blocker}/d`],
    /^hyperhook: --out-dir /,
  );
});

Deno.test("serve refuses the sandbox flags it would ignore", async () => {
  for (const flag of ["--heap", "--deadline", "--init-deadline", "--restart"]) {
    await refused(["serve", flag, "64", "--port", "0"], new RegExp(`Unknown option '${flag}'`));
  }
});

Deno.test("bundle: --domain picks the I/O fcfs (the hash its report records); --format is checked", async () => {
  const bundled = await runCli(["bundle", "fcfs", "--domain", "io", "--format", "json"]);
  assert.equal(bundled.code, 0, bundled.stderr);
  const run = await runCli(["run", example("disk_textbook.json"), "--format", "json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(bundled.stdout).sha256, JSON.parse(run.stdout).policies.io.sha256);
  await refused(["bundle", "rr", "--format", "xml"], /--format: expected text or json, got xml$/);
  await refused(["bundle", "rr", "--domain", "gpu"], /--domain: expected one of cpu, memory, io/);
});

Deno.test("serve: a --state-dir that is a file, or below one, is one line and exit 2", async () => {
  const file = await Deno.makeTempFile();
  await refused(
    ["serve", "--state-dir", file, "--port", "0"],
    /^hyperhook: --state-dir .*: cannot keep state there/,
  );
  await refused(
    ["serve", "--state-dir", `${file}/state`, "--port", "0"],
    /cannot keep state there/,
  );
  await refused(
    ["serve", "--state-dir", file, "--resume", "--port", "0"],
    /^hyperhook: --resume: cannot read .*audit\.jsonl/,
  );
});
