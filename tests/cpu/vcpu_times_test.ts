import assert from "node:assert/strict";
import { Vcpu, VcpuTimes, Vm, WaitBuffer } from "../../core/cpu/model.ts";
import { ProgramCursor } from "../../core/cpu/programs.ts";
import { Rng } from "../../core/engine/rng.ts";

const FIELDS = [
  "remainingNs",
  "sinceNs",
  "switchedInNs",
  "sliceEndNs",
  "burstNs",
  "runNs",
  "waitNs",
] as const;

Deno.test("vCPUs keep their seven times apart, across blocks of the shared arrays", () => {
  const times = new VcpuTimes(), waits = new WaitBuffer();
  const vm = new Vm(
    0,
    "a",
    { index: 0, weight: 256, cap: 0, priority: 0, sched: {} },
    null,
    0,
    waits,
  );
  const ids = [0, 1, 255, 256, 257, 511, 512, 1500];
  const vcpus = ids.map((id, i) => new Vcpu(id, vm, i, new ProgramCursor(new Rng(id)), times));
  for (const vcpu of vcpus) {
    assert.deepEqual(FIELDS.map((field) => vcpu[field]), [0, 0, 0, Infinity, 0, 0, 0]);
  }
  // Times far past 2^31, fractions, infinities and -0 come back as written.
  vcpus.forEach((vcpu, i) => {
    FIELDS.forEach((field, f) => vcpu[field] = i * 1e12 + f * 2 ** 40 + 0.5);
  });
  vcpus[3]!.runNs += 7;
  vcpus[4]!.remainingNs = -Infinity;
  vcpus[5]!.waitNs = -0;
  vcpus.forEach((vcpu, i) => {
    FIELDS.forEach((field, f) => {
      let expected = i * 1e12 + f * 2 ** 40 + 0.5;
      if (i === 3 && field === "runNs") expected += 7;
      if (i === 4 && field === "remainingNs") expected = -Infinity;
      if (i === 5 && field === "waitNs") expected = -0;
      assert.ok(Object.is(vcpu[field], expected), `vCPU ${vcpu.id} ${field}: ${vcpu[field]}`);
    });
  });
});
