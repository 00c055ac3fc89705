// A policy that declares `prefetch` is asked for a busy pCPU's next work when that pCPU starts the
// last vCPU of its local queue; the kernel goes on without the answer and applies it when the pCPU
// needs it (or before the next answer it waits for). The points where answers take effect are
// simulated, so a run is the same under every isolation, failures included.
import assert from "node:assert/strict";
import type { Report } from "../../core/report/report.ts";
import type { Isolation } from "../../core/sandbox/runtime.ts";
import { simulate } from "../../core/simulate.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { burstWorkload } from "../_helpers.ts";

const acts = new URL("../fixtures/cpu/prefetch_acts.ts", import.meta.url).pathname;
/** Determinism is under test here, not deadlines: slow CI machines must not stall a policy. */
const SANDBOX = { batchDeadlineMs: 10_000, initDeadlineMs: 30_000 };

/** Three pCPUs, CPU-bound and interactive VMs, some finite, for 2 simulated seconds. */
function mixed(policy: string, config: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "prefetch-mixed",
    seed: 7,
    host: { pcpus: 3 },
    policies: { cpu: { use: policy, config } },
    stopAt: "2s",
    vms: Array.from({ length: 10 }, (_, i) => ({
      id: `vm-${i}`,
      vcpus: 1 + (i % 2),
      cpu: i % 3 === 0
        ? { pattern: "interactive", run: "1ms", sleep: "5ms" }
        : { program: [{ run: `${200 + 50 * i}ms` }] },
    })),
  };
}

async function run(
  spec: Record<string, unknown>,
  isolation: Isolation,
  sandbox = SANDBOX,
): Promise<Report> {
  return await simulate(parseWorkload(spec), { isolation, sandbox });
}

Deno.test("rr with ahead 2 asks ahead and keeps the textbook RR waits on one pCPU", async () => {
  const spec = burstWorkload("rr", [[0, 24], [0, 3], [0, 3]], { quantum: "4ms", ahead: 2 });
  const hashes = new Set<string>();
  for (const isolation of ["none", "process"] as const) {
    const report = await run(spec, isolation);
    assert.deepEqual(report.vms.map((vm) => vm.cpu.waitNs / 1e6), [6, 4, 7], isolation);
    assert.equal(report.incidents.length, 0);
    hashes.add(report.eventsHash);
  }
  assert.equal(hashes.size, 1);
});

Deno.test("answers asked ahead make the same run under none, worker and process", async () => {
  for (const [policy, config] of [["rr", { quantum: "2ms", ahead: 4 }], [acts, {}]] as const) {
    const reports = [];
    for (const isolation of ["none", "worker", "process"] as const) {
      reports.push(await run(mixed(policy, config), isolation));
    }
    const [none, ...others] = reports;
    assert.equal(none!.incidents.length, 0);
    for (const other of others) assert.equal(other.eventsHash, none!.eventsHash, String(policy));
    for (const vm of none!.vms.filter((_, i) => i % 3 !== 0)) {
      assert.notEqual(vm.cpu.finishNs, null);
    }
    if (policy === acts) {
      // The kernel did ask for busy pCPUs' work ahead.
      const ahead = none!.vms.reduce((sum, vm) => sum + (vm.cpu.counters?.ahead ?? 0), 0);
      assert.ok(ahead > 10, `asked ahead ${ahead} times`);
    }
  }
});

Deno.test("a failure in an answer asked ahead is the same incident, at the same instant, anywhere", async () => {
  for (
    const [act, kind, reason] of [[1, "error", "throw"], [
      2,
      "invalid",
      "vcpu-not-runnable",
    ]] as const
  ) {
    const incidents = [];
    for (const isolation of ["none", "process"] as const) {
      const report = await run(mixed(acts, { act, after: 5 }), isolation);
      assert.equal(report.incidents.length, 1, `${act} ${isolation}`);
      incidents.push(report.incidents[0]!);
      // The fallback finished the finite programs.
      for (const vm of report.vms.filter((_, i) => i % 3 !== 0)) {
        assert.notEqual(vm.cpu.finishNs, null);
      }
    }
    const [none, process] = incidents;
    assert.equal(none!.kind, kind);
    assert.equal(none!.reason, reason);
    assert.deepEqual(process, none);
  }
});

Deno.test("a policy that spins on a question asked ahead is killed when its answer is due", async () => {
  const report = await run(mixed(acts, { act: 3, after: 5 }), "process", {
    ...SANDBOX,
    batchDeadlineMs: 200,
  });
  assert.equal(report.incidents.length, 1);
  assert.equal(report.incidents[0]!.kind, "stall");
  for (const vm of report.vms.filter((_, i) => i % 3 !== 0)) assert.notEqual(vm.cpu.finishNs, null);
});
