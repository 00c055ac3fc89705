// The I/O domain under live control: io weight and limits change with PATCH, VMs with I/O can be
// added and removed, and the state carries I/O figures for the dashboard.
import assert from "node:assert/strict";
import { testServer } from "../control/_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

function ioWorkload(): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "live-io",
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    policies: { io: { use: "bfq" } },
    stopAt: "1h",
    vms: ["a", "b"].map((id) => ({ id, io: { generate: { disk: "d0", depth: 4 } } })),
  };
}

Deno.test("PATCH io weight and limits, add and remove a VM with I/O, while it runs", async () => {
  const server = await testServer(ioWorkload());
  try {
    const io = () => internals(server.live.simulation).io!;
    await server.call("POST", "/v1/sim/step", { by: "5s" });
    const before = io().vms.map((vm) => vm.completed);
    // bfq follows io.weight: 4x the weight, about 4x the requests from here on.
    const patched = await server.call("PATCH", "/v1/vms/b", { io: { weight: 400 } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(io().vms[1]!.weight, 400);
    await server.call("POST", "/v1/sim/step", { by: "20s" });
    const [a, b] = io().vms.map((vm, i) => vm.completed - before[i]!);
    assert.ok(b! / a! > 3.2 && b! / a! < 4.8, `b/a = ${b! / a!}`);
    // A limit of 10 requests per second holds a's requests back.
    const limited = await server.call("PATCH", "/v1/vms/a", { io: { iops: 10 } });
    assert.equal(limited.status, 200, limited.text);
    const aBefore = io().vms[0]!.completed;
    await server.call("POST", "/v1/sim/step", { by: "10s" });
    const aDone = io().vms[0]!.completed - aBefore;
    assert.ok(aDone >= 95 && aDone <= 104, `a completed ${aDone} in 10 s at 10 iops`);
    assert.ok(io().vms[0]!.throttledNs > 0);

    const added = await server.call("POST", "/v1/vms", {
      id: "c",
      io: { requests: [{ disk: "d0", lba: 1000 }, { disk: "d0", lba: 2000, op: "write" }] },
    });
    assert.equal(added.status, 201, added.text);
    await server.call("POST", "/v1/sim/step", { by: "1s" });
    assert.equal(io().vms[2]!.completed, 2);

    const removed = await server.call("DELETE", "/v1/vms/b");
    assert.equal(removed.status, 200, removed.text);
    const bAtRemoval = io().vms[1]!.requests;
    await server.call("POST", "/v1/sim/step", { by: "2s" });
    assert.equal(io().vms[1]!.requests, bAtRemoval);
    assert.equal(io().vms[1]!.completed, bAtRemoval);

    assert.deepEqual(internals(server.live.simulation).kernel.incidents, []);
    // The dashboard plots the I/O p99 latency from the state's domain figures.
    const figures = server.live.state().domains.io as { latencyNs: { p99: number } };
    assert.ok(figures.latencyNs.p99 > 0);
  } finally {
    await server.close();
  }
});
