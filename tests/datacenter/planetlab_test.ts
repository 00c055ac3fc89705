// CloudSim 3.0.3's PlanetLab day (../shared/datacenter/CLOUDSIM.md): the figures CloudSim's own
// logs give for that day, reproduced in cloudsim mode. Needs ../shared/traces (skipped without).
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { parseDatacenter, readDatacenter } from "../../core/datacenter/schema.ts";
import {
  createDatacenterSimulation,
  simulateDatacenter,
} from "../../core/datacenter/simulation.ts";

const EXAMPLE = new URL("../../examples/datacenter/cloudsim_planetlab.json", import.meta.url);
const TRACES = new URL("../../../shared/traces/planetlab-20110303/", import.meta.url);
const present = (() => {
  try {
    return Deno.statSync(TRACES).isDirectory;
  } catch {
    return false;
  }
})();
if (!present) {
  console.warn(
    "Skipping the CloudSim PlanetLab tests: ../shared/traces/planetlab-20110303 is absent " +
      "(the measured traces live in ../shared/traces, outside the repository).",
  );
}

async function run(placement: string, mode?: "hyperhook") {
  const json = JSON.parse(await Deno.readTextFile(EXAMPLE));
  if (mode !== undefined) json.datacenter.mode = mode;
  const workload = parseDatacenter(json, { baseDir: dirname(EXAMPLE.pathname) });
  return await simulateDatacenter(workload, { policies: { placement: { use: placement } } });
}

Deno.test({
  name: "CloudSim PlanetLab day, NPA: 2410.80 kWh (every host at full power to 86100.1 s)",
  ignore: !present,
  async fn() {
    const dc = (await run("npa")).datacenter!;
    // 400 × 117 W + 400 × 135 W = 100.8 kW for 86,100.1 s.
    assert.equal(dc.energyKwh.toFixed(2), "2410.80");
    assert.ok(Math.abs(dc.energyKwh - 100_800 * 86_100.1 / 3.6e6) < 1e-6);
    assert.equal(dc.migrations, 0);
  },
});

Deno.test({
  name: "CloudSim PlanetLab day, DVFS: 532 VMs leave at zero demand, as CloudSim's log shows",
  ignore: !present,
  async fn() {
    const simulation = await createDatacenterSimulation(await readDatacenter(EXAMPLE.pathname), {
      policies: { placement: { use: "dvfs" } },
    });
    await simulation.run();
    await simulation.close();
    const dc = simulation.report().datacenter!;
    assert.equal(dc.vms, 1052);
    assert.equal(dc.vmsLeft, 532);
    // VMs still running after evaluations 12, 48, 96 and 287 (CLOUDSIM.md's table).
    assert.deepEqual([12, 48, 96, 287].map((k) => dc.timeline.vms[k - 1]), [738, 594, 565, 520]);
    // 58 VMs leave at the first evaluation, 300.1 s.
    assert.equal(dc.timeline.atNs[0], 300_100_000_000);
    assert.equal(dc.timeline.vms[0], 1052 - 58);
    // First fit: 414 hosts hold VMs (the highest is host 525), 386 stay empty.
    const used = new Set(simulation.domain.placement());
    assert.equal(used.size, 414);
    assert.equal(Math.max(...used), 525);
  },
});

Deno.test({
  name: "hyperhook mode keeps the VMs whose demand touches zero",
  ignore: !present,
  async fn() {
    const dc = (await run("dvfs", "hyperhook")).datacenter!;
    assert.equal(dc.vmsLeft, 0);
    assert.deepEqual(dc.timeline.vms.slice(0, 3), [1052, 1052, 1052]);
  },
});

Deno.test({
  name:
    "CloudSim PlanetLab day, LR-MMT: 532 VMs leave, migrations of 13.9–19.7 s, LRR-MMT identical",
  ignore: !present,
  async fn() {
    const lr = await run("lr-mmt"), lrr = await run("lrr-mmt");
    const dc = lr.datacenter!;
    assert.equal(dc.vmsLeft, 532);
    assert.deepEqual([12, 48, 96, 287].map((k) => dc.timeline.vms[k - 1]), [738, 594, 565, 520]);
    // CloudSim's "mean time before a VM migration" is the mean migration time: 13.9–19.7 s.
    assert.ok(dc.meanMigrationNs >= 13.9e9 && dc.meanMigrationNs <= 19.7e9);
    assert.deepEqual(lr.incidents, []);
    // LRR never re-weights on this day (CLOUDSIM.md): the same decisions, the same figures.
    assert.equal(lrr.eventsHash, lr.eventsHash);
    assert.deepEqual(lrr.datacenter, lr.datacenter);
  },
});
