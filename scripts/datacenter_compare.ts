/**
 * The independent check of the datacenter layer against CloudSim 3.0.3 on its PlanetLab day
 * (`examples/datacenter/cloudsim_planetlab.json`): for every built-in placement policy, runs the
 * day in `cloudsim` mode and checks every figure of CloudSim's own that
 * `../shared/datacenter/CLOUDSIM.md` gives for it (NPA's energy, first fit's hosts, the VMs that
 * leave and when, LRR-MMT equal to LR-MMT, the mean migration time, SLATAH from migration targets);
 * then prints the figures of every built-in in `cloudsim` mode beside `hyperhook` mode, and, for a
 * few policies, with CloudSim's quirks turned off one at a time. Markdown tables; the tables of
 * docs/datacenter.md come from here. Exit 1 when a check fails.
 *
 * `deno run -A scripts/datacenter_compare.ts [policies] [quirk-policies]` (comma-separated lists,
 * or - for none; default: every built-in, and lr-mmt,thr-mmt)
 *
 * @module
 */

import { dirname } from "node:path";
import { parseDatacenter } from "../core/datacenter/schema.ts";
import { createDatacenterSimulation, simulateDatacenter } from "../core/datacenter/simulation.ts";
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

/** The consolidation policies (they migrate). */
const CONSOLIDATION = ["thr-mmt", "iqr-mc", "mad-mmt", "lr-mmt", "lrr-mmt"];

try {
  Deno.statSync(TRACES);
} catch {
  console.log("Skipping: ../shared/traces/planetlab-20110303 is absent.");
  Deno.exit(0);
}

async function workload(mode: "cloudsim" | "hyperhook", quirks: Partial<Quirks> = {}) {
  const json = JSON.parse(await Deno.readTextFile(EXAMPLE));
  json.datacenter.mode = mode;
  json.datacenter.quirks = quirks;
  return parseDatacenter(json, { baseDir: dirname(EXAMPLE) });
}

/** Runs are kept: the checks and the tables share them. */
const runs = new Map<string, { report: DatacenterReport; hash: string }>();

async function runFull(
  policy: string,
  mode: "cloudsim" | "hyperhook",
  quirks: Partial<Quirks> = {},
): Promise<{ report: DatacenterReport; hash: string }> {
  const key = `${policy} ${mode} ${JSON.stringify(quirks)}`;
  const kept = runs.get(key);
  if (kept !== undefined) return kept;
  const started = performance.now();
  const report = await simulateDatacenter(await workload(mode, quirks), {
    policies: { placement: { use: policy } },
  });
  console.error(
    `${key}: ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s, ${report.incidents.length} incident(s)`,
  );
  if (report.incidents.length > 0) throw new Error(`${key}: ${report.incidents[0]!.message}`);
  const run = { report: report.datacenter!, hash: report.eventsHash };
  runs.set(key, run);
  return run;
}

async function run(
  policy: string,
  mode: "cloudsim" | "hyperhook",
  quirks: Partial<Quirks> = {},
): Promise<DatacenterReport> {
  return (await runFull(policy, mode, quirks)).report;
}

/** The hosts holding VMs after the placement at t = 0 (cloudsim mode). */
async function firstPlacement(policy: string): Promise<number[]> {
  const simulation = await createDatacenterSimulation(await workload("cloudsim"), {
    policies: { placement: { use: policy } },
  });
  try {
    await simulation.run(1);
    return [...new Set(simulation.domain.placement())].filter((h) => h >= 0);
  } finally {
    await simulation.close();
  }
}

/** One check: CloudSim's figure, ours, and whether they agree. */
interface Check {
  policy: string;
  figure: string;
  cloudsim: string;
  ours: string;
  agrees: boolean;
}

/** Every figure of CloudSim's own that CLOUDSIM.md gives for `policy` on this day. */
async function checks(policy: string): Promise<Check[]> {
  const out: Check[] = [];
  const add = (figure: string, cloudsim: string, ours: string, agrees: boolean) =>
    out.push({ policy, figure, cloudsim, ours, agrees });
  const dc = await run(policy, "cloudsim");
  if (policy === "npa") {
    add(
      "energy",
      "2410.80 kWh",
      `${dc.energyKwh.toFixed(2)} kWh`,
      dc.energyKwh.toFixed(2) === "2410.80",
    );
  }
  if (policy === "npa" || policy === "dvfs") {
    const used = await firstPlacement(policy);
    const highest = Math.max(...used);
    add(
      "hosts used by first fit (highest id)",
      "414 (525)",
      `${used.length} (${highest})`,
      used.length === 414 && highest === 525,
    );
  }
  // The VMs that leave are the trace's and the rule's: the same count whatever the policy.
  add("VMs that leave", "532", `${dc.vmsLeft}`, dc.vmsLeft === 532);
  const vms = dc.timeline.vms;
  add("VMs leaving at 300.1 s", "58", `${1052 - vms[0]!}`, vms[0] === 1052 - 58);
  // "Within the first hour": by evaluation 11 (3300.1 s), the last before 3600 s.
  add("VMs left within the first hour", "294", `${1052 - vms[10]!}`, vms[10] === 1052 - 294);
  const alive = [12, 48, 96, 287].map((k) => vms[k - 1]!);
  add(
    "VMs alive after evaluations 12, 48, 96, 287",
    "738, 594, 565, 520",
    alive.join(", "),
    alive.join(", ") === "738, 594, 565, 520",
  );
  if (CONSOLIDATION.includes(policy)) {
    const seconds = dc.meanMigrationNs / 1e9;
    add(
      "mean migration time",
      "13.9–19.7 s",
      `${seconds.toFixed(2)} s`,
      seconds >= 13.9 && seconds <= 19.7,
    );
    const real = await run(policy, "cloudsim", { slaCountsTargets: false });
    const ratio = dc.slatah / real.slatah;
    // "About": a tenth either way.
    add(
      "SLATAH over SLATAH from real saturation",
      "about 8–90×",
      `${ratio.toFixed(1)}×`,
      ratio >= 8 / 1.1 && ratio <= 90 * 1.1,
    );
  }
  if (policy === "lrr-mmt") {
    const lr = await runFull("lr-mmt", "cloudsim"), lrr = await runFull("lrr-mmt", "cloudsim");
    const same = JSON.stringify(lr.report) === JSON.stringify(lrr.report);
    add(
      "LRR-MMT against LR-MMT",
      "bit-identical",
      same && lr.hash === lrr.hash ? "identical figures and eventsHash" : "different",
      same && lr.hash === lrr.hash,
    );
  }
  return out;
}

function figures(dc: DatacenterReport): string {
  return `${dc.energyKwh.toFixed(2)} | ${dc.migrations} | ${(100 * dc.slatah).toFixed(3)} % | ${
    (100 * dc.pdm).toFixed(4)
  } % | ${dc.slav.toExponential(3)} | ${
    dc.esv.toExponential(3)
  } | ${dc.hostShutdowns} | ${dc.vmsLeft} | ${dc.unplaced}`;
}

function row(label: string, dc: DatacenterReport): string {
  return `| ${label} | ${figures(dc)} |`;
}

const FIGURES =
  "energy kWh | migrations | SLATAH | PDM | SLAV | ESV | shutdowns | VMs left | unplaced";
const HEADER = [`| run | ${FIGURES} |`, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"];
// "-" skips a table.
const chosen = Deno.args[0] === "-" ? [] : Deno.args[0]?.split(",") ?? POLICIES;
const quirkPolicies = Deno.args[1] === "-" ? [] : Deno.args[1]?.split(",") ?? ["lr-mmt", "thr-mmt"];
const checked = [
  "| policy | CloudSim's figure (CLOUDSIM.md) | CloudSim 3.0.3 | hyperhook, cloudsim mode | agrees |",
  "|---|---|--:|--:|:-:|",
];
let failed = 0;
for (const policy of chosen) {
  for (const check of await checks(policy)) {
    if (!check.agrees) failed++;
    checked.push(
      `| ${check.policy} | ${check.figure} | ${check.cloudsim} | ${check.ours} | ${
        check.agrees ? "yes" : "**no**"
      } |`,
    );
  }
}
// Each policy's two modes on adjacent rows.
const main = [...HEADER];
for (const policy of chosen) {
  main.push(row(`${policy}, cloudsim`, await run(policy, "cloudsim")));
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
console.log(checked.join("\n"));
console.log();
console.log(main.join("\n"));
console.log();
console.log(quirks.join("\n"));
if (failed > 0) {
  console.error(`${failed} check(s) of CloudSim's own figures failed`);
  Deno.exit(1);
}
