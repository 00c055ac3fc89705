// The example policies beyond the built-ins: each passes the test kit's checks in the sandbox and
// does what its documentation says, measured against a built-in on a workload made for it.
import assert from "node:assert/strict";
import { checkPolicy, runPolicy, vm, vmReport, workload } from "../../core/testing/mod.ts";
import type { Report } from "../../core/report/report.ts";

const example = (name: string) => new URL(`../../examples/policies/${name}`, import.meta.url);

Deno.test("eevdf: passes the checks, work-conserving", async () => {
  const summary = await checkPolicy(example("eevdf.ts"), { workConserving: true });
  assert.equal(summary.policy.name, "eevdf");
});

Deno.test("eevdf: a VM's latency target shortens its waits, its share stays its weight's", async () => {
  const hogsAndWeb = (slice?: string) =>
    workload([
      vm("hog-1", { pattern: "cpu-bound" }),
      vm("hog-2", { pattern: "cpu-bound", weight: 512 }),
      vm("web", {
        pattern: "interactive",
        run: "1ms",
        sleep: "10ms",
        sched: slice === undefined ? {} : { slice },
      }),
    ], { stopAt: "5s" });
  const options = { isolation: "none" as const };
  const targeted = await runPolicy(example("eevdf.ts"), hogsAndWeb("300us"), options);
  const untargeted = await runPolicy(example("eevdf.ts"), hogsAndWeb(), options);
  const rr = await runPolicy("rr", hogsAndWeb(), options);
  const web = (report: Report) => vmReport(report, "web").cpu.latencyNs;
  // Mean scheduling latency of the interactive VM: 0.90 ms with a 300 us target, 3.32 ms with
  // the default 3 ms slice, 15.95 ms under round robin.
  assert.ok(web(targeted).mean < web(untargeted).mean / 3, `${web(targeted).mean}`);
  assert.ok(web(untargeted).mean < web(rr).mean / 4, `${web(untargeted).mean}`);
  assert.ok(web(targeted).p99 <= 3_000_000, `${web(targeted).p99}`);
  // The hogs split what is left 1:2, as their weights say, whatever the web VM asks for.
  const share = (id: string) => vmReport(targeted, id).cpu.share;
  assert.ok(Math.abs(share("hog-2") / share("hog-1") - 2) < 0.05, `${share("hog-2")}`);
  assert.deepEqual(targeted.incidents, []);
});

Deno.test("eevdf: refuses a bad latency target before the run starts", async () => {
  const bad = workload([vm("web", { pattern: "cpu-bound", sched: { slice: "5us" } })], {
    stopAt: "1s",
  });
  await assert.rejects(
    () => runPolicy(example("eevdf.ts"), bad, { isolation: "none" }),
    /VM web sched\.slice: expected a duration from "100us" to "1s", got 5000/,
  );
});

Deno.test("working-set: passes the checks", async () => {
  const summary = await checkPolicy(example("working_set.ts"));
  assert.equal(summary.policy.domain, "memory");
});

Deno.test("working-set: a scan cannot flush a small, slowly used working set", async () => {
  const loopAndScan = workload([
    vm("slow-loop", { memory: { pattern: "loop", pages: 12, rate: 10_000, count: 4_000 } }),
    vm("scanner", { memory: { pattern: "scan", pages: 100_000, rate: 1_000_000, count: 200_000 } }),
  ], { pcpus: 2, memory: { frames: 64, faultCost: "1us" } });
  const options = { isolation: "none" as const };
  const balanced = await runPolicy(example("working_set.ts"), loopAndScan, options);
  const lru = await runPolicy("lru", loopAndScan, options);
  const faults = (report: Report, id: string) => vmReport(report, id).memory.faults;
  // Global LRU: the scan's newer pages push the loop's out (3972 faults of 4000 references).
  // Working sets: 12 first loads and the first 50 ms before balloon targets are set (506).
  assert.ok(faults(lru, "slow-loop") > 3_900, `lru ${faults(lru, "slow-loop")}`);
  assert.ok(faults(balanced, "slow-loop") < 600, `working-set ${faults(balanced, "slow-loop")}`);
  // A scan misses on every reference whatever it holds: it loses nothing.
  assert.equal(faults(balanced, "scanner"), faults(lru, "scanner"));
  assert.deepEqual(balanced.incidents, []);
});

Deno.test("deadline-scan: passes the checks", async () => {
  const summary = await checkPolicy(example("deadline_scan.ts"));
  assert.equal(summary.policy.domain, "io");
});

Deno.test("deadline-scan: meets a VM's deadlines beside a deep bulk queue, keeping throughput", async () => {
  const dbAndBulk = workload([
    vm("db", {
      io: { deadline: "100ms", generate: { disk: "sda", count: 400, depth: 2, size: 4096 } },
    }),
    vm("bulk", { io: { generate: { disk: "sda", count: 2000, depth: 32, size: 16384 } } }),
  ], { disks: [{ id: "sda", model: "hdd", preset: "hp_c2247a" }] });
  const options = { isolation: "none" as const, domain: "io" as const };
  const edf = await runPolicy(example("deadline_scan.ts"), dbAndBulk, options);
  const clook = await runPolicy("clook", dbAndBulk, options);
  const db = (report: Report) => vmReport(report, "db").io;
  // C-LOOK lets 128 of the 400 db requests miss 100 ms; deadline-scan none.
  assert.ok((db(clook).deadlineMisses ?? 0) > 100, `clook ${db(clook).deadlineMisses}`);
  assert.equal(db(edf).deadlineMisses, 0);
  assert.equal(vmReport(edf, "bulk").io.completed, 2000);
  // The sweep keeps the disk's throughput within 5 % of C-LOOK's.
  assert.ok(edf.simulatedNs < clook.simulatedNs * 1.05, `${edf.simulatedNs} ${clook.simulatedNs}`);
  assert.deepEqual(edf.incidents, []);
});
