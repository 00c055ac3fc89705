// The CLI's quick path for plain CPU workloads (core/workload/quick.ts) builds exactly what the
// schema builds, and takes nothing the schema refuses: a workload it does not take goes to zod,
// whose error line is then the same as ever.
import assert from "node:assert/strict";
import { quickWorkload } from "../../core/workload/quick.ts";
import { parseWorkload, WorkloadError } from "../../core/workload/load.ts";
import { ioWorkload, memoryWorkload, scaleWorkload } from "../../bench/_workloads.ts";

const dir = new URL("../../examples/workloads/", import.meta.url).pathname;

/** The quick path's workload for `value` equals parseWorkload's, keys in the same order. */
function assertSame(value: unknown, label: string): void {
  const quick = quickWorkload(value);
  assert.ok(quick !== undefined, `${label}: the quick path takes it`);
  const full = parseWorkload(value);
  assert.deepStrictEqual(quick, full, label);
  assert.equal(JSON.stringify(quick), JSON.stringify(full), `${label}: key order`);
}

Deno.test("quick path: the CPU examples and the scale workload build as the schema builds them", () => {
  const taken = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    const json = JSON.parse(Deno.readTextFileSync(`${dir}${entry.name}`));
    if (quickWorkload(json) === undefined) continue;
    assertSame(json, entry.name);
    taken.push(entry.name);
  }
  // The textbook CPU workloads, CPU patterns and memory generators take the quick path; explicit
  // references, requests, programs with I/O steps, traces and timelines do not.
  assert.deepEqual(taken, [
    "demo.json",
    "fcfs_textbook.json",
    "live.json",
    "memory_balloon.json",
    "priority_textbook.json",
    "rr_textbook.json",
    "sjf_textbook.json",
    "srtf_textbook.json",
  ]);
  assertSame(scaleWorkload({ vms: 64, rounds: 5 }), "scale");
  // The memory and I/O benches' workloads, as `bench/end_to_end.ts` runs them.
  assertSame(memoryWorkload({ lowWatermark: 512 }), "memory bench");
  assertSame(memoryWorkload(), "memory bench, no watermark");
  assertSame(ioWorkload("deadline", 400_000), "io bench");
});

const base = () => ({
  schema: "hyperhook.workload/v1",
  name: "w",
  host: { pcpus: 2 },
  vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
});

Deno.test("quick path: every field it takes, with and without its default", () => {
  assertSame(base(), "defaults");
  assertSame({
    ...base(),
    description: "all fields",
    seed: 7,
    stopAt: "1s",
    policies: { cpu: { use: "rr", config: { quantum: "4ms" } }, memory: { use: "lru" } },
    vms: [
      {
        id: "a:1_b.c-d",
        vcpus: 3,
        weight: 512,
        cap: 50,
        priority: -2,
        sched: { budget: "1ms" },
        cpu: {
          arrive: "2ms",
          program: [{ run: "1.5ms" }, { sleep: "0ms" }, { sleep: "3us" }],
          repeat: 4,
        },
      },
      { id: "b", cpu: { arrive: "1ms" } },
      { id: "c" },
      { id: "d", cpu: { program: [{ sleep: "0ms" }, { run: "1ns" }], repeat: true } },
      { id: "e", cpu: { program: [{ sleep: "0ms" }], repeat: 1 } },
      { id: "f", cpu: { program: [{ run: "1ms" }], repeat: false } },
      { id: "g", cpu: { pattern: "cpu-bound", arrive: "1s" } },
      { id: "h", cpu: { pattern: "interactive" } },
      { id: "i", cpu: { sleep: "30ms", pattern: "interactive", run: "2ms" } },
      { id: "j", cpu: { pattern: "bursty" } },
      {
        id: "k",
        cpu: { period: "10ms", quiet: 0, busy: 1, phase: "2s", pattern: "bursty", arrive: "5ms" },
      },
    ],
  }, "every field");
});

const devices = () => ({
  schema: "hyperhook.workload/v1",
  name: "d",
  host: {
    pcpus: 1,
    memory: { frames: 64 },
    disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }, {
      id: "d1",
      model: "linear",
      cylinders: 100,
    }],
  },
  vms: [
    { id: "m", memory: { pattern: "zipf", pages: 128 } },
    { id: "i", io: { generate: { disk: "d0", count: 10, depth: 2 } } },
  ],
});

Deno.test("quick path: memory and I/O generators, every field with and without its default", () => {
  assertSame(devices(), "defaults");
  assertSame({
    ...devices(),
    host: {
      pcpus: 2,
      memory: {
        frames: 1000,
        lowWatermark: 10,
        highWatermark: 20,
        faultCost: "50us",
        writebackCost: "1ms",
        minBalance: "100ms",
      },
      disks: [{ id: "s", model: "ssd", channels: 4, readNs: 20_000, writeNs: 200_000 }],
    },
    vms: [
      {
        id: "m1",
        cpu: { program: [{ run: "1ms" }] },
        memory: {
          pattern: "phases",
          size: "2MiB",
          rate: 5e5,
          count: 300,
          writes: 0.25,
          skew: 1.5,
          loop: 9,
          workingSet: 40,
          phase: "2ms",
          target: 1000,
          weight: 3,
        },
      },
      { id: "m2", memory: { pattern: "loop", pages: 7, target: 0 } },
      { id: "m3", memory: { pattern: "scan", size: "1.5MiB", count: 5 } },
      {
        id: "i1",
        io: {
          weight: 500,
          max: { rbps: 1e6, riops: 30 },
          deadline: "5ms",
          generate: [
            {
              disk: "s",
              pattern: "sequential",
              count: 100,
              rate: 250.5,
              arrivals: "uniform",
              think: "1ms",
              readRatio: 0.5,
              size: 8192,
              start: "3ms",
              from: 10,
              to: 500,
              deadline: "20ms",
            },
            { disk: "s", depth: 4, to: 9 },
          ],
        },
      },
      { id: "i2", io: { max: {}, generate: [{ disk: "s", rate: 10, from: 0 }] } },
    ],
  }, "every field");
});

Deno.test("quick path: memory and I/O the schema refuses, or the path does not take, go to the schema", () => {
  type W = ReturnType<typeof devices>;
  const memory = (w: W, set: Record<string, unknown>) => Object.assign(w.vms[0]!.memory!, set);
  const generator = (w: W, set: Record<string, unknown>) =>
    Object.assign(w.vms[1]!.io!.generate, set);
  const variants: [string, (w: W) => void][] = [
    ["frames 0", (w) => Object.assign(w.host.memory, { frames: 0 })],
    ["frames over 2^27", (w) => Object.assign(w.host.memory, { frames: 2 ** 27 + 1 })],
    ["low >= frames", (w) => Object.assign(w.host.memory, { lowWatermark: 64 })],
    ["high <= low", (w) => Object.assign(w.host.memory, { lowWatermark: 5, highWatermark: 5 })],
    ["high > frames", (w) => Object.assign(w.host.memory, { highWatermark: 65 })],
    ["faultCost number", (w) => Object.assign(w.host.memory, { faultCost: 5 })],
    ["minBalance 1s", (w) => Object.assign(w.host.memory, { minBalance: "1s" })],
    ["host memory key", (w) => Object.assign(w.host.memory, { swap: 1 })],
    ["no frames", (w) => delete (w.host as { memory?: unknown }).memory],
    ["refs", (w) => Object.assign(w.vms[0]!, { memory: { refs: [1, 2] } })],
    ["no pattern", (w) => delete (w.vms[0]!.memory as { pattern?: string }).pattern],
    ["bad pattern", (w) => memory(w, { pattern: "random" })],
    ["pages and size", (w) => memory(w, { size: "1MiB" })],
    ["no pages", (w) => delete (w.vms[0]!.memory as { pages?: number }).pages],
    [
      "size not whole pages",
      (w) => Object.assign(w.vms[0]!, { memory: { pattern: "scan", size: "5KiB" } }),
    ],
    ["size number", (w) => Object.assign(w.vms[0]!, { memory: { pattern: "scan", size: 4096 } })],
    ["zipf over 2^26 pages", (w) => memory(w, { pages: 2 ** 26 + 1 })],
    ["rate 0", (w) => memory(w, { rate: 0 })],
    ["rate 2e9", (w) => memory(w, { rate: 2e9 })],
    ["writes 2", (w) => memory(w, { writes: 2 })],
    ["skew 11", (w) => memory(w, { skew: 11 })],
    ["count 0", (w) => memory(w, { count: 0 })],
    ["phase 0", (w) => memory(w, { phase: "0ms" })],
    ["target over frames", (w) => memory(w, { target: 65 })],
    ["weight 0", (w) => memory(w, { weight: 0 })],
    ["unknown memory key", (w) => memory(w, { extra: true })],
    ["no disks", (w) => delete (w.host as { disks?: unknown }).disks],
    ["unknown disk", (w) => generator(w, { disk: "d9" })],
    ["duplicate disk", (w) => w.host.disks.push({ id: "d0", model: "linear", cylinders: 3 })],
    ["bad disk", (w) => Object.assign(w.host.disks[0]!, { preset: "nope" })],
    ["requests", (w) => Object.assign(w.vms[1]!.io!, { requests: [] })],
    ["trace", (w) => Object.assign(w.vms[1]!.io!, { trace: [] })],
    ["no generator", (w) => Object.assign(w.vms[1]!, { io: { weight: 5 } })],
    ["io weight 0", (w) => Object.assign(w.vms[1]!.io!, { weight: 0 })],
    ["max key", (w) => Object.assign(w.vms[1]!.io!, { max: { iops: 1 } })],
    ["max negative", (w) => Object.assign(w.vms[1]!.io!, { max: { rbps: -1 } })],
    ["rate and depth", (w) => generator(w, { rate: 5 })],
    ["from >= to", (w) => generator(w, { from: 5, to: 5 })],
    ["size object", (w) => generator(w, { size: { dist: "fixed", bytes: 512 } })],
    ["size 0", (w) => generator(w, { size: 0 })],
    ["readRatio 1.5", (w) => generator(w, { readRatio: 1.5 })],
    ["depth 65537", (w) => generator(w, { depth: 65537 })],
    ["bad arrivals", (w) => generator(w, { arrivals: "burst" })],
    ["think number", (w) => generator(w, { think: 1 })],
    ["deadline 0", (w) => generator(w, { deadline: "0ms" })],
    ["unknown generator key", (w) => generator(w, { extra: 1 })],
  ];
  for (const [label, change] of variants) {
    const workload = devices();
    change(workload);
    assert.equal(quickWorkload(workload), undefined, label);
  }
  assert.throws(
    () => parseWorkload({ ...devices(), host: { pcpus: 1, disks: [] } }),
    WorkloadError,
  );
});

Deno.test("quick path: what the schema refuses, or what it does not handle, goes to the schema", () => {
  const variants: [string, (w: Record<string, unknown> & ReturnType<typeof base>) => void][] = [
    ["unknown top key", (w) => Object.assign(w, { extra: 1 })],
    ["wrong schema", (w) => Object.assign(w, { schema: "hyperhook.workload/v2" })],
    ["empty name", (w) => Object.assign(w, { name: "" })],
    ["negative seed", (w) => Object.assign(w, { seed: -1 })],
    ["fractional seed", (w) => Object.assign(w, { seed: 1.5 })],
    ["no pcpus", (w) => Object.assign(w, { host: {} })],
    ["pcpus 0", (w) => Object.assign(w, { host: { pcpus: 0 } })],
    ["pcpus 4097", (w) => Object.assign(w, { host: { pcpus: 4097 } })],
    ["host.cpu", (w) => Object.assign(w, { host: { pcpus: 1, cpu: {} } })],
    ["memory no frames", (w) => Object.assign(w, { host: { pcpus: 1, memory: {} } })],
    ["policy string", (w) => Object.assign(w, { policies: { cpu: "rr" } })],
    ["policy empty use", (w) => Object.assign(w, { policies: { cpu: { use: "" } } })],
    [
      "policy config array",
      (w) => Object.assign(w, { policies: { cpu: { use: "rr", config: [] } } }),
    ],
    ["placement policy", (w) => Object.assign(w, { policies: { placement: { use: "npa" } } })],
    ["stopAt 0", (w) => Object.assign(w, { stopAt: "0ms" })],
    ["stopAt number", (w) => Object.assign(w, { stopAt: 5 })],
    ["timeline", (w) => Object.assign(w, { timeline: [] })],
    ["no vms", (w) => Object.assign(w, { vms: [] })],
    ["duplicate id", (w) => w.vms.push({ id: "a", cpu: { program: [{ run: "1ms" }] } })],
    ["bad id", (w) => Object.assign(w.vms[0]!, { id: "a b" })],
    ["vcpus 0", (w) => Object.assign(w.vms[0]!, { vcpus: 0 })],
    ["weight 0", (w) => Object.assign(w.vms[0]!, { weight: 0 })],
    ["weight 65536", (w) => Object.assign(w.vms[0]!, { weight: 65536 })],
    ["cap -1", (w) => Object.assign(w.vms[0]!, { cap: -1 })],
    ["priority 0.5", (w) => Object.assign(w.vms[0]!, { priority: 0.5 })],
    ["sched array", (w) => Object.assign(w.vms[0]!, { sched: [] })],
    ["vm memory", (w) => Object.assign(w.vms[0]!, { memory: { refs: [1] } })],
    ["unknown cpu key", (w) => Object.assign(w.vms[0]!.cpu, { pattern: "interactive" })],
    ["arrive number", (w) => Object.assign(w.vms[0]!.cpu, { arrive: 0 })],
    ["empty program", (w) => Object.assign(w.vms[0]!.cpu, { program: [] })],
    ["run 0", (w) => Object.assign(w.vms[0]!.cpu, { program: [{ run: "0ms" }] })],
    ["run number", (w) => Object.assign(w.vms[0]!.cpu, { program: [{ run: 5 }] })],
    ["two keys", (w) => Object.assign(w.vms[0]!.cpu, { program: [{ run: "1ms", sleep: "1ms" }] })],
    ["io step", (w) => Object.assign(w.vms[0]!.cpu, { program: [{ io: { disk: "d0" } }] })],
    ["repeat 0", (w) => Object.assign(w.vms[0]!.cpu, { repeat: 0 })],
    ["repeat string", (w) => Object.assign(w.vms[0]!.cpu, { repeat: "yes" })],
    ["repeat no program", (w) => Object.assign(w, { vms: [{ id: "a", cpu: { repeat: 2 } }] })],
    ["pattern and program", (w) => Object.assign(w.vms[0]!.cpu, { pattern: "cpu-bound" })],
    ["unknown pattern", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "spiky" } })],
    [
      "pattern and repeat",
      (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "bursty", repeat: 2 } }),
    ],
    ["run without pattern", (w) => Object.assign(w.vms[0]!, { cpu: { run: "2ms" } })],
    [
      "sleep with a program",
      (w) => Object.assign(w.vms[0]!.cpu, { sleep: "2ms" }),
    ],
    [
      "busy with interactive",
      (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "interactive", busy: 0.5 } }),
    ],
    [
      "run with bursty",
      (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "bursty", run: "1ms" } }),
    ],
    [
      "period with cpu-bound",
      (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "cpu-bound", period: "1ms" } }),
    ],
    ["run 0", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "interactive", run: "0ms" } })],
    [
      "sleep number",
      (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "interactive", sleep: 5 } }),
    ],
    ["busy 1.5", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "bursty", busy: 1.5 } })],
    ["quiet string", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "bursty", quiet: "0.1" } })],
    ["phase 0", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "bursty", phase: "0s" } })],
    ["utilization", (w) => Object.assign(w.vms[0]!, { cpu: { utilization: [50] } })],
    ["pattern toString", (w) => Object.assign(w.vms[0]!, { cpu: { pattern: "toString" } })],
    [
      "repeated zero sleeps",
      (w) => Object.assign(w.vms[0]!.cpu, { program: [{ sleep: "0ms" }], repeat: 2 }),
    ],
  ];
  for (const [label, change] of variants) {
    const workload = base() as Record<string, unknown> & ReturnType<typeof base>;
    change(workload);
    assert.equal(quickWorkload(workload), undefined, label);
  }
  // Refused ones are the schema's to name (two of them, as a check that they are refused).
  for (const value of [{ ...base(), host: { pcpus: 0 } }, { ...base(), extra: 1 }]) {
    assert.throws(() => parseWorkload(value), WorkloadError);
  }
});

Deno.test("quick path and fast path: a duration repeated across programs is one step object", () => {
  const json = scaleWorkload({ vms: 8, rounds: 20 });
  const built: { label: string; workload: ReturnType<typeof parseWorkload> }[] = [
    { label: "quick", workload: quickWorkload(json)! },
    { label: "fast", workload: parseWorkload(json) },
  ];
  for (const { label, workload } of built) {
    const bySleep = new Map<number, object>();
    let steps = 0;
    for (const vm of workload.vms) {
      for (const step of vm.cpu!.program!) {
        if (step.sleep === undefined) continue;
        steps++;
        const first = bySleep.get(step.sleep) ?? step;
        bySleep.set(step.sleep, first);
        assert.equal(step, first, `${label}: one object for sleep ${step.sleep}`);
      }
    }
    // 160 sleeps of at most 9 durations.
    assert.equal(steps, 160, label);
    assert.ok(bySleep.size <= 9, label);
  }
});
