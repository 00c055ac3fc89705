// The CLI's quick path for plain CPU workloads (core/workload/quick.ts) builds exactly what the
// schema builds, and takes nothing the schema refuses: a workload it does not take goes to zod,
// whose error line is then the same as ever.
import assert from "node:assert/strict";
import { quickWorkload } from "../../core/workload/quick.ts";
import { parseWorkload, WorkloadError } from "../../core/workload/load.ts";
import { scaleWorkload } from "../../bench/_workloads.ts";

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
  // The textbook CPU workloads take the quick path; the memory, disk and trace ones do not.
  assert.deepEqual(taken, [
    "fcfs_textbook.json",
    "priority_textbook.json",
    "rr_textbook.json",
    "sjf_textbook.json",
    "srtf_textbook.json",
  ]);
  assertSame(scaleWorkload({ vms: 64, rounds: 5 }), "scale");
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
    ],
  }, "every field");
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
    ["memory", (w) => Object.assign(w, { host: { pcpus: 1, memory: { frames: 3 } } })],
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
