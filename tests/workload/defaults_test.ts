// Defaults and bounds live in the schemas: a parsed workload holds every resolved value the
// domains read, and the control API takes a VM's parameters within the same bounds, in the same
// words, as a workload does.
import assert from "node:assert/strict";
import { parseWorkload } from "../../core/workload/load.ts";
import {
  HOST_CPU_DEFAULTS,
  HOST_MEMORY_DEFAULTS,
  MEMORY_DEFAULTS,
  VM_DEFAULTS,
  VM_IO_DEFAULTS,
} from "../../core/workload/defaults.ts";
import { validate, validateVm, vmPatchSchema } from "../../core/control/schemas.ts";

const base = { schema: "hyperhook.workload/v1", name: "defaults" };

Deno.test("the schema resolves every default a domain reads", () => {
  const workload = parseWorkload({
    ...base,
    host: {
      pcpus: 1,
      memory: { frames: 64, lowWatermark: 10 },
      disks: [{ id: "d", model: "linear", cylinders: 200 }],
    },
    stopAt: "1s",
    vms: [
      { id: "a", weight: 512, memory: { pattern: "uniform", pages: 8 } },
      { id: "b", memory: { refs: [1], weight: 3 }, io: {} },
    ],
  });
  assert.deepEqual(workload.host.cpu, HOST_CPU_DEFAULTS);
  assert.deepEqual(workload.host.memory, {
    frames: 64,
    ...HOST_MEMORY_DEFAULTS,
    lowWatermark: 10,
    highWatermark: 15,
  });
  const [a, b] = workload.vms;
  assert.deepEqual(
    { vcpus: a!.vcpus, cap: a!.cap, priority: a!.priority },
    { vcpus: VM_DEFAULTS.vcpus, cap: VM_DEFAULTS.cap, priority: VM_DEFAULTS.priority },
  );
  // The memory weight's default is the VM's own weight; a given one stays.
  assert.equal(a!.memory!.weight, 512);
  assert.equal(b!.memory!.weight, 3);
  assert.equal(b!.weight, VM_DEFAULTS.weight);
  for (const key of ["rate", "writes", "skew", "phase"] as const) {
    assert.equal(a!.memory![key], MEMORY_DEFAULTS[key], key);
  }
  assert.equal(b!.io!.weight, VM_IO_DEFAULTS.weight);
  assert.deepEqual(b!.io!.max, VM_IO_DEFAULTS.max);
  // A default object is the workload's own: changing it changes no other workload.
  assert.notEqual(b!.io!.max, VM_IO_DEFAULTS.max);
  assert.notEqual(workload.host.cpu, HOST_CPU_DEFAULTS);
});

Deno.test("the high watermark's default: half again the low one, at least one more, at most all", () => {
  const high = (frames: number, lowWatermark: number, highWatermark?: number) =>
    parseWorkload({
      ...base,
      host: { pcpus: 1, memory: { frames, lowWatermark, highWatermark } },
      vms: [{ id: "a", memory: { refs: [0] } }],
    }).host.memory!.highWatermark;
  assert.equal(high(100, 0), 1);
  assert.equal(high(100, 1), 2);
  assert.equal(high(100, 10), 15);
  assert.equal(high(100, 90), 100);
  assert.equal(high(100, 10, 50), 50);
});

Deno.test("POST /v1/vms and PATCH take a VM's weights within the workload's bounds, in its words", () => {
  for (const weight of [0, 65536]) {
    const workload = (() => {
      try {
        parseWorkload({ ...base, host: { pcpus: 1 }, vms: [{ id: "a", weight }] });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const post = (() => {
      try {
        validateVm({ id: "a", weight });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const patch = (() => {
      try {
        validate(vmPatchSchema, { weight });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const expected = weight === 0 ? "a value of at least 1" : "at most 65535";
    assert.match(
      workload ?? "",
      new RegExp(`vms\\[0\\]\\.weight: expected ${expected}, got ${weight}$`),
    );
    assert.equal(post, `Body: weight: expected ${expected}, got ${weight}`);
    assert.equal(patch, `Body: weight: expected ${expected}, got ${weight}`);
  }
  assert.equal(
    (() => {
      try {
        validate(vmPatchSchema, { io: { weight: 10001 } });
      } catch (error) {
        return (error as Error).message;
      }
    })(),
    "Body: io.weight: expected at most 10000, got 10001",
  );
  assert.deepEqual(validate(vmPatchSchema, { weight: 65535, io: { weight: 1 } }), {
    weight: 65535,
    io: { weight: 1 },
  });
});
