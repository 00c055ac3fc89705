// The I/O domain's behaviour: traces, generators, vCPUs blocking on I/O, io.max throttling,
// deadline misses, and what happens to policies that misbehave.
import assert from "node:assert/strict";
import { createSimulation, simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { loadPolicy } from "../../core/simulation/loader.ts";
import type { Report } from "../../core/report/report.ts";
import { runCli, workloadFile } from "../_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const fixture = (name: string) => new URL(`../fixtures/io/${name}`, import.meta.url).pathname;

/** A linear disk where a request costs `overheadMs` plus 1 µs per cylinder. */
function linear(overheadMs = 0, extra: Record<string, unknown> = {}) {
  return {
    id: "d0",
    model: "linear",
    cylinders: 200,
    seekNsPerCylinder: 1000,
    overheadNs: overheadMs * 1e6,
    ...extra,
  };
}

function run(workload: Record<string, unknown>, io?: string, config?: Record<string, unknown>) {
  return simulate(
    parseWorkload({ schema: "hyperhook.workload/v1", name: "io", ...workload }),
    io === undefined ? {} : { policies: { io: { use: io, config } } },
  );
}

async function tempFile(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "hyperhook-", suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

/** The VMs in the order their (single) requests completed, given when each was submitted. */
function completionOrder(report: Report, submitNs: (id: string) => number = () => 0): string[] {
  return report.vms
    .filter((vm) => vm.io.completed === 1)
    .map((vm) => ({ id: vm.id, at: submitNs(vm.id) + vm.io.latencyNs.max }))
    .sort((a, b) => a.at - b.at)
    .map((vm) => vm.id);
}

Deno.test("an MSR trace replays open loop at its timestamps (filetime, 100 ns ticks)", async () => {
  const path = await tempFile(
    "128166372003061629,web,0,Read,4096,4096,3161\n" +
      "128166372003061630,web,1,Read,0,512,1\n" + // another disk number: filtered out
      "128166372003161629,web,0,Write,1048576,8192,1765\n", // 10 ms later
    ".csv",
  );
  const report = await run({
    host: { pcpus: 1, disks: [linear(1, { totalBlocks: 200 * 1024 })] },
    vms: [{ id: "web", io: { trace: { format: "msr", path, disk: "d0", diskNumber: 0 } } }],
  });
  const io = report.vms[0]!.io;
  assert.equal(io.requests, 2);
  assert.equal(io.bytes, 4096 + 8192);
  // Block 8 is on cylinder 0, block 2048 on cylinder 2: 1 ms + 0 µs, then 1 ms + 2 µs.
  assert.equal(report.simulatedNs, 10_000_000 + 1_002_000);
  assert.equal(io.latencyNs.max, 1_002_000);
  assert.equal(report.host.disks[0]!.seekCylinders, 2);
});

Deno.test("a DiskSim validate trace replays closed loop: each request its idle time after the last", async () => {
  const path = await tempFile("R Miss 100 2 0 1000.0\nW Miss 5000 8 0 0\n", ".trace");
  const report = await run({
    host: { pcpus: 1, disks: [linear(2, { totalBlocks: 20_000 })] },
    vms: [{ id: "A", io: { trace: { format: "disksim", path, disk: "d0" } } }],
  });
  // 2 ms + 1 cylinder, then 1 ms idle, then 2 ms + 49 cylinders.
  assert.equal(report.simulatedNs, 2_001_000 + 1_000_000 + 2_049_000);
  assert.equal(report.vms[0]!.io.completed, 2);
});

const REAL = new URL("../../../shared/traces/disksim-hp_c2247a/hp_c2247a.trace", import.meta.url);
const haveReal = (() => {
  try {
    Deno.statSync(REAL);
    return true;
  } catch {
    console.warn(`Skipping the real-trace replay test: ${REAL.pathname} is absent.`);
    return false;
  }
})();

Deno.test({
  name: "the HP C2247A trace through the CLI: mean service time within 5% of the drive's",
  ignore: !haveReal,
  async fn() {
    const count = 2000;
    const records = Deno.readTextFileSync(REAL).trim().split("\n").slice(0, count);
    const measuredNs = records.reduce((sum, line) => sum + Number(line.split(/\s+/)[4]) * 1000, 0);
    const report = await run({
      host: { pcpus: 1, disks: [{ id: "hp", model: "hdd", preset: "hp_c2247a" }] },
      vms: [{
        id: "A",
        io: { trace: { format: "disksim", path: REAL.pathname, disk: "hp", count } },
      }],
    });
    const disk = report.host.disks[0]!;
    assert.equal(disk.requests, count);
    const ratio = disk.busyNs / measuredNs;
    assert.ok(Math.abs(ratio - 1) < 0.05, `simulated/measured busy time ${ratio.toFixed(3)}`);
  },
});

Deno.test("generators are seeded: the same seed gives the same run, another seed another", async () => {
  const workload = {
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    vms: [{
      id: "A",
      io: {
        generate: {
          disk: "d0",
          count: 500,
          depth: 2,
          readRatio: 0.7,
          size: { dist: "choice", bytes: [4096, 65536] },
        },
      },
    }],
  };
  const [a, b, c] = await Promise.all([
    run(workload),
    run(workload),
    run({ ...workload, seed: 2 }),
  ]);
  assert.equal(a.eventsHash, b.eventsHash);
  assert.notEqual(a.eventsHash, c.eventsHash);
  assert.equal(a.vms[0]!.io.completed, 500);
});

Deno.test("an open-loop generator submits at its rate, Poisson or uniform", async () => {
  const report = await run({
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    stopAt: "10s",
    vms: [
      { id: "poisson", io: { generate: { disk: "d0", rate: 20 } } },
      {
        id: "seq",
        io: {
          generate: {
            disk: "d0",
            pattern: "sequential",
            rate: 20,
            arrivals: "uniform",
            size: 65536,
          },
        },
      },
    ],
  });
  const poisson = report.vms[0]!.io.requests;
  assert.ok(poisson > 150 && poisson < 250, `poisson at 20/s for 10 s submitted ${poisson}`);
  // Uniform arrivals: at 0, 50 ms, ..., 9.95 s and 10 s.
  assert.equal(report.vms[1]!.io.requests, 201);
});

Deno.test("a vCPU blocks on an {io} step until its request completes", async () => {
  const report = await run({
    host: { pcpus: 1, disks: [linear()] },
    policies: { cpu: { use: "fcfs" } },
    vms: [
      {
        id: "A",
        cpu: { program: [{ run: "1ms" }, { io: { disk: "d0", cylinder: 100 } }, { run: "1ms" }] },
      },
      { id: "B", cpu: { program: [{ run: "3ms" }] } },
    ],
  });
  // A runs 0-1 ms, reads for 100 µs; B runs 1-4 ms; A waits from 1.1 ms and finishes at 5 ms.
  assert.equal(report.vms[0]!.cpu.finishNs, 5_000_000);
  assert.equal(report.vms[0]!.cpu.waitNs, 2_900_000);
  assert.equal(report.vms[0]!.io.latencyNs.max, 100_000);
});

Deno.test("io.max: the kernel paces a VM's requests; the wait counts in latency and throttledNs", async () => {
  const requests = Array.from({ length: 10 }, (_, i) => ({ disk: "d0", cylinder: i }));
  const report = await run({
    host: { pcpus: 1, disks: [linear()] },
    vms: [
      { id: "capped", io: { max: { riops: 100 }, requests } },
      { id: "free", io: { requests } },
      { id: "bytes", io: { max: { rbps: 409_600 }, requests } },
    ],
  });
  const [capped, free, bytes] = report.vms.map((vm) => vm.io);
  // 100 reads per second: released at 0, 10, ..., 90 ms (latency counts from the submission).
  assert.ok(capped!.latencyNs.max >= 90_000_000 && capped!.latencyNs.max < 90_100_000);
  assert.equal(capped!.throttledNs, (10 + 20 + 30 + 40 + 50 + 60 + 70 + 80 + 90) * 1e6);
  assert.equal(free!.throttledNs, 0);
  // 409600 B/s is 100 requests of 4 KiB per second: the same pacing.
  assert.equal(bytes!.throttledNs, capped!.throttledNs);
  assert.equal(report.simulatedNs >= 90_000_000, true);
});

Deno.test("deadline misses: requests that complete past their deadline are counted", async () => {
  const report = await run({
    host: { pcpus: 1, disks: [linear(1)] },
    vms: [{
      id: "A",
      io: {
        deadline: "2500us",
        requests: [0, 1, 2, 3].map((cylinder) => ({ disk: "d0", cylinder })),
      },
    }],
  });
  // Served at 1, 2, 3 and 4 ms (plus a few µs of seek): the last two miss 2.5 ms.
  assert.equal(report.vms[0]!.io.deadlineMisses, 2);
  assert.equal(report.host.disks[0]!.deadlineMisses, 2);
});

Deno.test("mq-deadline: batches sweep up from the last block; an expired read goes at the next batch", async () => {
  // 1 ms per request. P goes first; A (block 10) arrives behind the sweep with B..E ahead of it.
  const late = (id: string, cylinder: number) => ({
    id,
    io: { requests: [{ disk: "d0", cylinder, at: "500us" }] },
  });
  const workload = {
    host: { pcpus: 1, disks: [{ id: "d0", model: "linear", cylinders: 200, overheadNs: 1e6 }] },
    vms: [
      { id: "P", io: { requests: [{ disk: "d0", cylinder: 50 }] } },
      late("A", 10),
      late("B", 60),
      late("C", 70),
      late("D", 80),
      late("E", 90),
    ],
  };
  const order = async (config: Record<string, unknown>) =>
    completionOrder(await run(workload, "deadline", config), (id) => id === "P" ? 0 : 500_000);
  assert.deepEqual(await order({}), ["P", "B", "C", "D", "E", "A"]);
  // With batches of 2, A expires at 3.5 ms and goes when the batch starting at 4 ms is chosen.
  assert.deepEqual(await order({ fifoBatch: 2, readExpire: "3ms" }), [
    "P",
    "B",
    "C",
    "D",
    "A",
    "E",
  ]);
});

Deno.test("mq-deadline: reads go first, but writes get a batch after writes_starved read batches", async () => {
  const ops = ["write", "read", "read", "read", "read", "read", "read", "write", "write"];
  const report = await run(
    {
      host: { pcpus: 1, disks: [{ id: "d0", model: "linear", cylinders: 200, overheadNs: 1e6 }] },
      vms: ops.map((op, i) => ({
        id: `${op[0]!.toUpperCase()}${i}`,
        io: { requests: [{ disk: "d0", cylinder: 10 * (i + 1), op }] },
      })),
    },
    "deadline",
    { fifoBatch: 1 },
  );
  // Like Linux, the scheduler starts as if after a write batch (its last direction is "write").
  assert.deepEqual(
    completionOrder(report).map((id) => id[0]).join(""),
    "WRRWRRWRR",
  );
});

Deno.test("bfq: backlogged VMs get disk bytes in proportion to their io.weight", async () => {
  const report = await run(
    {
      host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
      stopAt: "30s",
      vms: [100, 300, 600].map((weight) => ({
        id: `w${weight}`,
        io: { weight, generate: { disk: "d0", depth: 4, size: 16384, readRatio: 0.5 } },
      })),
    },
    "bfq",
  );
  const bytes = report.vms.map((vm) => vm.io.bytes);
  const total = bytes.reduce((a, b) => a + b, 0);
  [0.1, 0.3, 0.6].forEach((share, i) => {
    const got = bytes[i]! / total;
    assert.ok(Math.abs(got - share) < 0.1 * share, `w${share * 1000}: share ${got.toFixed(3)}`);
  });
});

Deno.test("an invalid decision ejects the policy; fcfs takes over and every request completes", async () => {
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "io-incident",
    host: { pcpus: 1, disks: [linear(), { ...linear(), id: "d1" }] },
    vms: [{
      id: "A",
      io: {
        requests: [1, 2, 3].flatMap((
          c,
        ) => [{ disk: "d0", cylinder: c }, { disk: "d1", cylinder: c }]),
      },
    }],
  });
  for (
    const [policy, reason] of [
      ["redispatch.ts", "request-dispatched"],
      ["wrong_disk.ts", "wrong-disk"],
      ["seeks_forever.ts", "seek-loop"],
    ]
  ) {
    const result = await runCli(["run", path, "--io", fixture(policy!), "--format", "json"]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.incidents.length, 1);
    assert.equal(report.incidents[0].kind, "invalid");
    assert.equal(report.incidents[0].reason, reason);
    assert.equal(report.policies.io.ejected, true);
    assert.equal(report.vms[0].io.completed, 6);
    assert.match(result.stderr, /incident at .*: io policy .* ejected \(invalid\//);
  }
});

Deno.test("the watchdog ejects a policy that leaves a disk idle with requests queued", async () => {
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "io-stall",
    host: { pcpus: 1, disks: [linear()] },
    vms: [{ id: "A", io: { requests: [{ disk: "d0", cylinder: 5 }] } }],
  });
  const result = await runCli([
    "run",
    path,
    "--io",
    fixture("declines.ts"),
    "--stall",
    "2s",
    "--format",
    "json",
  ]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.incidents[0].kind, "stall");
  assert.equal(report.incidents[0].atNs, 2e9);
  assert.equal(report.vms[0].io.completed, 1);
  assert.equal(report.vms[0].io.latencyNs.max, 2e9 + 5000);
});

Deno.test("swapping the I/O policy mid-run hands over queued requests without losing one", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "io-swap",
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    vms: [0, 1, 2, 3].map((i) => ({
      id: `v${i}`,
      io: { generate: { disk: "d0", count: 200, depth: 8 } },
    })),
  });
  const simulation = await createSimulation(workload, { policies: { io: { use: "fcfs" } } });
  try {
    await simulation.run(1_000_000_000);
    await internals(simulation).kernel.swap("io", await loadPolicy("io", "sstf"));
    await simulation.run();
    const report = simulation.report();
    assert.deepEqual(report.incidents, []);
    assert.equal(report.policies.io!.name, "fcfs");
    assert.deepEqual(report.vms.map((vm) => vm.io.completed), [200, 200, 200, 200]);
  } finally {
    await simulation.close();
  }
});
