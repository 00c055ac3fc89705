/**
 * Runs the CloudSim PlanetLab day (`examples/datacenter/cloudsim_planetlab.json`) under every
 * built-in placement policy, in `cloudsim` mode and in `hyperhook` mode, and prints the figures
 * side by side as a Markdown table, with CloudSim 3.0.3's own figures where
 * `../shared/datacenter/CLOUDSIM.md` gives them (the table of docs/datacenter.md comes from here).
 *
 * `deno run -A scripts/datacenter_compare.ts [policy,policy,...]`
 *
 * @module
 */

import { readDatacenter } from "../core/datacenter/schema.ts";
import { simulateDatacenter } from "../core/datacenter/simulation.ts";
import type { DatacenterReport } from "../core/datacenter/report.ts";

const EXAMPLE = new URL("../examples/datacenter/cloudsim_planetlab.json", import.meta.url).pathname;
const TRACES = new URL("../../shared/traces/planetlab-20110303/", import.meta.url);
const POLICIES = ["npa", "dvfs", "thr-mmt", "iqr-mc", "mad-mmt", "lr-mmt", "lrr-mmt", "nova"];

/** CloudSim 3.0.3's own figures for the day, as CLOUDSIM.md gives them. */
const CLOUDSIM: Record<string, Partial<Record<keyof DatacenterReport, number>>> = {
  npa: { energyKwh: 2410.80, vmsLeft: 532 },
  dvfs: { vmsLeft: 532 },
  "lr-mmt": { vmsLeft: 532 },
};

try {
  Deno.statSync(TRACES);
} catch {
  console.log("Skipping: ../shared/traces/planetlab-20110303 is absent.");
  Deno.exit(0);
}

const chosen = Deno.args[0]?.split(",") ?? POLICIES;
const rows: string[] = [
  "| policy | mode | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | shutdowns | VMs left | CloudSim's own |",
  "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
];
for (const policy of chosen) {
  for (const mode of ["cloudsim", "hyperhook"] as const) {
    const workload = await readDatacenter(EXAMPLE);
    workload.datacenter.mode = mode;
    const started = performance.now();
    const report = await simulateDatacenter(workload, { policies: { placement: { use: policy } } });
    const dc = report.datacenter!;
    const own = mode === "cloudsim"
      ? Object.entries(CLOUDSIM[policy] ?? {}).map(([key, value]) => `${key} ${value}`).join(", ")
      : "";
    rows.push(
      `| ${policy} | ${mode} | ${dc.energyKwh.toFixed(2)} | ${dc.migrations} | ${
        (100 * dc.slatah).toFixed(3)
      } % | ${(100 * dc.pdm).toFixed(4)} % | ${dc.slav.toExponential(3)} | ${
        dc.esv.toExponential(3)
      } | ${dc.hostShutdowns} | ${dc.vmsLeft} | ${own || "–"} |`,
    );
    console.error(
      `${policy} ${mode}: ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s, ${report.incidents.length} incident(s)`,
    );
  }
}
console.log(rows.join("\n"));
