// A dispatch may fill a pCPU's local queue; the pCPU then runs the queued vCPUs in order without
// asking again. On one pCPU, round robin filled three at a time is still round robin.
import assert from "node:assert/strict";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { burstWorkload } from "../_helpers.ts";

const batched = new URL("../fixtures/cpu/rr_batched.ts", import.meta.url).pathname;

Deno.test("a policy that fills local queues gives the textbook RR waits on one pCPU", async () => {
  const workload = parseWorkload(
    burstWorkload(batched, [[0, 24], [0, 3], [0, 3]], { quantum: "4ms" }),
  );
  const report = await simulate(workload, { isolation: "none" });
  assert.deepEqual(report.vms.map((vm) => vm.cpu.waitNs / 1e6), [6, 4, 7]);
  assert.equal(report.incidents.length, 0);
});

Deno.test("vCPUs queued on one pCPU are not dispatched twice on two pCPUs", async () => {
  const jobs: [number, number][] = Array.from({ length: 9 }, (_, i) => [i % 3, 5 + i]);
  const workload = parseWorkload({
    ...burstWorkload(batched, jobs, { quantum: "2ms" }),
    host: { pcpus: 2 },
  });
  const report = await simulate(workload, { isolation: "none" });
  assert.equal(report.incidents.length, 0);
  const total = report.vms.reduce((sum, vm) => sum + vm.cpu.runNs, 0);
  assert.equal(total, jobs.reduce((sum, [, burst]) => sum + burst * 1e6, 0));
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null);
});
