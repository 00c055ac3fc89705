// `--trace` on a datacenter run: a process per host with a slice per VM placement (and per
// migration coming in), migrations as instants with their source and target, overloads as slices
// that add up to each host's SLA time, utilisation and datacenter counters.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import {
  createDatacenterSimulation,
  simulateDatacenter,
} from "../../core/datacenter/simulation.ts";
import { TraceFile } from "../../core/observe/trace.ts";
import type { Report } from "../../core/report/report.ts";
import { fixture, overloadWorkload, shutdownWorkload } from "../datacenter/_helpers.ts";
import { runCli, workloadFile } from "../_helpers.ts";
import type { TraceEvent } from "./_trace_event.ts";

async function traced(
  spec: Record<string, unknown>,
  restarts = 0,
): Promise<{ report: Report; events: TraceEvent[] }> {
  const trace = new TraceFile();
  const simulation = await createDatacenterSimulation(parseDatacenter(spec), {
    isolation: "none",
    restarts,
  });
  trace.watchDatacenter(simulation);
  let report: Report;
  try {
    await simulation.run();
    report = simulation.report();
  } finally {
    await simulation.close();
  }
  return { report, events: JSON.parse(trace.text()).traceEvents };
}

/** Per host (its index), the summed duration (ns) of its `overloaded` slices. */
function overloads(events: TraceEvent[], hosts: number): number[] {
  const sums = new Array<number>(hosts).fill(0);
  for (const e of events) {
    if (e.ph !== "X" || e.cat !== "sla") continue;
    sums[e.pid - 1100]! += Math.round(e.dur! * 1000);
  }
  return sums;
}

const s = 1e6; // a second in the trace's µs

Deno.test("an overload relieved by one migration: each placement a slice, the migration an instant", async () => {
  const spec = overloadWorkload(fixture("relieve"));
  const { report, events } = await traced(spec);
  const dc = report.datacenter!;
  // A0 and B1 on h0, C2 and D3 on h1; at 300 s A0 moves to h1 in 16 s; from 400 s h1 is asked
  // 1500 of its 1000 MIPS until the end at 600 s (tests/datacenter/hand_computed_test.ts).
  assert.equal(dc.migrations, 1);
  const slices = events.filter((e) => e.ph === "X")
    .map((e) => [e.pid, e.tid, e.name, e.ts / s, e.dur! / s, e.args?.end])
    .sort((a, b) => String(a).localeCompare(String(b)));
  assert.deepEqual(slices, [
    [1100, 1, "A0", 0, 316, "migrated to h1"],
    [1100, 2, "B1", 0, 600, "end of run"],
    [1101, 0, "overloaded", 400, 200, undefined],
    [1101, 1, "C2", 0, 600, "end of run"],
    [1101, 2, "D3", 0, 600, "end of run"],
    [1101, 3, "A0 ← h0", 300, 16, "arrived"],
    [1101, 3, "A0", 316, 284, "end of run"],
  ]);
  const migrations = events.filter((e) => e.ph === "i" && e.name.startsWith("migrate"));
  assert.deepEqual(migrations.map((e) => [e.name, e.ts / s, e.args]), [
    ["migrate A0: h0 → h1", 300, { vm: "A0", from: "h0", to: "h1" }],
  ]);
  assert.equal(events.filter((e) => e.ph === "i" && e.name.startsWith("place")).length, 4);
  // Overloads add up to each host's SLA time.
  assert.deepEqual(overloads(events, 2), dc.hostFigures.map((h) => h.slaNs));
  // Power as the hand-worked books have it: 310 W, 315 W while A0 moves, 310 W, 350 W.
  const power = events.filter((e) => e.ph === "C" && e.name === "power")
    .map((e) => [e.ts / s, e.args!.W]);
  assert.deepEqual(power, [[0, 310], [300, 315], [316, 310], [400, 350]]);
  const utilization = events.filter((e) => e.ph === "C" && e.pid === 1101)
    .map((e) => [e.ts / s, e.args!["%"]]);
  assert.deepEqual(utilization, [[0, 10], [300, 15], [316, 60], [400, 100]]);
  // Tracing changes nothing of the run.
  const plain = await simulateDatacenter(parseDatacenter(spec), { isolation: "none" });
  assert.equal(report.eventsHash, plain.eventsHash);
});

Deno.test("a VM that leaves ends its slice there; slices per VM follow its migrations", async () => {
  // tests/datacenter/hand_computed_test.ts's shutdown: B1's curve ends at 300 s; A0 moves from
  // h0 to h1 at 300 s (16 s), and h0 shuts down.
  const { report, events } = await traced(shutdownWorkload());
  assert.equal(report.datacenter!.vmsLeft, 1);
  const stays = events.filter((e) => e.ph === "X" && e.cat === undefined)
    .map((e) => [e.args!.vm, e.args!.host, e.ts / s, (e.ts + e.dur!) / s, e.args!.via, e.args!.end])
    .sort((a, b) => String(a).localeCompare(String(b)));
  assert.deepEqual(stays, [
    ["A0", "h0", 0, 316, "placement", "migrated to h1"],
    ["A0", "h1", 316, 600, "migration from h0", "end of run"],
    ["B1", "h0", 0, 300, "placement", "left"],
    ["C2", "h1", 0, 600, "placement", "end of run"],
  ]);
  // h0 is off from 316 s: no utilisation, one host active.
  const active = events.filter((e) => e.ph === "C" && e.name === "active hosts")
    .map((e) => [e.ts / s, e.args!.hosts]);
  assert.deepEqual(active, [[0, 2], [316, 1]]);
});

Deno.test("run --trace on a datacenter workload: a valid trace, windowed; the placements match the report", async () => {
  const dir = await Deno.makeTempDir();
  const workload = await workloadFile(overloadWorkload(fixture("relieve")));
  const result = await runCli([
    "run",
    workload,
    "--isolation",
    "none",
    "--format",
    "json",
    "--trace",
    `${dir}/dc.json`,
    "--trace-window",
    "310s..",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Report;
  const events = JSON.parse(await Deno.readTextFile(`${dir}/dc.json`)).traceEvents as TraceEvent[];
  const timed = events.filter((e) => e.ph !== "M");
  assert.ok(timed.length > 0 && timed.every((e) => e.ts >= 310 * s), JSON.stringify(timed));
  // Inside the window: h1's overload, whole; A0's stays clipped to it (h0 until 316 s, then h1).
  assert.deepEqual(overloads(events, 2), report.datacenter!.hostFigures.map((h) => h.slaNs));
  const a0 = events.filter((e) => e.ph === "X" && e.args?.vm === "A0")
    .map((e) => [e.name, e.ts / s, e.dur! / s]);
  assert.deepEqual(a0.sort(), [["A0 ← h0", 310, 6], ["A0", 310, 6], ["A0", 316, 284]]);
  await Deno.remove(workload);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an ejected placement policy is marked across the trace, and so is its restart", async () => {
  // misplace "twice" plans A0's migration twice at 300 s: ejected, dvfs takes over at once;
  // restarted 1 s later, it is ejected again at the next evaluation (600 s) by a throw.
  const spec = overloadWorkload({ use: fixture("misplace"), config: { fault: "twice" } });
  const { report, events } = await traced({ ...spec, stopAt: "900s" }, 1);
  assert.equal(report.incidents.length, 2);
  const marks = events.filter((e) => e.ph === "i" && e.s === "g").map((e) => [e.name, e.ts / s]);
  assert.deepEqual(marks, [
    ["eject: placement policy", 300],
    ["swap: placement policy misplace", 301],
    ["eject: placement policy", 600],
    ["incident: placement policy misplace ejected (invalid/twice)", 300],
    ["incident: placement policy misplace ejected (error/throw)", 600],
  ]);
  // A slice per VM's stay: one for each placement, one more per migration.
  const stays = events.filter((e) => e.ph === "X" && e.cat === undefined);
  assert.equal(stays.length, 4 + report.datacenter!.migrations);
  assert.equal(
    events.filter((e) => e.ph === "i" && e.name.startsWith("migrate")).length,
    report.datacenter!.migrations,
  );
});
