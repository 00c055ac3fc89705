// A placement policy that breaks a rule is ejected with an incident, the fallback (dvfs) takes
// over in the same instant, and the run completes; the kernel applied nothing of the bad answer.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import { simulateDatacenter } from "../../core/datacenter/simulation.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { runCli, workloadFile } from "../_helpers.ts";
import { fixture, overloadWorkload } from "./_helpers.ts";

const SANDBOX = { batchDeadlineMs: 5000, initDeadlineMs: 20_000 };

function run(fault: string, isolation: Isolation = "none") {
  const workload = parseDatacenter(
    overloadWorkload({ use: fixture("misplace"), config: { fault } }),
  );
  return simulateDatacenter(workload, { isolation, sandbox: SANDBOX });
}

const cases: [string, string, number, RegExp][] = [
  [
    "full-host",
    "full-host",
    0,
    /place of VM 2 \(C2\) puts 500 MIPS on host 0, which has 0 MIPS free/,
  ],
  ["unknown-host", "unknown-host", 0, /names host 99, which does not exist \(hosts 0..1\)/],
  ["twice", "twice", 300e9, /the migration of VM 0 \(A0\): the plan moves it twice at once/],
  ["same-host", "same-host", 300e9, /the migration of VM 0 \(A0\) to host 0, where it is/],
  // Host 0 holds A and B (500 + 500 of 1000 MIPS): C's 50 MIPS at 300 s do not fit.
  [
    "full-target",
    "full-host",
    300e9,
    /the migration of VM 2 \(C2\) puts 50 MIPS on host 0, which has 0 MIPS free/,
  ],
  [
    "unknown-target",
    "unknown-host",
    300e9,
    /the migration of VM 0 \(A0\) names host 99, which does not exist \(hosts 0..1\)/,
  ],
];

for (const [fault, reason, atNs, message] of cases) {
  Deno.test(`a policy that answers ${fault} is ejected as invalid; dvfs finishes the run`, async () => {
    const report = await run(fault);
    assert.equal(report.incidents.length, 1);
    const incident = report.incidents[0]!;
    assert.equal(incident.domain, "placement");
    assert.equal(incident.policy, "misplace");
    assert.equal(incident.kind, "invalid");
    assert.equal(incident.reason, reason);
    assert.equal(incident.atNs, atNs);
    assert.match(incident.message, message);
    assert.equal(report.policies.placement!.ejected, true);
    // dvfs never migrates: what the bad plan asked did not run.
    assert.equal(report.datacenter!.migrations, 0);
    assert.equal(report.datacenter!.unplaced, 0);
    assert.equal(report.datacenter!.vms, 4);
  });
}

Deno.test("a plan that moves a VM still migrating is ejected (invalid/migrating)", async () => {
  // 8 Mbit/s: A's 1000 MB take 2000 s at half of it, so at the second evaluation (400 s) it is
  // still on its way to host 1.
  const spec = overloadWorkload({ use: fixture("misplace"), config: { fault: "again" } }) as {
    datacenter: Record<string, unknown> & {
      hostTypes: Record<string, unknown>[];
      vmTypes: Record<string, unknown>[];
    };
  };
  spec.datacenter.interval = "200s";
  spec.datacenter.hostTypes[0]!.bandwidth = 8;
  spec.datacenter.vmTypes[0]!.bandwidth = 1;
  const report = await simulateDatacenter(parseDatacenter(spec), { isolation: "none" });
  assert.equal(report.incidents.length, 1);
  const incident = report.incidents[0]!;
  assert.equal(incident.reason, "migrating");
  assert.equal(incident.atNs, 400e9);
  assert.match(
    incident.message,
    /the migration of VM 0 \(A0\) to host 1: it is already migrating to host 1/,
  );
  // The first migration was valid and goes on under dvfs; nothing of the bad plan ran.
  assert.equal(report.datacenter!.migrations, 1);
});

Deno.test("a VM placed before the bad answer stays; the fallback places the rest as first fit", async () => {
  // VM 0 went to host 0 before VM 1 was sent to host 99: dvfs puts VM 1 beside it, C and D on 1.
  const report = await run("unknown-host");
  const hosts = report.datacenter!.hostFigures.map((host) => host.activeNs);
  assert.deepEqual(hosts, [600e9, 600e9]);
});

Deno.test("a policy that throws is ejected with kind error, in a child process too", async () => {
  for (const isolation of ["none", "process"] as const) {
    const report = await run("throw", isolation);
    assert.equal(report.incidents.length, 1, isolation);
    assert.equal(report.incidents[0]!.kind, "error");
    assert.match(report.incidents[0]!.message, /a bug at the first evaluation/);
  }
});

Deno.test("the same invalid plan ejects at the same instant under every isolation", async () => {
  const reports = [];
  for (const isolation of ["none", "worker", "process", "process-rpc"] as const) {
    reports.push(await run("twice", isolation));
  }
  for (const report of reports.slice(1)) {
    assert.deepEqual(report.incidents, reports[0]!.incidents);
    assert.equal(report.eventsHash, reports[0]!.eventsHash);
  }
});

Deno.test("hyperhook run: an ejected placement policy exits 1 and prints the incident", async () => {
  const path = await workloadFile(
    overloadWorkload({ use: fixture("misplace"), config: { fault: "twice" } }),
  );
  const result = await runCli(["run", path, "--init-deadline", "20s", "--deadline", "5s"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /incident at 300s: placement policy misplace ejected \(invalid\/twice\)/,
  );
  assert.match(result.stdout, /placement misplace \(ejected\)/);
  await Deno.remove(path);
});
