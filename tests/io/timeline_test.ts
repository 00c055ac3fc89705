// The workload's timeline changes a VM's io.weight and io.max at a given simulated time, as
// `PATCH /v1/vms/{id}` with `io` does live.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

/** Two backlogged VMs (4 requests outstanding each) on one HP C2247A under bfq. */
function shared(stopAt: string, timeline: unknown[]): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "timeline-io",
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    policies: { io: { use: "bfq" } },
    stopAt,
    timeline,
    vms: ["a", "b"].map((id) => ({
      id,
      io: { generate: { disk: "d0", depth: 4, size: 16384, readRatio: 0.5 } },
    })),
  };
}

interface VmIo {
  bytes: number;
  completed: number;
  throttledNs: number;
  weight: number;
  max: { rbps: number; wbps: number; riops: number; wiops: number };
}

async function ioOf(workload: Record<string, unknown>): Promise<VmIo[]> {
  const result = await runCli(["run", await workloadFile(workload), "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.incidents, []);
  return report.vms.map((vm: { io: VmIo }) => vm.io);
}

Deno.test("halving a VM's io.weight at 5 s from the timeline halves its share of the disk under bfq from then on", async () => {
  const halve = [{ at: "5s", vm: "a", set: { io: { weight: 50 } } }];
  // Nothing changes before 5 s: the first 5 s are the same with and without the timeline, but
  // for the weight the report shows, which changed at 5 s.
  const first = await ioOf(shared("5s", []));
  const halved = await ioOf(shared("5s", halve));
  assert.deepEqual(halved.map((vm) => vm.weight), [50, 100]);
  assert.deepEqual(first.map((vm) => vm.weight), [100, 100]);
  assert.deepEqual(
    halved.map(({ weight: _, ...rest }) => rest),
    first.map(({ weight: _, ...rest }) => rest),
  );

  const after = (vms: VmIo[]) => vms.map((vm, i) => vm.bytes - first[i]!.bytes);
  const [a, b] = after(await ioOf(shared("25s", halve)));
  const ratio = b! / a!;
  assert.ok(ratio > 1.8 && ratio < 2.2, `with a at weight 50, b/a = ${ratio.toFixed(3)}`);
  const [a0, b0] = after(await ioOf(shared("25s", [])));
  const even = b0! / a0!;
  assert.ok(even > 0.9 && even < 1.1, `at equal weights, b/a = ${even.toFixed(3)}`);
});

Deno.test("an io.max set from the timeline holds the VM's requests back from its time on", async () => {
  const first = await ioOf(shared("5s", []));
  const limited = await ioOf(
    shared("15s", [{ at: "5s", vm: "a", set: { io: { max: { riops: 10, wiops: 10 } } } }]),
  );
  // At most 10 reads and 10 writes a second for the last 10 s (and one of each at once).
  const done = limited[0]!.completed - first[0]!.completed;
  assert.ok(done <= 202, `a completed ${done} requests in 10 s under 10 + 10 iops`);
  assert.ok(limited[0]!.throttledNs > 0);
  assert.deepEqual(limited[0]!.max, { rbps: 0, wbps: 0, riops: 10, wiops: 10 });
  assert.deepEqual(limited[1]!.max, { rbps: 0, wbps: 0, riops: 0, wiops: 0 });
  assert.equal(limited[1]!.throttledNs, 0);
  assert.equal(first[0]!.throttledNs, 0);
});
