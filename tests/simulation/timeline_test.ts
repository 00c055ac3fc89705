// The workload's timeline across domains: one entry may change a VM's CPU parameters, balloon
// target and I/O weight and limits at once; bad changes are refused before the run (exit 2, one
// line naming the place); and the run is the same under every isolation.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

/** Two VMs using CPU, memory and a disk, under credit, lru and bfq, for 3 s. */
function mixed(timeline: unknown[]): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "timeline-mixed",
    seed: 3,
    host: {
      pcpus: 1,
      memory: { frames: 1024 },
      disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }],
    },
    policies: { cpu: { use: "credit" }, memory: { use: "lru" }, io: { use: "bfq" } },
    stopAt: "3s",
    timeline,
    vms: [
      {
        id: "a",
        cpu: { pattern: "cpu-bound" },
        memory: { pattern: "uniform", pages: 800, rate: 100000 },
        io: { generate: { disk: "d0", depth: 4, size: 16384 } },
      },
      {
        id: "b",
        cpu: { pattern: "interactive", run: "2ms", sleep: "1ms" },
        memory: { pattern: "zipf", pages: 800, rate: 100000 },
        io: { generate: { disk: "d0", depth: 4, size: 16384, readRatio: 0.5 } },
      },
    ],
  };
}

const TIMELINE = [
  { at: "1s", vm: "a", set: { weight: 512, memory: { target: 300 }, io: { weight: 50 } } },
  { at: "2s", vm: "b", set: { io: { max: { rbps: 100000 } } } },
  { at: "2s", vm: "b", set: { memory: { target: 400 } } },
];

async function report(workload: unknown, flags: string[] = []) {
  const result = await runCli(["run", await workloadFile(workload), ...flags, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test("a timeline of CPU, memory and I/O changes gives the same eventsHash under isolation none and process", async () => {
  const none = await report(mixed(TIMELINE), ["--isolation", "none"]);
  // A generous batch deadline: this is about equivalence, and a loaded machine may stall a batch.
  const process = await report(mixed(TIMELINE), ["--isolation", "process", "--deadline", "10s"]);
  for (const domain of ["cpu", "memory", "io"]) {
    assert.equal(process.policies[domain].isolation, "process", domain);
  }
  assert.deepEqual(process.incidents, []);
  assert.equal(process.eventsHash, none.eventsHash);
  // The changes happened: both targets hold at the end, b's reads were throttled, and the run
  // differs from the one without them.
  assert.deepEqual(none.vms.map((vm: { memory: { target: number } }) => vm.memory.target), [
    300,
    400,
  ]);
  assert.equal(none.vms[0].memory.resident, 300);
  assert.equal(none.vms[1].memory.resident, 400);
  assert.ok(none.vms[1].io.throttledNs > 0);
  assert.notEqual((await report(mixed([]))).eventsHash, none.eventsHash);
});

Deno.test("the same decision log twice, and a change of memory or I/O alone logs no CPU change", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  for (const name of ["first", "second"]) {
    await report(mixed(TIMELINE), ["--log", `${dir}/${name}`]);
    logs.push(await Deno.readTextFile(`${dir}/${name}`));
  }
  assert.equal(logs[0], logs[1]);
  // CPU parameter changes (domain 1, kind 5 in the log): only the 1 s entry, which sets a weight.
  const records = logs[0]!.split("\n").map((line) => line.split(" ").map(Number));
  const cpuParams = records.filter((r) => r[1] === 1 && r[2] === 5);
  assert.deepEqual(cpuParams.map((r) => [r[0], r[3]]), [[1e9, 0]]);
  // I/O parameter changes (domain 3, kind 7: vm, weight): a to 50 at 1 s, b's limit at 2 s.
  const ioParams = records.filter((r) => r[1] === 3 && r[2] === 7);
  assert.deepEqual(ioParams.map((r) => [r[0], r[3], r[4]]), [[1e9, 0, 50], [2e9, 1, 100]]);
  await Deno.remove(dir, { recursive: true });
});

async function badInput(workload: unknown): Promise<string> {
  const result = await runCli(["run", await workloadFile(workload)]);
  assert.equal(result.code, 2, `expected exit 2, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  return lines[0]!;
}

Deno.test("a balloon target above the host's frames is refused as vms[].memory.target is", async () => {
  const line = await badInput(
    mixed([{ at: "1s", vm: "a", set: { weight: 2 } }, {
      at: "2s",
      vm: "a",
      set: { memory: { target: 5000 } },
    }]),
  );
  assert.match(
    line,
    /timeline\[1\]\.set\.memory\.target: expected at most 1024 frames \(host\.memory\.frames\), got 5000$/,
  );
  const own = mixed([]) as { vms: { memory: { target?: number } }[] };
  own.vms[0]!.memory.target = 5000;
  assert.match(
    await badInput(own),
    /vms\[0\]\.memory\.target: expected at most 1024 frames \(host\.memory\.frames\), got 5000$/,
  );
  assert.match(
    await badInput(mixed([{ at: "1s", vm: "a", set: { memory: { target: -1 } } }])),
    /timeline\[0\]\.set\.memory\.target: expected a non-negative integer of frames, got -1$/,
  );
});

Deno.test("a memory change for a VM without memory, or an I/O change without disks, is refused", async () => {
  const noMemory = mixed([{ at: "1s", vm: "c", set: { memory: { target: 10 } } }]) as {
    vms: unknown[];
  };
  noMemory.vms.push({ id: "c", cpu: { pattern: "cpu-bound" } });
  assert.match(
    await badInput(noMemory),
    /timeline\[0\]\.set\.memory: expected a VM with a "memory" section, got VM "c", which has none$/,
  );
  const noDisks = {
    schema: "hyperhook.workload/v1",
    name: "no-disks",
    host: { pcpus: 1 },
    stopAt: "1s",
    timeline: [{ at: "1s", vm: "a", set: { weight: 2 } }, {
      at: "1s",
      vm: "a",
      set: { io: { weight: 50 } },
    }],
    vms: [{ id: "a", cpu: { pattern: "cpu-bound" } }],
  };
  assert.match(
    await badInput(noDisks),
    /timeline\[1\]\.set\.io: expected a host with disks for an I\/O change, got no host\.disks$/,
  );
});

Deno.test("I/O changes are validated as vms[].io's own fields", async () => {
  const change = (io: unknown) => mixed([{ at: "1s", vm: "b", set: { io } }]);
  assert.match(
    await badInput(change({ weight: 0 })),
    /timeline\[0\]\.set\.io\.weight: expected a value of at least 1, got 0$/,
  );
  assert.match(
    await badInput(change({ weight: 10001 })),
    /timeline\[0\]\.set\.io\.weight: expected at most 10000, got 10001$/,
  );
  assert.match(
    await badInput(change({ max: { wiops: -5 } })),
    /timeline\[0\]\.set\.io\.max\.wiops: expected a value of at least 0, got -5$/,
  );
  assert.match(
    await badInput(change({ max: { iops: 5 } })),
    /timeline\[0\]\.set\.io\.max: unknown key "iops"$/,
  );
  // The same words as for the VM's own io.weight.
  const own = mixed([]) as { vms: { io: { weight?: number } }[] };
  own.vms[1]!.io.weight = 0;
  assert.match(await badInput(own), /vms\[1\]\.io\.weight: expected a value of at least 1, got 0$/);
});
