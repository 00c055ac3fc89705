// CloudSim's accounting on a small datacenter worked out by hand, beside hyperhook's, and the
// pre-copy migration model.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import { simulateDatacenter } from "../../core/datacenter/simulation.ts";
import { fixture, LINEAR_POWER, overloadWorkload } from "./_helpers.ts";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual}, expected ${expected}`,
  );

/**
 * Two one-core hosts of 1000 MIPS; A and B (500 MIPS, 1000 MB, always 100 %) fill host 0; C (10 %)
 * and D (100 %, then 0) go to host 1. The relieve policy moves A to host 1 at the first
 * evaluation. 900 s, evaluated every 300 s.
 */
function smallDay(mode: "cloudsim" | "hyperhook", quirks: Record<string, boolean> = {}) {
  return parseDatacenter({
    schema: "hyperhook.datacenter/v1",
    name: "small-day",
    policies: { placement: fixture("relieve") },
    stopAt: "900s",
    datacenter: {
      mode,
      quirks,
      interval: "300s",
      hostTypes: [{
        id: "h",
        cores: 1,
        mips: 1000,
        ram: 4096,
        bandwidth: 1000,
        power: LINEAR_POWER,
      }],
      hosts: [{ type: "h", count: 2 }],
      vmTypes: [{ id: "v", mips: 500, ram: 1000, bandwidth: 100 }],
      vms: [
        { id: "A", type: "v", demand: { utilization: [100, 100, 100, 100] } },
        { id: "B", type: "v", demand: { utilization: [100, 100, 100, 100] } },
        { id: "C", type: "v", demand: { utilization: [10, 10, 10, 10] } },
        { id: "D", type: "v", demand: { utilization: [100, 0, 0, 0] } },
      ],
    },
  });
}

Deno.test("cloudsim mode: books from 300.1 s by trapezoids, the zero-demand VM leaves, the migration target counts as SLA time", async () => {
  const report = await simulateDatacenter(smallDay("cloudsim"), { isolation: "none" });
  const dc = report.datacenter!;
  assert.deepEqual(report.incidents, []);
  // D asks for 0 at 300.1 s (samples 1 and 2 are both 0): it leaves before the evaluation.
  assert.equal(dc.vmsLeft, 1);
  assert.equal(dc.migrations, 1);
  assert.deepEqual(dc.timeline.atNs, [300_100_000_000, 600_100_000_000]);
  // Frames from the first evaluation to the last update (600.1 s), ½(P(u0) + P(u1)) Δt:
  // [300.1, 316.1) host 0 at 100 % then 50 %, host 1 at 10 % (C, A's reservation) then 55 %;
  // [316.1, 600.1) host 0 at 50 %, host 1 at 55 %. Nothing before 300.1 s nor after 600.1 s.
  const joules = (200 + 150) / 2 * 16 + (110 + 155) / 2 * 16 + 150 * 284 + 155 * 284;
  close(dc.energyKwh * 3.6e6, joules, "energy (J)");
  // Host 1 lists A at 500 MIPS requested but 50 allocated while it comes in: 16 s of SLA time,
  // of 2 × 300 active host-seconds.
  close(dc.slatah, 16 / 600, "SLATAH");
  // A loses 50 MIPS for 16 s, of (500 + 500 + 50) MIPS for 300 s.
  close(dc.pdm, 800 / 315_000, "PDM");
  assert.equal(dc.hostShutdowns, 0);
});

Deno.test("hyperhook mode: the same day books from 0 s exactly, keeps D, and finds no saturation", async () => {
  const report = await simulateDatacenter(smallDay("hyperhook"), { isolation: "none" });
  const dc = report.datacenter!;
  assert.equal(dc.vmsLeft, 0);
  assert.equal(dc.migrations, 1);
  assert.deepEqual(dc.timeline.atNs, [300e9, 600e9]);
  // [0, 300): host 0 100 %, host 1 (C 50 + D 500) 55 %; at 300 s D drops to 0 and A moves:
  // [300, 316): host 0 100 %, host 1 (50 + 0 + 50) 10 %; [316, 900): host 0 50 %, host 1 55 %.
  const joules = (200 + 155) * 300 + (200 + 110) * 16 + (150 + 155) * 584;
  close(dc.energyKwh * 3.6e6, joules, "energy (J)");
  assert.equal(dc.slatah, 0);
  // Demand: (500 + 500 + 50 + 500) for 300 s, then (500 + 500 + 50) for 600 s.
  close(dc.pdm, 800 / (1550 * 300 + 1050 * 600), "PDM");
});

Deno.test("pre-copy: rounds resend dirtied pages until the rest fits 300 ms, then a pause", async () => {
  const spec = overloadWorkload({ use: fixture("relieve") }) as {
    datacenter: Record<string, unknown> & { vmTypes: Record<string, unknown>[] };
  };
  spec.datacenter.vmTypes[0]!.dirtyRate = 20;
  spec.datacenter.migration = { model: "precopy", downtime: "300ms" };
  const dc = (await simulateDatacenter(parseDatacenter(spec), { isolation: "none" })).datacenter!;
  // 62.5 MB/s; 1000 MB take 16 s, meanwhile 320 MB are dirtied (5.12 s), then 102.4 MB
  // (1.6384 s), then 32.768 MB (0.524288 s); the last 10.48576 MB fit in 0.16777216 s: a pause.
  const copy = 16 + 5.12 + 1.6384 + 0.524288, pause = 0.16777216;
  assert.equal(dc.meanMigrationNs, 23_282_688_000 + 167_772_160);
  // A loses 10 % of 500 MIPS while it is copied and all of it while it is paused.
  close(dc.pdm, (50 * copy + 500 * pause) / 840_000, "PDM");
  const arrived = 300 + copy + pause;
  const joules = (200 + 110) * 300 + (200 + 115) * copy + (150 + 115) * pause +
    (150 + 160) * (400 - arrived) + (200 + 150) * 200;
  close(dc.energyKwh * 3.6e6, joules, "energy (J)");
});

Deno.test("quirks turn off one at a time: SLATAH from saturation, the zero-demand VM kept", async () => {
  const saturation = await simulateDatacenter(
    smallDay("cloudsim", { slaCountsTargets: false }),
    { isolation: "none" },
  );
  // Nothing is saturated: without counting the migration target, SLATAH is 0; the rest as before.
  assert.equal(saturation.datacenter!.slatah, 0);
  close(saturation.datacenter!.pdm, 800 / 315_000, "PDM");
  const kept = await simulateDatacenter(smallDay("cloudsim", { leaveAtZero: false }), {
    isolation: "none",
  });
  assert.equal(kept.datacenter!.vmsLeft, 0);
  // D stays on host 1 at 0 MIPS: the same energy (an idle VM adds nothing to a busy host's u).
  close(kept.datacenter!.energyKwh, saturation.datacenter!.energyKwh, "energy");
});
