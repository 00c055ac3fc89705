// `hyperhook diff`: where two policies first decide differently, the state then, per-VM figures.
import assert from "node:assert/strict";
import { diffRuns } from "../../core/observe/diff.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload, readWorkload } from "../../core/workload/load.ts";
import { formatDecision } from "../../core/observe/decisions.ts";
import { example, runCli, workloadFile } from "../_helpers.ts";

const rr = { use: "rr", label: "rr" };

Deno.test("diff of a policy with itself reports no difference", async () => {
  const workload = await readWorkload(example("rr_textbook.json"));
  const result = await diffRuns(workload, [rr, { ...rr }], { seeds: [1, 2] });
  assert.equal(result.first, null);
  assert.deepEqual(result.differingSeeds, []);
  assert.equal(result.eventsHash[0], result.eventsHash[1]);
  assert.ok(result.vms.every((row) => row.delta === 0 && !row.significant));
});

Deno.test("rr against rr with a 5 ms quantum: the first differing decision, at its instant", async () => {
  const workload = await readWorkload(example("rr_textbook.json"));
  const result = await diffRuns(workload, [rr, {
    use: "rr",
    config: { quantum: "5ms" },
    label: 'rr{"quantum":"5ms"}',
  }]);
  const first = result.first!;
  // Both put P1 on the pCPU at 0; the slices differ (the workload's 4 ms for rr, against 5 ms).
  assert.equal(first.index, 0);
  assert.equal(first.atNs, 0);
  assert.equal(formatDecision(first.a!), "0ns cpu run P1/0 on pCPU 0 (slice 4ms)");
  assert.equal(formatDecision(first.b!), "0ns cpu run P1/0 on pCPU 0 (slice 5ms)");
  assert.deepEqual(first.before, []);
  assert.deepEqual(first.state, { atNs: 0, running: [null], runnable: [] });
  assert.deepEqual(result.differingSeeds, [1]);
  // P2 waits one quantum: 4 ms under A, 5 ms under B.
  const p2 = result.vms.find((row) => row.vm === "P2" && row.metric === "waitNs")!;
  assert.deepEqual([p2.a, p2.b, p2.delta, p2.significant], [4e6, 5e6, 1e6, true]);
});

Deno.test("fcfs against sjf: they part when P1 ends, with the state of that instant", async () => {
  // P1 runs alone from 0 to 10 ms; P2 (3 ms) and P3 (1 ms) arrive at 2 ms.
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "part",
    host: { pcpus: 1 },
    vms: [
      { id: "P1", cpu: { program: [{ run: "10ms" }] } },
      { id: "P2", cpu: { arrive: "2ms", program: [{ run: "3ms" }] } },
      { id: "P3", cpu: { arrive: "2ms", program: [{ run: "1ms" }] } },
    ],
  });
  const result = await diffRuns(workload, [{ use: "fcfs", label: "fcfs" }, {
    use: "sjf",
    label: "sjf",
  }], { context: 5 });
  const first = result.first!;
  assert.equal(first.atNs, 10e6);
  assert.equal(first.index, 2);
  assert.equal(formatDecision(first.a!), "10ms cpu run P2/0 on pCPU 0 (slice none)");
  assert.equal(formatDecision(first.b!), "10ms cpu run P3/0 on pCPU 0 (slice none)");
  assert.deepEqual(first.before.map(formatDecision), [
    "0ns cpu run P1/0 on pCPU 0 (slice none)",
    "10ms cpu stop P1/0 on pCPU 0 (done)",
  ]);
  assert.deepEqual(first.state, { atNs: 10e6, running: ["P1/0"], runnable: ["P2/0", "P3/0"] });
});

Deno.test("over several seeds, differences are set against the spread between seeds", async () => {
  const demo = await readWorkload(example("demo.json"));
  const workload = { ...demo, stopAt: 1e9 };
  const seeds = [1, 2, 3];
  const result = await diffRuns(workload, [rr, { use: "fcfs", label: "fcfs" }], { seeds });
  assert.deepEqual(result.differingSeeds, seeds);
  // The means and spreads are those of the separate runs.
  const shares = [];
  for (const seed of seeds) {
    shares.push((await simulate(workload, { seed, policies: { cpu: rr } })).vms[0]!.cpu.share);
  }
  const row = result.vms.find((r) => r.vm === demo.vms[0]!.id && r.metric === "share")!;
  assert.ok(Math.abs(row.a - shares.reduce((a, b) => a + b) / 3) < 1e-12);
  const spreadA = Math.max(...shares) - Math.min(...shares);
  assert.ok(row.spread >= spreadA);
  for (const r of result.vms) assert.equal(r.significant, Math.abs(r.delta) > r.spread);
  assert.ok(result.vms.some((r) => r.significant) && result.vms.some((r) => !r.significant));
});

Deno.test("the CLI: --fail-on-change exits 1 on a difference and 0 without; bad pairs exit 2", async () => {
  const workload = example("rr_textbook.json");
  const same = await runCli(["diff", workload, "--cpu", "rr,rr", "--fail-on-change"]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /no difference: the runs made the same decisions/);
  const changed = await runCli([
    "diff",
    workload,
    "--cpu",
    'rr,rr{"quantum":"5ms"}',
    "--fail-on-change",
  ]);
  assert.equal(changed.code, 1, changed.stderr);
  assert.match(
    changed.stdout,
    /first difference: decision #0, at 0ns\n {2}A: 0ns cpu run P1\/0 on pCPU 0 \(slice 4ms\)\n {2}B: 0ns cpu run P1\/0 on pCPU 0 \(slice 5ms\)/,
  );
  const bad = await runCli(["diff", await workloadFile({}), "--cpu", "rr"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^hyperhook: --cpu: expected two policies A,B/);
});

Deno.test("diff against a recorded baseline (raw log and report): same policy none, another one parts", async () => {
  const dir = await Deno.makeTempDir();
  const workload = example("rr_textbook.json");
  const recorded = await runCli([
    "run",
    workload,
    "--log",
    `${dir}/base.log`,
    "--out",
    `${dir}/base.json`,
    "--format",
    "json",
  ]);
  assert.equal(recorded.code, 0, recorded.stderr);
  const baseline = ["--baseline-log", `${dir}/base.log`, "--baseline-report", `${dir}/base.json`];
  const same = await runCli([
    "diff",
    workload,
    "--cpu",
    'rr{"quantum":"4ms"}',
    ...baseline,
    "--fail-on-change",
  ]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /no difference: the runs made the same decisions/);
  const other = await runCli([
    "diff",
    workload,
    "--cpu",
    'rr{"quantum":"5ms"}',
    ...baseline,
    "--fail-on-change",
  ]);
  assert.equal(other.code, 1, other.stderr);
  assert.match(
    other.stdout,
    /A: 0ns cpu run P1\/0 on pCPU 0 \(slice 4ms\)\n {2}B: 0ns cpu run P1\/0 on pCPU 0 \(slice 5ms\)/,
  );
  assert.match(other.stdout, /P2 +waitNs +4ms +5ms +\+1ms/);
  await Deno.remove(dir, { recursive: true });
});
