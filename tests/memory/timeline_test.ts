// The workload's timeline sets a VM's balloon target at a given simulated time, as
// `PATCH /v1/vms/{id}` with `memory.target` does live.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";
import { testServer } from "../control/_helpers.ts";

/** One VM referencing 2000 pages uniformly on a 4096-frame host, for 10 s. */
function balloon(timeline: unknown[]): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "timeline-balloon",
    host: { pcpus: 1, memory: { frames: 4096 } },
    stopAt: "10s",
    timeline,
    vms: [{ id: "a", memory: { pattern: "uniform", pages: 2000 } }],
  };
}

const DOWN_AT_5S = [{ at: "5s", vm: "a", set: { memory: { target: 1000 } } }];

/** Decision-log lines `atNs domain kind a b c` of the memory domain (2). */
function memoryLog(text: string): number[][] {
  return text.split("\n").filter((line) => line !== "").map((line) => line.split(" ").map(Number))
    .filter((record) => record[1] === 2);
}

Deno.test("a timeline balloon target takes effect at its time: the VM is shrunk to it at once", async () => {
  const dir = await Deno.makeTempDir();
  const result = await runCli([
    "run",
    await workloadFile(balloon(DOWN_AT_5S)),
    "--log",
    `${dir}/log`,
    "--format",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const memory = JSON.parse(result.stdout).vms[0].memory;
  // All 2000 pages were loaded before 5 s (the host has room for them); from 5 s the VM holds
  // 1000 frames, and every later fault evicts one of its own.
  assert.equal(memory.residentPeak, 2000);
  assert.equal(memory.resident, 1000);
  assert.equal(memory.target, 1000);
  assert.equal(memory.evictions, 1000 + (memory.faults - 2000));

  const log = memoryLog(await Deno.readTextFile(`${dir}/log`));
  const LOAD = 2, EVICT = 3, TARGET = 4;
  const before = log.filter(([at]) => at! < 5e9);
  assert.equal(before.filter((r) => r[2] === LOAD).length, 2000);
  assert.equal(before.filter((r) => r[2] !== LOAD).length, 0, "no eviction or target before 5 s");
  // The target change is logged at 5 s exactly (VM 0, 1000 frames), and the 1000 frames over it
  // are reclaimed in the same instant.
  assert.deepEqual(log.filter((r) => r[2] === TARGET), [[5e9, 2, TARGET, 0, 1000, 0]]);
  assert.equal(log.filter(([at, , kind]) => at === 5e9 && kind === EVICT).length, 1000);
  await Deno.remove(dir, { recursive: true });

  // Without the timeline, the VM keeps its 2000 frames to the end.
  const plain = await runCli(["run", await workloadFile(balloon([])), "--format", "json"]);
  assert.equal(plain.code, 0, plain.stderr);
  const unchanged = JSON.parse(plain.stdout).vms[0].memory;
  assert.equal(unchanged.resident, 2000);
  assert.equal(unchanged.evictions, 0);
  assert.equal(unchanged.target, null);
});

Deno.test("the live state shows a timeline's target and CPU parameters after its time, as after a PATCH", async () => {
  const server = await testServer(
    balloon([{ at: "5s", vm: "a", set: { weight: 512, memory: { target: 1000 } } }]),
  );
  try {
    const vm = async () => (await server.call("GET", "/v1/state")).json.vms[0];
    await server.call("POST", "/v1/sim/step", { by: "4s" });
    const early = await vm();
    assert.equal(early.memory.target, null);
    assert.equal(early.memory.resident, 2000);
    assert.equal(early.params.weight, 256);
    await server.call("POST", "/v1/sim/step", { by: "2s" });
    const late = await vm();
    assert.equal(late.memory.target, 1000);
    assert.equal(late.memory.resident, 1000);
    assert.equal(late.params.weight, 512);
  } finally {
    await server.close();
  }
});
