// Small datacenters worked out by hand: placement, energy to the joule, one migration (its
// duration, the demand it costs, the energy while it runs), SLATAH and PDM.
import assert from "node:assert/strict";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import {
  createDatacenterSimulation,
  simulateDatacenter,
} from "../../core/datacenter/simulation.ts";
import { fixture, LINEAR_POWER, overloadWorkload, shutdownWorkload } from "./_helpers.ts";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual}, expected ${expected}`,
  );

Deno.test("first fit places by full MIPS and RAM; an hour at 50 % and 10 % costs 0.26 kWh", async () => {
  const workload = parseDatacenter({
    schema: "hyperhook.datacenter/v1",
    name: "first-fit",
    policies: { placement: "dvfs" },
    datacenter: {
      hostTypes: [{
        id: "h",
        cores: 2,
        mips: 1000,
        ram: 2048,
        bandwidth: 1000,
        power: LINEAR_POWER,
      }],
      hosts: [{ type: "h", count: 3 }],
      vmTypes: [{ id: "v", mips: 1000, ram: 1024, bandwidth: 100 }],
      vms: [
        { type: "v", count: 2, demand: { utilization: [50], interval: "1h" } },
        { type: "v", demand: { utilization: [20], interval: "1h" } },
      ],
    },
  });
  const simulation = await createDatacenterSimulation(workload);
  try {
    await simulation.run();
    // Two VMs of 1000 MIPS and 1024 MB fill host 0 (2000 MIPS, 2048 MB); the third goes to host 1.
    assert.deepEqual([...simulation.domain.placement()], [0, 0, 1]);
    const figures = simulation.report().datacenter!;
    // Host 0 at 1000/2000 = 50 %: 150 W; host 1 at 200/2000 = 10 %: 110 W; host 2 off. One hour.
    close(figures.energyKwh * 3.6e6, (150 + 110) * 3600, "energy (J)");
    assert.equal(figures.energyKwh, 0.26);
    assert.equal(figures.migrations, 0);
    assert.equal(figures.slatah, 0);
    assert.equal(figures.hostShutdowns, 0);
    assert.deepEqual(simulation.report().datacenter!.hostFigures.map((h) => h.activeNs), [
      3600e9,
      3600e9,
      0,
    ]);
  } finally {
    await simulation.close();
  }
});

Deno.test("an overload at 300 s moves one VM in 16 s: energy to the joule, SLATAH 1/6, PDM 1/1050", async () => {
  const report = await simulateDatacenter(
    parseDatacenter(overloadWorkload(fixture("relieve"))),
    { isolation: "none" },
  );
  const dc = report.datacenter!;
  assert.deepEqual(report.incidents, []);
  // A and B fill host 0 (500 + 500 MIPS); C and D go to host 1. At 300 s host 0 is asked for
  // 1000 > 800 MIPS: A (1000 MB) moves to host 1, at half of 1000 Mbit/s: 1000 / 62.5 = 16 s.
  assert.equal(dc.migrations, 1);
  assert.equal(dc.meanMigrationNs, 16_000_000_000);
  // [0, 300)   host 0 at 100 %: 200 W; host 1 at 10 %: 110 W             93,000 J
  // [300, 316) host 0 counts A in full: 200 W; host 1 reserves 10 % of A:
  //            (50 + 50 + 50) / 1000 = 15 %: 115 W                          5,040 J
  // [316, 400) host 0 at 50 %: 150 W; host 1 at 60 %: 160 W                26,040 J
  // [400, 600) C and D rise: host 1 is asked 1500 of 1000 MIPS: 200 W + 150 W  70,000 J
  close(dc.energyKwh * 3.6e6, 93_000 + 5_040 + 26_040 + 70_000, "energy (J)");
  // Host 1 saturated for 200 s of 1200 active host-seconds.
  close(dc.slatah, 200 / 1200, "SLATAH");
  // A loses 10 % of 500 MIPS for 16 s = 800 MIPS·s, of 1100 × 400 + 2000 × 200 = 840,000.
  close(dc.pdm, 800 / 840_000, "PDM");
  close(dc.slav, (200 / 1200) * (800 / 840_000), "SLAV");
  close(dc.esv, dc.energyKwh * dc.slav, "ESV");
  // Saturation costs C, D and A a third of 500 MIPS each for 200 s: 100,000, plus the 800.
  close(dc.slaOverall, 100_800 / 840_000, "SLA overall");
  assert.equal(dc.hostShutdowns, 0);
  assert.equal(dc.vms, 4);
  assert.deepEqual(dc.hostFigures.map((h) => h.slaNs), [0, 200e9]);
  close(dc.hostFigures[1]!.energyKwh * 3.6e6, 110 * 300 + 115 * 16 + 160 * 84 + 200 * 200, "h1");
  assert.deepEqual(dc.timeline.atNs, [300e9]);
  assert.deepEqual(dc.timeline.activeHosts, [2]);
});

Deno.test("an emptied host shuts down and draws nothing", async () => {
  // See shutdownWorkload: host 0 is active until A's migration away completes at 316 s, then off.
  const workload = parseDatacenter(shutdownWorkload());
  const report = await simulateDatacenter(workload, { isolation: "none" });
  const dc = report.datacenter!;
  assert.equal(dc.migrations, 1);
  assert.equal(dc.vmsLeft, 1);
  assert.equal(dc.hostShutdowns, 1);
  // Host 0: 400 MIPS (40 %) for 300 s, then A alone migrating out (200 MIPS, 20 %) for 16 s.
  // Host 1: C (100 MIPS) alone, then with A's reservation (20 MIPS), then with A (300 MIPS)
  // until A's curve ends at 600 s.
  close(dc.hostFigures[0]!.energyKwh * 3.6e6, 140 * 300 + 120 * 16, "host 0 (J)");
  close(dc.hostFigures[1]!.energyKwh * 3.6e6, 110 * 300 + 112 * 16 + 130 * 284, "host 1 (J)");
  assert.equal(dc.hostFigures[0]!.activeNs, 316e9);
});
