// Detailed hosts: each host runs hyperhook's own kernel with its CPU policy; on a CPU-bound setup
// the two host models agree on energy within 5 %, and pre-copy reads the memory domain's dirty
// bits.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import {
  createDatacenterSimulation,
  simulateDatacenter,
} from "../../core/datacenter/simulation.ts";
import { WorkloadError } from "../../core/workload/load.ts";
import { runCli } from "../_helpers.ts";
import { fixture, LINEAR_POWER } from "./_helpers.ts";

/**
 * Three hosts of two 1000-MIPS cores; six one-core VMs whose demand changes every 300 s, placed
 * first fit two to a host.
 */
function cpuBound(hostModel: "fluid" | "detailed", cpu = "credit") {
  return parseDatacenter(cpuBoundJson(hostModel, cpu));
}

function cpuBoundJson(hostModel: string, cpu: string) {
  return {
    schema: "hyperhook.datacenter/v1",
    name: "cpu-bound",
    // Fluid hosts run no CPU policy.
    policies: hostModel === "detailed" ? { placement: "dvfs", cpu } : { placement: "dvfs" },
    datacenter: {
      hostModel,
      hostTypes: [{
        id: "h",
        cores: 2,
        mips: 1000,
        ram: 4096,
        bandwidth: 1000,
        power: LINEAR_POWER,
      }],
      hosts: [{ type: "h", count: 3 }],
      vmTypes: [{ id: "v", mips: 1000, ram: 1300, bandwidth: 100 }],
      vms: [
        { id: "A", type: "v", demand: { utilization: [100, 100, 40] } },
        { id: "B", type: "v", demand: { utilization: [100, 60, 40] } },
        { id: "C", type: "v", demand: { utilization: [100, 30, 90] } },
        { id: "D", type: "v", demand: { utilization: [20, 70, 100] } },
        { id: "E", type: "v", demand: { utilization: [50, 10, 100] } },
        { id: "F", type: "v", demand: { utilization: [35, 35, 35] } },
      ],
    },
  };
}

Deno.test("detailed hosts run their own kernel; energy within 5 % of the fluid model's", async () => {
  const fluid = (await simulateDatacenter(cpuBound("fluid"))).datacenter!;
  const simulation = await createDatacenterSimulation(cpuBound("detailed"));
  try {
    await simulation.run();
    const report = simulation.report(), detailed = report.datacenter!;
    assert.equal(detailed.hostModel, "detailed");
    assert.equal(report.policies.cpu!.name, "credit");
    assert.deepEqual([...simulation.domain.placement()], [0, 0, 1, 1, 2, 2]);
    // The hosts' kernels ran the VMs: A and B, 100 % then 100 % and 60 %, then 40 % each.
    const host0 = simulation.domain.detailed!.hosts[0]!.report();
    const ran = host0.vms.slice(1).map((vm) => vm.cpu.runNs / 1e9);
    assert.ok(Math.abs(ran[0]! - 720) < 1 && Math.abs(ran[1]! - 600) < 1, `${ran}`);
    // Fluid, by hand, 300 s each: host 0 at 100, 80, 40 %; host 1 (C, D) at 60, 50, 95 %;
    // host 2 (E, F) at 42.5, 22.5, 67.5 %.
    const joules = 300 * (200 + 180 + 140) + 300 * (160 + 150 + 195) +
      300 * (142.5 + 122.5 + 167.5);
    assert.ok(Math.abs(fluid.energyKwh * 3.6e6 - joules) < 1e-6);
    const gap = Math.abs(detailed.energyKwh - fluid.energyKwh) / fluid.energyKwh;
    assert.ok(gap < 0.05, `detailed ${detailed.energyKwh} kWh, fluid ${fluid.energyKwh} kWh`);
    console.log(`detailed/fluid energy gap ${(100 * gap).toFixed(3)} %`);
    // The timeline at 300 s shows what the first frame measured: hosts at 100, 60 and 42.5 %.
    assert.ok(Math.abs(detailed.timeline.utilization[0]! - 0.675) < 0.001);
    // Nothing is oversubscribed: every VM gets what it asks, in both models.
    assert.ok(detailed.slaOverall < 0.01, `${detailed.slaOverall}`);
  } finally {
    await simulation.close();
  }
});

Deno.test("another CPU policy on detailed hosts, the same CPU-bound energy", async () => {
  const rr = (await simulateDatacenter(cpuBound("detailed", "rr"))).datacenter!;
  const credit = (await simulateDatacenter(cpuBound("detailed", "credit"))).datacenter!;
  assert.ok(Math.abs(rr.energyKwh - credit.energyKwh) / credit.energyKwh < 0.01);
});

Deno.test("pre-copy on detailed hosts: each round sends what the VM's pages dirtied in the last", async () => {
  // One VM of 1000 MIPS at 100 % writes a loop of 10,240 pages (40 MB) at 400 references per
  // second of run time; the relieve policy moves it at 300 s (host 0 asked for more than 40 %).
  const workload = parseDatacenter({
    schema: "hyperhook.datacenter/v1",
    name: "precopy-dirty",
    policies: { placement: { use: fixture("relieve"), config: { threshold: 0.4 } }, cpu: "rr" },
    stopAt: "400s",
    datacenter: {
      hostModel: "detailed",
      hostTypes: [{
        id: "h",
        cores: 2,
        mips: 1000,
        ram: 1024,
        bandwidth: 1000,
        power: LINEAR_POWER,
      }],
      hosts: [{ type: "h", count: 2 }],
      vmTypes: [{
        id: "m",
        mips: 1000,
        ram: 800,
        bandwidth: 100,
        memory: { pattern: "loop", pages: 10240, rate: 400, writes: 1 },
      }],
      vms: [{ id: "M", type: "m", demand: { utilization: [100, 100] } }],
      migration: { model: "precopy", downtime: "300ms" },
    },
  });
  const report = await simulateDatacenter(workload, { isolation: "none" });
  const dc = report.datacenter!;
  assert.deepEqual(report.incidents, []);
  assert.equal(dc.migrations, 1);
  // 62.5 MB/s: the 800 MB of RAM take 12.8 s, in which 5120 references dirty 5120 pages (20 MB,
  // 0.32 s, more than the 300 ms downtime): a second round, in which 128 pages are dirtied
  // (0.5 MB, 8 ms): that fits, so the VM pauses while they are sent.
  assert.equal(dc.meanMigrationNs, 12_800_000_000 + 320_000_000 + 8_000_000);
  // The VM runs on its source through both rounds and loses only the pause (fluid pre-copy with
  // a dirty rate would also charge the 10 % degradation while it copies).
  const demand = 1000 * 400;
  assert.ok(Math.abs(dc.pdm - (1000 * 0.008) / demand) < 1e-6, `${dc.pdm}`);
});

Deno.test("detailed hosts refuse a CPU policy that is not a built-in, and cloudsim mode", async () => {
  await assert.rejects(
    () => createDatacenterSimulation(cpuBound("detailed", fixture("relieve"))),
    (error: Error) =>
      error instanceof WorkloadError &&
      /^Workload: policies.cpu: expected a built-in CPU policy for detailed hosts/.test(
        error.message,
      ),
  );
  const spec = cpuBoundJson("detailed", "credit");
  const badMemory = structuredClone(spec) as {
    datacenter: { vmTypes: Record<string, unknown>[] };
  };
  badMemory.datacenter.vmTypes[0]!.memory = { pattern: "nope", pages: 10 };
  await assert.rejects(
    () => createDatacenterSimulation(parseDatacenter(badMemory)),
    (error: Error) =>
      error instanceof WorkloadError &&
      error.message.startsWith(
        'Workload: datacenter.vmTypes[0].memory.pattern: expected "uniform"',
      ),
  );
  assert.throws(
    () => parseDatacenter({ ...spec, datacenter: { ...spec.datacenter, mode: "cloudsim" } }),
    /datacenter.hostModel: expected "fluid" in cloudsim mode/,
  );
});

Deno.test("hyperhook run: a detailed datacenter takes --cpu, and its example migrates by dirty bits", async () => {
  const example =
    new URL("../../examples/datacenter/detailed_small.json", import.meta.url).pathname;
  const result = await runCli(["run", example, "--cpu", "rr", "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.policies.cpu.name, "rr");
  assert.equal(report.datacenter.hostModel, "detailed");
  // Three web VMs (512 MB, no memory described: nothing dirtied) take 8.192 s each; the writer
  // (400 MB) 6.4 s, in which it ran 90 % of the time at 400 references a second of run time:
  // 2304 pages (9 MB) dirtied, sent in a 144 ms pause.
  assert.equal(report.datacenter.migrations, 4);
  assert.equal(report.datacenter.meanMigrationNs, (3 * 8_192_000_000 + 6_544_000_000) / 4);
  const memory = await runCli(["run", example, "--memory", "lru"]);
  assert.equal(memory.code, 2);
  assert.match(
    memory.stderr,
    /--memory: a detailed datacenter workload takes a placement policy \(--placement\) and a CPU policy \(--cpu\)/,
  );
});

Deno.test("detailed hosts' CPU decisions are in the eventsHash, the same in-process and in a worker", async () => {
  const credit = await simulateDatacenter(cpuBound("detailed", "credit"));
  const rr = await simulateDatacenter(cpuBound("detailed", "rr"));
  // The same placements, other CPU schedules: another hash.
  assert.notEqual(rr.eventsHash, credit.eventsHash);
  const worker = await simulateDatacenter(cpuBound("detailed", "credit"), {
    isolation: "worker",
    sandbox: { batchDeadlineMs: 5000, initDeadlineMs: 20_000 },
  });
  assert.equal(worker.eventsHash, credit.eventsHash);
  assert.equal(worker.datacenter!.energyKwh, credit.datacenter!.energyKwh);
});
