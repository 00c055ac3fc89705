// The disk-scheduling example of operating-systems textbooks (Silberschatz, Operating System
// Concepts, ch. 11): requests for cylinders 98, 183, 37, 122, 14, 124, 65, 67 queued at time 0 on a
// disk of cylinders 0..199 with the head at 53. Through the CLI; the total head movement
// (`host.disks[0].seekCylinders`) must be exact.
//
// Conventions (see each policy's module doc): SCAN and C-SCAN travel on to the edge before turning
// (SCAN moving down: 53 to 0, then up to 183 = 53 + 183); C-SCAN's return sweep counts
// (199 - 53) + 199 + (37 - 0) = 382; C-LOOK's jump from the highest request back to the lowest
// counts (183 - 53) + (183 - 14) + (37 - 14) = 322.
import assert from "node:assert/strict";
import { example, runCli, workloadFile } from "../_helpers.ts";

const QUEUE = [98, 183, 37, 122, 14, 124, 65, 67];

function textbook(direction: "up" | "down"): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: `disk-textbook-${direction}`,
    host: {
      pcpus: 1,
      disks: [{
        id: "d0",
        model: "linear",
        cylinders: 200,
        head: 53,
        direction,
        seekNsPerCylinder: 1000,
      }],
    },
    vms: [{ id: "P1", io: { requests: QUEUE.map((cylinder) => ({ disk: "d0", cylinder })) } }],
  };
}

async function seekCylinders(path: string, policy: string): Promise<number> {
  const result = await runCli(["run", path, "--io", policy, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.vms[0].io.completed, QUEUE.length);
  assert.deepEqual(report.incidents, []);
  const disk = report.host.disks[0];
  // 1 µs per cylinder and nothing else: the disk was busy exactly as long as the head moved.
  assert.equal(disk.busyNs, disk.seekCylinders * 1000);
  return disk.seekCylinders;
}

Deno.test("FCFS moves the head 640 cylinders; SSTF 236", async () => {
  const path = example("disk_textbook.json");
  assert.equal(await seekCylinders(path, "fcfs"), 640);
  assert.equal(await seekCylinders(path, "sstf"), 236);
});

Deno.test("moving down: SCAN (to cylinder 0, then up) 236, LOOK 208", async () => {
  const path = await workloadFile(textbook("down"));
  assert.equal(await seekCylinders(path, "scan"), 236);
  assert.equal(await seekCylinders(path, "look"), 208);
});

Deno.test("moving up: C-SCAN (to 199, back to 0, then up) 382, C-LOOK 322", async () => {
  const path = await workloadFile(textbook("up"));
  assert.equal(await seekCylinders(path, "cscan"), 382);
  assert.equal(await seekCylinders(path, "clook"), 322);
});

Deno.test("compare --io puts the totals side by side", async () => {
  const result = await runCli([
    "compare",
    example("disk_textbook.json"),
    "--io",
    "fcfs,sstf,scan,look",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /d0 seek cylinders\s+640\s+236\s+236\s+208/);
});

Deno.test("each request's latency is the head's travel until it is reached (1 µs per cylinder)", async () => {
  // One VM per request, all queued at time 0 in the textbook order.
  const path = await workloadFile({
    ...textbook("down"),
    vms: QUEUE.map((cylinder) => ({
      id: `C${cylinder}`,
      io: { requests: [{ disk: "d0", cylinder }] },
    })),
  });
  const latencies = async (policy: string) => {
    const result = await runCli(["run", path, "--io", policy, "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    return report.vms.map((vm: { io: { latencyNs: { max: number } } }) =>
      vm.io.latencyNs.max / 1000
    );
  };
  // FCFS: 98, 183, 37, 122, 14, 124, 65, 67 in turn.
  assert.deepEqual(await latencies("fcfs"), [45, 130, 276, 361, 469, 579, 638, 640]);
  // SSTF: 65, 67, 37, 14, 98, 122, 124, 183.
  assert.deepEqual(await latencies("sstf"), [151, 236, 44, 175, 67, 177, 12, 14]);
});
