// Incidents point at the line: the hook that threw, its arguments, and the stack mapped to the
// policy's own source, under every isolation, in the report and on stderr (issue #18, item 3).
import assert from "node:assert/strict";
import { relative } from "node:path";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { describeCall } from "../../core/protocol/calls.ts";
import { MEMORY_OP } from "../../core/protocol/ops.ts";
import { ISOLATIONS } from "../../core/protocol/runtime.ts";
import { formatIncident } from "../../core/report/incident.ts";
import { runCli } from "../_helpers.ts";

const THROWS = new URL("../fixtures/cpu/throws.ts", import.meta.url).pathname;
const workload = parseWorkload({
  schema: "hyperhook.workload/v1",
  name: "throws",
  host: { pcpus: 1 },
  vms: ["a", "b"].map((id) => ({ id, cpu: { program: [{ run: "10ms" }] } })),
});

for (const isolation of ISOLATIONS) {
  Deno.test(`a hook that throws is named, with its arguments and its line (${isolation})`, async () => {
    const report = await simulate(workload, {
      policies: { cpu: { use: THROWS } },
      isolation,
      // Generous deadlines: a loaded machine must not turn the throw into a stall.
      sandbox: { batchDeadlineMs: 30_000, initDeadlineMs: 60_000 },
    });
    assert.equal(report.incidents.length, 1);
    // `dispatch` throws at its fourth call, on pCPU 0 (throws.ts line 14, at `new RangeError`).
    assert.deepEqual(report.incidents[0], {
      atNs: 3_000_000,
      domain: "cpu",
      policy: "throws",
      kind: "error",
      reason: "throw",
      message: "RangeError: the policy lost count",
      hook: "dispatch",
      args: { pcpu: 0 },
      stack: [`Object.dispatch (${relative(Deno.cwd(), THROWS)}:14:32)`],
    });
  });
}

Deno.test("a hook given a vCPU is named with the vCPU's VM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-enqueue-" });
  try {
    const sdk = new URL("../../core/policy/mod.ts", import.meta.url).pathname;
    await Deno.writeTextFile(
      `${dir}/enqueue.ts`,
      `import { defineCpuPolicy } from ${JSON.stringify(sdk)};
export default defineCpuPolicy({
  name: "enqueue",
  create: () => ({
    enqueue(_ctx, vcpu) {
      if (vcpu.vm.id === "b") throw new Error("not b");
    },
  }),
});
`,
    );
    const report = await simulate(workload, {
      policies: { cpu: { use: `${dir}/enqueue.ts` } },
      isolation: "worker",
    });
    const { hook, args, stack } = report.incidents[0]!;
    assert.deepEqual({ hook, args, stack }, {
      hook: "enqueue",
      args: { vcpu: 1, vm: "b", reason: "arrive" },
      stack: [`Object.enqueue (${relative(Deno.cwd(), `${dir}/enqueue.ts`)}:6:37)`],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI prints the hook and the policy's line on stderr", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        schema: "hyperhook.workload/v1",
        name: "throws",
        host: { pcpus: 1 },
        vms: ["a", "b"].map((id) => ({ id, cpu: { program: [{ run: "10ms" }] } })),
      }),
    );
    const result = await runCli([
      "run",
      path,
      "--cpu",
      "tests/fixtures/cpu/throws.ts",
      "--deadline",
      "30s",
      "--init-deadline",
      "60s",
    ]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "hyperhook: incident at 3ms: cpu policy throws ejected (error/throw): RangeError: the policy lost count\n" +
        "  in hook dispatch(pcpu 0)\n" +
        "    at Object.dispatch (tests/fixtures/cpu/throws.ts:14:32)\n",
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a call is named only where one starts in the kernel's batch", () => {
  const nums = [MEMORY_OP.TOUCHED, 0, 2, 4, 5, MEMORY_OP.VICTIM, 7, 4, 1, 42, -1, 0];
  assert.deepEqual(describeCall("memory", nums, nums.length, 5), {
    hook: "victim",
    args: { vm: 1, page: 42, scope: -1 },
  });
  assert.deepEqual(describeCall("memory", nums, nums.length, 0), { hook: "touched", args: {} });
  // An offset inside a call (a policy's made-up one) names nothing.
  assert.equal(describeCall("memory", nums, nums.length, 3), undefined);
  assert.equal(describeCall("memory", nums, nums.length, 99), undefined);
  assert.deepEqual(
    formatIncident({
      atNs: 7,
      domain: "memory",
      policy: "p",
      kind: "error",
      reason: "throw",
      message: "Error: x",
      hook: "victim",
      args: { vm: 1, page: 42, scope: -1 },
    }),
    [
      "incident at 7ns: memory policy p ejected (error/throw): Error: x",
      "  in hook victim(vm 1, page 42, scope -1)",
    ],
  );
});
