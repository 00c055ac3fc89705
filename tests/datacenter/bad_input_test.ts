// Bad datacenter input: one line naming the place and what was expected, exit 2.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import { simulateDatacenter } from "../../core/datacenter/simulation.ts";
import { WorkloadError } from "../../core/workload/load.ts";
import { runCli, workloadFile } from "../_helpers.ts";
import { LINEAR_POWER } from "./_helpers.ts";

// Workloads are spoiled field by field: loosely typed on purpose.
// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

function base(): Loose {
  return {
    schema: "hyperhook.datacenter/v1",
    name: "bad",
    datacenter: {
      hostTypes: [{
        id: "h",
        cores: 2,
        mips: 1000,
        ram: 2048,
        bandwidth: 1000,
        power: [...LINEAR_POWER],
      }],
      hosts: [{ type: "h", count: 2 }],
      vmTypes: [{ id: "v", mips: 500, ram: 512, bandwidth: 100 }],
      vms: [{ type: "v", count: 2, demand: { utilization: [10, 20] } }],
    },
  };
}

const cases: [string, (w: Loose) => void, string][] = [
  [
    "a power table of 10 values",
    (w) => w.datacenter.hostTypes[0].power.pop(),
    "Workload: datacenter.hostTypes[0].power: expected 11 values (watts at 0, 10, …, 100 % CPU), got 10",
  ],
  [
    "an unknown host type",
    (w) => w.datacenter.hosts[0].type = "G9",
    'Workload: datacenter.hosts[0].types[0]: expected one of "h", got "G9"',
  ],
  [
    "both type and types",
    (w) => w.datacenter.vms[0].types = ["v"],
    'Workload: datacenter.vms[0]: expected exactly one of "type" or "types", got both',
  ],
  [
    "a demand above 100 %",
    (w) => w.datacenter.vms[0].demand.utilization[1] = 120,
    "Workload: datacenter.vms[0].demand.utilization[1]: expected at most 100, got 120",
  ],
  [
    "a bad interval",
    (w) => w.datacenter.interval = "soon",
    'Workload: datacenter.interval: expected a duration above zero such as "300s", got "soon"',
  ],
  [
    "an unknown key",
    (w) => w.datacenter.hosts[0].racks = 3,
    'Workload: datacenter.hosts[0]: unknown key "racks"',
  ],
  [
    "no demand source",
    (w) => delete w.datacenter.vms[0].demand.utilization,
    'Workload: datacenter.vms[0].demand: expected exactly one of "utilization" or "trace", got neither',
  ],
  [
    "an unknown migration model",
    (w) => w.datacenter.migration = { model: "teleport" },
    'Workload: datacenter.migration.model: expected "cloudsim" or "precopy", got "teleport"',
  ],
];

for (const [what, spoil, message] of cases) {
  Deno.test(`datacenter workload with ${what}: ${message}`, () => {
    const workload = base();
    spoil(workload);
    assert.throws(() => parseDatacenter(workload), (error: Error) => {
      assert.ok(error instanceof WorkloadError);
      assert.equal(error.message, message);
      return true;
    });
  });
}

Deno.test("a trace folder that does not exist is named, with the group", async () => {
  const workload = base();
  workload.datacenter.vms[0].demand = {
    trace: { format: "planetlab", folder: "/nonexistent/planetlab" },
  };
  delete workload.datacenter.vms[0].count;
  await assert.rejects(
    () => simulateDatacenter(parseDatacenter(workload)),
    (error: Error) => {
      assert.ok(error instanceof WorkloadError);
      assert.match(
        error.message,
        /^Workload: datacenter\.vms\[0\]\.demand\.trace\.folder: cannot read the folder \/nonexistent\/planetlab \(/,
      );
      return true;
    },
  );
});

Deno.test("hyperhook run: bad datacenter input exits 2 with one line naming the file and place", async () => {
  const workload = base();
  workload.datacenter.hostTypes[0].cores = 0;
  const path = await workloadFile(workload);
  const result = await runCli(["run", path]);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    `hyperhook: Workload ${path}: datacenter.hostTypes[0].cores: expected a value of at least 1, got 0\n`,
  );
  await Deno.remove(path);
});

Deno.test("hyperhook run: an unknown placement policy and a cpu flag are bad input (exit 2)", async () => {
  const path = await workloadFile(base());
  const unknown = await runCli(["run", path, "--placement", "best-guess"]);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^hyperhook: Unknown placement policy "best-guess": expected one of npa, dvfs, thr-mmt, iqr-mc, mad-mmt, lr-mmt, lrr-mmt, nova/,
  );
  const cpu = await runCli(["run", path, "--cpu", "rr"]);
  assert.equal(cpu.code, 2);
  assert.match(
    cpu.stderr,
    /--cpu: a fluid datacenter workload takes a placement policy \(--placement\)/,
  );
  const config = await runCli([
    "run",
    path,
    "--placement",
    "thr-mmt",
    "--config-placement",
    '{"threshold":2}',
  ]);
  assert.equal(config.code, 2);
  assert.match(
    config.stderr,
    /Policy thr-mmt config\.threshold: expected a number from 0 to 1, got 2/,
  );
  await Deno.remove(path);
});

Deno.test("hyperhook run prints the datacenter section and --format json reports it", async () => {
  const path = await workloadFile(base());
  const table = await runCli(["run", path, "--placement", "lr-mmt"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /placement lr-mmt \[none\]/);
  assert.match(table.stdout, /energy\s+\d+\.\d{4} kWh/);
  const json = await runCli(["run", path, "--placement", "lr-mmt", "--format", "json"]);
  const report = JSON.parse(json.stdout);
  assert.equal(report.schema, "hyperhook.report/v1");
  for (
    const key of [
      "hosts",
      "vms",
      "energyKwh",
      "migrations",
      "slatah",
      "pdm",
      "slav",
      "esv",
      "hostShutdowns",
    ]
  ) {
    assert.equal(typeof report.datacenter[key], "number", key);
  }
  assert.equal(report.datacenter.hosts, 2);
  assert.equal(report.datacenter.vms, 2);
  await Deno.remove(path);
});

Deno.test("a CPU policy in a fluid datacenter is refused, naming the place", async () => {
  const workload = base();
  workload.policies = { cpu: "rr" };
  await assert.rejects(
    () => simulateDatacenter(parseDatacenter(workload)),
    (error: Error) => {
      assert.ok(error instanceof WorkloadError);
      assert.equal(
        error.message,
        'Workload: policies.cpu: expected no CPU policy for fluid hosts (only "hostModel": "detailed" runs one), got "rr"',
      );
      return true;
    },
  );
});
