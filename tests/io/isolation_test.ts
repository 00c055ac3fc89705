// I/O policies make the same decisions whatever runs them, and every built-in runs the hdd example
// to the end without an incident.
import assert from "node:assert/strict";
import { example, runCli } from "../_helpers.ts";

Deno.test("an I/O policy makes identical decisions in-process, in a worker and in a process", async () => {
  for (const [workload, policy] of [["disk_textbook.json", "sstf"], ["disk_hdd.json", "bfq"]]) {
    const hashes = new Set<string>();
    for (const isolation of ["none", "worker", "process"]) {
      const result = await runCli([
        "run",
        example(workload!),
        "--io",
        policy!,
        "--isolation",
        isolation,
        // About equivalence: a loaded machine must not turn a slow batch into a stall.
        "--deadline",
        "10s",
        "--format",
        "json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.policies.io.isolation, isolation);
      assert.deepEqual(report.incidents, []);
      hashes.add(report.eventsHash);
    }
    assert.equal(hashes.size, 1, `${workload} under ${policy}: ${[...hashes].join(", ")}`);
  }
});

Deno.test("every built-in I/O policy runs the hdd example without an incident", async () => {
  const policies = ["fcfs", "sstf", "scan", "look", "cscan", "clook", "deadline", "bfq"];
  const result = await runCli([
    "compare",
    example("disk_hdd.json"),
    "--io",
    policies.join(","),
    "--format",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const reports = JSON.parse(result.stdout);
  assert.equal(reports.length, policies.length);
  for (const report of reports) {
    assert.deepEqual(report.incidents, [], report.policies.io.name);
    assert.equal(report.simulatedNs, 30e9);
    // The backup VM never exceeds its io.max of 1 MB/s.
    assert.ok(report.vms[2].io.bytes <= 30 * 1_000_000 + 65536, report.policies.io.name);
    assert.ok(report.host.disks[0].utilization > 0.99, report.policies.io.name);
  }
});
