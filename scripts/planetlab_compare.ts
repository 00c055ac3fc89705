/**
 * Replays the PlanetLab example (300 VMs of `../shared/traces/planetlab-20110303`) under several
 * CPU policies and prints, for each, how much of every VM's demanded CPU it delivered.
 *
 * ```sh
 * deno task planetlab [--cpu rr,credit,fair] [--pcpus N] [--vms] [--workload FILE]
 * ```
 *
 * `--pcpus` resizes the host (the example has 64 pCPUs for a peak demand of 38.1), `--vms` adds a
 * table row per VM. Exit 0 when every policy delivered every VM's demand within 1 %, 1 when one
 * did not, 2 on bad input or when the traces are absent.
 *
 * @module
 */

import { isBadInput, parseFlags } from "../core/commands/common.ts";
import { simulate } from "../core/simulation/mod.ts";
import { renderTable } from "../core/report/table.ts";
import { readWorkload } from "../core/workload/load.ts";
import type { Report } from "../core/report/report.ts";

const DEFAULT_WORKLOAD = new URL("../examples/workloads/planetlab_replay.json", import.meta.url);
const TRACES = new URL("../../shared/traces/planetlab-20110303/", import.meta.url);
const TOLERANCE = 0.01;

/** Delivered over demanded CPU of every VM that asked for some, in workload order. */
function ratios(report: Report): { id: string; demandNs: number; ratio: number }[] {
  return report.vms.filter((vm) => (vm.cpu.demandNs ?? 0) > 0)
    .map((vm) => ({
      id: vm.id,
      demandNs: vm.cpu.demandNs!,
      ratio: vm.cpu.runNs / vm.cpu.demandNs!,
    }));
}

const USAGE = "Usage: deno task planetlab [--cpu rr,credit,fair] [--pcpus N] [--vms] " +
  "[--workload FILE]";

/** Bad input: one line on stderr, exit 2. */
class BadInput extends Error {}

async function main(): Promise<number> {
  const { values } = parseFlags(Deno.args, {
    cpu: { type: "string", default: "rr,credit,fair" },
    pcpus: { type: "string" },
    vms: { type: "boolean", default: false },
    workload: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    await Deno.stat(TRACES);
  } catch {
    console.error(
      `The PlanetLab traces are absent: expected them in ${decodeURIComponent(TRACES.pathname)}`,
    );
    return 2;
  }
  const workload = await readWorkload(
    typeof values.workload === "string"
      ? values.workload
      : decodeURIComponent(DEFAULT_WORKLOAD.pathname),
  );
  if (values.pcpus !== undefined) {
    const pcpus = Number(values.pcpus);
    if (!Number.isInteger(pcpus) || pcpus < 1 || pcpus > 4096) {
      throw new BadInput(`--pcpus: expected an integer from 1 to 4096, got ${values.pcpus}`);
    }
    workload.host = { ...workload.host, pcpus };
  }
  const policies = String(values.cpu).split(",").map((name) => name.trim()).filter(Boolean);
  if (policies.length === 0) {
    throw new BadInput(`--cpu: expected a comma-separated list of policies, got ${values.cpu}`);
  }
  const results: { policy: string; report: Report; ratios: ReturnType<typeof ratios> }[] = [];
  for (const policy of policies) {
    const report = await simulate(workload, { policies: { cpu: { use: policy } } });
    results.push({ policy, report, ratios: ratios(report) });
  }
  if (results[0]!.ratios.length === 0) {
    throw new BadInput(
      `Workload ${workload.name}: expected VMs with a demand (a trace or a utilization curve), ` +
        "got none",
    );
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(
    `${workload.name}: ${workload.vms.length} VMs on ${workload.host.pcpus} pCPUs, ` +
      `delivered / demanded CPU per VM (within ${100 * TOLERANCE} % counts as met)`,
  );
  const summary = [["policy", "VMs met", "worst", "worst VM", "mean", "utilization", "wall"]];
  let allMet = true;
  for (const { policy, report, ratios } of results) {
    const worst = ratios.reduce((a, b) => b.ratio < a.ratio ? b : a);
    const met = ratios.filter((r) => Math.abs(r.ratio - 1) <= TOLERANCE).length;
    allMet &&= met === ratios.length;
    summary.push([
      policy,
      `${met}/${ratios.length}`,
      pct(worst.ratio),
      worst.id,
      pct(ratios.reduce((sum, r) => sum + r.ratio, 0) / ratios.length),
      pct(report.host.cpu.utilization),
      `${report.wallMs} ms`,
    ]);
  }
  console.log(renderTable(summary));
  if (values.vms) {
    const rows = [["vm", "demand", ...policies]];
    results[0]!.ratios.forEach((vm, i) => {
      rows.push([
        vm.id,
        `${(vm.demandNs / 1e6).toFixed(1)} ms`,
        ...results.map((r) => pct(r.ratios[i]!.ratio)),
      ]);
    });
    console.log("\n" + renderTable(rows));
  }
  return allMet ? 0 : 1;
}

try {
  Deno.exit(await main());
} catch (error) {
  if (!(error instanceof BadInput) && !isBadInput(error)) throw error;
  console.error((error as Error).message);
  Deno.exit(2);
}
