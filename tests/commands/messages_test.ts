// Messages say exactly what is wrong (issue #18, item 8): a JSON syntax error's file:line:col,
// the file of a missing stopAt, what the sandbox forbids, "did you mean", an empty policy in a
// list, three significant digits, what a resume replayed, and where a command wrote its reports.
import assert from "node:assert/strict";
import { readWorkloadJson, WorkloadError } from "../../core/workload/load.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { formatReport, roundedDuration } from "../../core/report/table.ts";
import { readWorkload } from "../../core/workload/load.ts";
import { resumeLine, writtenLine } from "../../core/commands/_messages.ts";
import { example, runCli, workloadFile } from "../_helpers.ts";

Deno.test("a workload's JSON syntax error names file:line:col", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, '{\n  "schema": "x"\n  "name": 1\n}\n');
    assert.throws(
      () => readWorkloadJson(path),
      (error: unknown) =>
        error instanceof WorkloadError &&
        error.message ===
          `Workload ${path}:3:3: not valid JSON (Expected ',' or '}' after property value)`,
    );
    await Deno.writeTextFile(path, '{"schema": ');
    assert.throws(
      () => readWorkloadJson(path),
      { message: `Workload ${path}:1:12: not valid JSON (Unexpected end of JSON input)` },
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("bad input on the command line: the file, did you mean, an empty policy", async () => {
  const forever = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "forever",
    host: { pcpus: 1 },
    vms: [{ id: "a", cpu: { pattern: "cpu-bound" } }],
  });
  const typo = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "typo",
    host: { pcpus: 1 },
    stopat: "1s",
    vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
  });
  const rr = example("rr_textbook.json");
  try {
    const cases: [string[], string][] = [
      [
        ["run", forever],
        `Workload ${forever}: stopAt: expected a duration such as "10s", because vms[0] (a) runs forever (pattern cpu-bound)`,
      ],
      [
        ["run", typo],
        `Workload ${typo}: (top level): unknown key "stopat" (did you mean "stopAt"?)`,
      ],
      [
        ["run", rr, "--cpu", "crdit"],
        'Unknown cpu policy "crdit" (did you mean "credit"?): expected one of fcfs, sjf, srtf, priority, rr, credit, credit2, rtds, fair, or a path or npm:, jsr:, https: specifier of a policy module',
      ],
      [["run", rr, "--sead", "3"], `Unknown option '--sead' (did you mean "--seed"?)`],
      [
        ["compare", rr, "--cpu", "rr,,credit"],
        '--cpu: expected a policy at position 2 of "rr,,credit", got nothing',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, args.join(" "));
      assert.equal(result.stderr, `hyperhook: ${message}\n`, args.join(" "));
    }
  } finally {
    await Deno.remove(forever);
    await Deno.remove(typo);
  }
});

Deno.test("a sandboxed file read says the sandbox forbids files, not Deno's --allow-read hint", async () => {
  const report = await simulate(
    parseWorkload({
      schema: "hyperhook.workload/v1",
      name: "reads",
      host: { pcpus: 1 },
      vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
    }),
    {
      policies: {
        cpu: {
          use: new URL("../fixtures/hostile/in_hook.ts", import.meta.url).pathname,
          config: { act: "read", file: "/etc/hostname" },
        },
      },
      isolation: "worker",
    },
  );
  assert.equal(
    report.incidents[0]!.message,
    'NotCapable: Requires read access to "/etc/hostname": the sandbox forbids a policy to read files',
  );
});

Deno.test("tables show three significant digits in one unit", () => {
  assert.deepEqual(
    [499_712, 1_666_667, 999_900, 23_986_000, 30_013_000_000, 12, 0].map(roundedDuration),
    ["500us", "1.67ms", "1ms", "24ms", "30s", "12ns", "0ns"],
  );
});

Deno.test("a run's table writes each duration column in one unit, to three digits", async () => {
  const report = await simulate(await readWorkload(example("rr_textbook.json")));
  assert.deepEqual(formatReport(report).split("\n").slice(1, 6), [
    "vm  vcpus  share     run    wait  finish  switches  lat p99",
    "--  -----  -----  ------  ------  ------  --------  -------",
    "P1      1  80.0%  24.0ms  6.00ms  30.0ms         2   6.00ms",
    "P2      1  10.0%   3.0ms  4.00ms   7.0ms         1   4.00ms",
    "P3      1  10.0%   3.0ms  7.00ms  10.0ms         1   7.00ms",
  ]);
});

Deno.test("what a resume replayed, and where a command wrote its reports", async () => {
  assert.equal(
    resumeLine({ changes: 1, skipped: 1, atNs: 2_500_000_000, hash: "diverged" }),
    "resumed: replayed 1 logged change (skipped 1 swap that failed after the last good point) to 2.5s simulated; the decision hash DIFFERS from the checkpoint's (see the warning above)",
  );
  assert.equal(writtenLine({}), undefined);
  const dir = await Deno.makeTempDir();
  try {
    const result = await runCli([
      "compare",
      example("rr_textbook.json"),
      "--cpu",
      "rr,fcfs",
      "--out-dir",
      dir,
      "--html",
      `${dir}/report.html`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      `hyperhook: wrote the HTML report to ${dir}/report.html and 2 JSON reports to ${dir}/\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
