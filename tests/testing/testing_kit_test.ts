// The policy test kit (`@hyperhook/hyperhook/testing`): each check passes the built-ins and
// fails a policy that breaks its rule, with a message that says where and why.
import assert from "node:assert/strict";
import {
  assertDeterministic,
  assertLoads,
  assertNoIncidents,
  assertReport,
  assertWorkConserving,
  checkPolicy,
  PolicyCheckError,
  run,
  runPolicy,
  sleep,
  standardWorkloads,
  vm,
  vmReport,
  workload,
} from "../../core/testing/mod.ts";
import { WorkloadError } from "../../core/workload/load.ts";

const fixture = (name: string) => new URL(`../fixtures/authoring/${name}`, import.meta.url);
const cpuFixture = (name: string) => new URL(`../fixtures/cpu/${name}`, import.meta.url);

/** Awaits `promise` and returns the PolicyCheckError it rejects with. */
async function checkError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (error: unknown) => error);
  assert.ok(error instanceof PolicyCheckError, `expected a PolicyCheckError, got ${error}`);
  return error.message;
}

Deno.test("checkPolicy: built-in CPU and memory policies pass every check in the sandbox", async () => {
  const rr = await checkPolicy("rr", { workConserving: true });
  assert.equal(rr.policy.domain, "cpu");
  assert.equal(rr.policy.isolation, "process");
  assert.equal(rr.reports.length, standardWorkloads("cpu").length);
  assert.ok(rr.reports.every((report) => report.incidents.length === 0));
  assert.deepEqual(rr.workConservation!.map((w) => w.idleWithWorkNs), [0, 0, 0, 0]);
  assert.match(rr.eventsHash, /^[0-9a-f]{64}$/);
  const lru = await checkPolicy("lru");
  assert.equal(lru.policy.domain, "memory");
  assert.ok(lru.reports.every((report) => report.incidents.length === 0));
});

Deno.test("assertLoads: reports name, domain, hooks and config; refuses a bad config", async () => {
  const loaded = await assertLoads(new URL("../../examples/policies/lottery.ts", import.meta.url), {
    config: { quantum: "2ms" },
  });
  assert.equal(loaded.name, "lottery");
  assert.equal(loaded.domain, "cpu");
  assert.deepEqual(loaded.config, { quantum: "2ms" });
  assert.ok(loaded.hooks.includes("dispatch"));
  assert.match(loaded.sha256, /^[0-9a-f]{64}$/);
  const message = await checkError(assertLoads("rr", { config: { quantum: "fast" } }));
  assert.match(message, /^Policy rr refuses its configuration: .*quantum/);
  const missing = await checkError(assertLoads("tests/fixtures/authoring/nope.ts"));
  assert.match(missing, /cannot be loaded: Policy module not found: .*nope\.ts$/);
  const wrong = await checkError(assertLoads(fixture("one_pcpu.ts"), { domain: "memory" }));
  assert.match(wrong, /is a cpu policy; expected a memory policy$/);
});

Deno.test("assertNoIncidents: names the workload, time and rule of every ejection", async () => {
  const invalid = await checkError(assertNoIncidents(cpuFixture("bad_slice.ts")));
  assert.match(invalid, /was ejected 4 time\(s\)/);
  assert.match(
    invalid,
    /textbook: invalid\/bad-slice at 0ns \(the kernel refused a decision\): .*slice -5/,
  );
  const stall = await checkError(
    assertNoIncidents(fixture("starves_second.ts"), { workloads: [standardWorkloads("cpu")[0]!] }),
  );
  assert.match(
    stall,
    /textbook: stall\/watchdog at 1s \(a runnable vCPU went unrun past the watchdog: starvation\): vCPU 1 of VM P2/,
  );
});

Deno.test("assertDeterministic: same hash across runs and isolations; shows the first difference", async () => {
  const hash = await assertDeterministic("srtf");
  assert.match(hash, /^[0-9a-f]{64}$/);
  const message = await checkError(
    assertDeterministic(fixture("random.ts"), { isolations: ["none"] }),
  );
  assert.match(
    message,
    /not deterministic on workload mixed: eventsHash [0-9a-f]{12}… \(isolation none, run 1\) differs from [0-9a-f]{12}… \(isolation none, run 2\)\. Decision \d+ differs: at [^ ]+ vCPU \d+ ran on pCPU \d+ .* vs .*Use ctx\.rng/,
  );
});

Deno.test("assertWorkConserving: measures idle pCPUs with work waiting, exactly", async () => {
  const [textbook, cpuBound] = standardWorkloads("cpu");
  const results = await assertWorkConserving("fcfs", { workloads: [textbook!, cpuBound!] });
  assert.deepEqual(results.map((r) => [r.workload, r.idleWithWorkNs, r.first]), [
    ["textbook", 0, null],
    ["cpu-bound", 0, null],
  ]);
  // One pCPU of two used: pCPU 1 idles while b waits its turns, until b is done at 20 ms.
  const two = workload([vm("a", { program: [run("30ms")] }), vm("b", { program: [run("10ms")] })], {
    pcpus: 2,
  });
  const message = await checkError(
    assertWorkConserving(fixture("one_pcpu.ts"), { workloads: [two] }),
  );
  assert.match(
    message,
    /not work-conserving \(tolerance 0\):\n {2}test: pCPUs sat idle with work waiting for 20ms \(25\.000% of capacity\); first at 0ns: pCPU 1 idle while vCPU 1 of VM b was runnable$/,
  );
  // A capped VM may be throttled: its waiting vCPUs do not count.
  const capped = workload([vm("b", { vcpus: 2, cap: 150, program: [run("10ms")] })], { pcpus: 2 });
  const [measured] = await assertWorkConserving(fixture("one_pcpu.ts"), {
    workloads: [capped],
    isolation: "none",
  });
  assert.equal(measured!.idleWithWorkNs, 0);
  const memory = await checkError(assertWorkConserving("lru"));
  assert.match(memory, /is a memory policy; work conservation is checked for CPU policies/);
});

Deno.test("workload builders: vm() flattens CPU fields, workload() validates at once", () => {
  const built = workload([
    vm("P1", { vcpus: 2, weight: 512, program: [run("5ms"), sleep("1ms")], repeat: 3 }),
    vm("web", { pattern: "interactive", run: "1ms", sleep: "4ms", arrive: "2ms" }),
  ], { name: "built", pcpus: 2, stopAt: "1s", seed: 9 });
  assert.deepEqual(built, {
    schema: "hyperhook.workload/v1",
    name: "built",
    seed: 9,
    host: { pcpus: 2 },
    stopAt: "1s",
    vms: [
      {
        id: "P1",
        vcpus: 2,
        weight: 512,
        cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 3 },
      },
      { id: "web", cpu: { pattern: "interactive", run: "1ms", sleep: "4ms", arrive: "2ms" } },
    ],
  });
  assert.throws(
    () => workload([vm("P1", { program: [] })]),
    (error: unknown) =>
      error instanceof WorkloadError &&
      /^Workload test: vms\[0\]\.cpu\.program/.test(error.message),
  );
});

Deno.test("runPolicy + assertReport: textbook round robin, and one line per mismatch", async () => {
  const report = await runPolicy(
    "rr",
    workload([
      vm("P1", { program: [run("24ms")] }),
      vm("P2", { program: [run("3ms")] }),
      vm("P3", { program: [run("3ms")] }),
    ]),
    { config: { quantum: "4ms" }, isolation: "none" },
  );
  assertReport(report, {
    vms: { P1: { cpu: { waitNs: "6ms", finishNs: "30ms" } }, P2: { cpu: { waitNs: "4ms" } } },
    host: { cpu: { utilization: 1 } },
    incidents: [],
  });
  assert.equal(vmReport(report, "P3").cpu.waitNs, 7_000_000);
  assert.throws(() => vmReport(report, "P9"), /has no VM "P9" \(it has P1, P2, P3\)/);
  assertReport(report, { vms: { P1: { cpu: { waitNs: "6.1ms" } } } }, { absolute: 200_000 });
  assert.throws(
    () =>
      assertReport(report, {
        vms: { P1: { cpu: { waitNs: "5ms" } }, P4: {} },
        host: { cpu: { switches: 1 } },
        incidents: [{ kind: "stall" }],
      }),
    (error: unknown) =>
      error instanceof PolicyCheckError &&
      error.message ===
        "Report of workload test differs from what was expected:\n" +
          "  report.host.cpu.switches: expected 1, got 4\n" +
          "  report.incidents: expected 1 item(s), got 0\n" +
          "  report.vms.P1.cpu.waitNs: expected 5000000, got 6000000\n" +
          '  report.vms.P4: expected a VM "P4", got none (the report has P1, P2, P3)',
  );
});
