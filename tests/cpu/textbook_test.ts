// The textbook scheduling examples (Silberschatz, Operating System Concepts, ch. 5), through the
// CLI with workload files: each average waiting time must be exact.
import assert from "node:assert/strict";
import { burstWorkload, example, meanWaitMs, runCli, workloadFile } from "../_helpers.ts";

async function report(args: string[]) {
  const result = await runCli([...args, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test("FCFS on bursts 24, 3, 3 ms waits 17 ms on average", async () => {
  const r = await report(["run", example("fcfs_textbook.json")]);
  assert.deepEqual(r.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs), [0, 24e6, 27e6]);
  assert.equal(meanWaitMs(r), 17);
  assert.deepEqual(r.vms.map((vm: { cpu: { finishNs: number } }) => vm.cpu.finishNs), [
    24e6,
    27e6,
    30e6,
  ]);
});

Deno.test("SJF on bursts 6, 8, 7, 3 ms waits 7 ms on average", async () => {
  assert.equal(meanWaitMs(await report(["run", example("sjf_textbook.json")])), 7);
});

Deno.test("SRTF with arrivals 0/8, 1/4, 2/9, 3/5 waits 6.5 ms; non-preemptive SJF 7.75 ms", async () => {
  const srtf = await report(["run", example("srtf_textbook.json")]);
  assert.deepEqual(srtf.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs / 1e6), [
    9,
    0,
    15,
    2,
  ]);
  assert.equal(meanWaitMs(srtf), 6.5);
  const sjf = await report(["run", example("srtf_textbook.json"), "--cpu", "sjf"]);
  assert.deepEqual(sjf.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs / 1e6), [
    0,
    7,
    15,
    9,
  ]);
  assert.equal(meanWaitMs(sjf), 7.75);
});

Deno.test("priority on 10/3, 1/1, 2/4, 1/5, 5/2 waits 8.2 ms on average", async () => {
  assert.equal(meanWaitMs(await report(["run", example("priority_textbook.json")])), 8.2);
});

Deno.test("preemptive priority lets a better priority arriving later take the pCPU", async () => {
  const path = await workloadFile(burstWorkload("priority", [[0, 10, 3], [2, 4, 1]]));
  const plain = await report(["run", path]);
  assert.deepEqual(plain.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs / 1e6), [0, 8]);
  const preemptive = await report([
    "run",
    path,
    "--cpu",
    "priority",
    "--config-cpu",
    '{"preemptive":true}',
  ]);
  assert.deepEqual(preemptive.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs / 1e6), [
    4,
    0,
  ]);
});

Deno.test("RR with a 4 ms quantum on 24, 3, 3 ms waits 17/3 ms on average", async () => {
  const r = await report(["run", example("rr_textbook.json")]);
  assert.deepEqual(r.vms.map((vm: { cpu: { waitNs: number } }) => vm.cpu.waitNs / 1e6), [6, 4, 7]);
  assert.equal(meanWaitMs(r), 17 / 3);
  // Switches: idle→P1, P1→P2, P2→P3, P3→P1; P1 then runs on through its next quanta.
  assert.equal(r.host.cpu.switches, 4);
});

Deno.test("SJF without declared bursts predicts them: exponential average with alpha 0.5", async () => {
  // A runs 2 ms bursts, B 8 ms bursts; after the first round SJF prefers the shorter predictor.
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "sjf-predict",
    host: { pcpus: 1 },
    policies: { cpu: { use: "sjf", config: { initialBurst: "5ms" } } },
    vms: [
      { id: "long", cpu: { program: [{ run: "8ms" }, { sleep: "1ms" }], repeat: 3 } },
      { id: "short", cpu: { program: [{ run: "2ms" }, { sleep: "1ms" }], repeat: 3 } },
    ],
  });
  const r = await report(["run", path, "--format", "json"]);
  // Explicit programs declare their bursts, so SJF takes "short" first every time it can.
  assert.equal(r.vms[1].cpu.finishNs < r.vms[0].cpu.finishNs, true);
});
