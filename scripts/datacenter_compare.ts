/**
 * Runs the CloudSim PlanetLab day (`examples/datacenter/cloudsim_planetlab.json`) under every
 * built-in placement policy in `cloudsim` mode and in `hyperhook` mode, then, for a few policies,
 * with CloudSim's quirks turned off one at a time, and prints Markdown tables with CloudSim
 * 3.0.3's own figures where `../shared/datacenter/CLOUDSIM.md` gives them (the tables of
 * docs/datacenter.md come from here).
 *
 * `deno run -A scripts/datacenter_compare.ts [policies] [quirk-policies]` (comma-separated lists,
 * or - for none; default: every built-in, and lr-mmt,dvfs)
 *
 * @module
 */

import { dirname } from "node:path";
import { parseDatacenter } from "../core/datacenter/schema.ts";
import { simulateDatacenter } from "../core/datacenter/simulation.ts";
import type { DatacenterReport } from "../core/datacenter/report.ts";
import type { Quirks } from "../core/datacenter/types.ts";

const EXAMPLE = new URL("../examples/datacenter/cloudsim_planetlab.json", import.meta.url).pathname;
const TRACES = new URL("../../shared/traces/planetlab-20110303/", import.meta.url);
const POLICIES = ["npa", "dvfs", "thr-mmt", "iqr-mc", "mad-mmt", "lr-mmt", "lrr-mmt", "nova"];
const QUIRKS: (keyof Quirks)[] = [
  "leaveAtZero",
  "slaCountsTargets",
  "booksFromFirstEvaluation",
  "ramOnlyAtStart",
  "demandAtUpdates",
  "floorShares",
];

/** CloudSim 3.0.3's own figures for the day, as CLOUDSIM.md gives them. */
const CLOUDSIM: Record<string, string> = {
  npa: "2410.80 kWh; 532 VMs leave",
  dvfs: "532 VMs leave (738, 594, 565, 520 alive after evaluations 12, 48, 96, 287)",
  "lr-mmt": "532 VMs leave; LRR-MMT equals LR-MMT",
  "lrr-mmt": "equals LR-MMT",
};

try {
  Deno.statSync(TRACES);
} catch {
  console.log("Skipping: ../shared/traces/planetlab-20110303 is absent.");
  Deno.exit(0);
}

async function run(
  policy: string,
  mode: "cloudsim" | "hyperhook",
  quirks: Partial<Quirks> = {},
): Promise<DatacenterReport> {
  const json = JSON.parse(await Deno.readTextFile(EXAMPLE));
  json.datacenter.mode = mode;
  json.datacenter.quirks = quirks;
  const workload = parseDatacenter(json, { baseDir: dirname(EXAMPLE) });
  const started = performance.now();
  const report = await simulateDatacenter(workload, { policies: { placement: { use: policy } } });
  console.error(
    `${policy} ${mode} ${JSON.stringify(quirks)}: ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s, ${report.incidents.length} incident(s)`,
  );
  return report.datacenter!;
}

function row(label: string, dc: DatacenterReport, note = ""): string {
  return `| ${label} | ${dc.energyKwh.toFixed(2)} | ${dc.migrations} | ${
    (100 * dc.slatah).toFixed(3)
  } % | ${(100 * dc.pdm).toFixed(4)} % | ${dc.slav.toExponential(3)} | ${
    dc.esv.toExponential(3)
  } | ${dc.hostShutdowns} | ${dc.vmsLeft} | ${dc.unplaced} | ${note || "–"} |`;
}

const HEADER = [
  "| run | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | shutdowns | VMs left | unplaced | CloudSim's own |",
  "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
];
// "-" skips a table.
const chosen = Deno.args[0] === "-" ? [] : Deno.args[0]?.split(",") ?? POLICIES;
const quirkPolicies = Deno.args[1] === "-" ? [] : Deno.args[1]?.split(",") ?? ["lr-mmt", "dvfs"];
const main = [...HEADER];
for (const policy of chosen) {
  main.push(row(`${policy}, cloudsim`, await run(policy, "cloudsim"), CLOUDSIM[policy]));
  main.push(row(`${policy}, hyperhook`, await run(policy, "hyperhook")));
}
const quirks = [...HEADER];
for (const policy of quirkPolicies) {
  quirks.push(row(`${policy}, cloudsim (every quirk)`, await run(policy, "cloudsim")));
  for (const quirk of QUIRKS) {
    quirks.push(
      row(
        `${policy}, cloudsim without ${quirk}`,
        await run(policy, "cloudsim", { [quirk]: false }),
      ),
    );
  }
  const all = Object.fromEntries(QUIRKS.map((quirk) => [quirk, true]));
  quirks.push(
    row(
      `${policy}, CloudSim's accounting, policy without its quirks`,
      await run(policy, "hyperhook", all),
    ),
  );
}
console.log(main.join("\n"));
console.log();
console.log(quirks.join("\n"));
