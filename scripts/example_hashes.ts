/**
 * Prints the `eventsHash` of every example workload (each under its own policies, and the demo
 * under every built-in CPU policy) and of the benches' workloads, one per line: what a change of
 * the decision log's encoding maps from old to new, and what a branch compares before and after
 * a change that must keep every hash.
 *
 * ```sh
 * deno run -A scripts/example_hashes.ts [--bench]
 * ```
 *
 * `--bench` adds the benches' workloads (the scale, memory and I/O ones; a few seconds more).
 * `live.json` (24 hours, for the live server) runs its first 60 simulated seconds. Workloads whose
 * trace files are absent (`../shared/traces`) are listed as skipped.
 *
 * @module
 */

import { simulate } from "../core/simulation/mod.ts";
import { parseWorkload, readWorkload } from "../core/workload/load.ts";
import type { Workload } from "../core/workload/schema.ts";
import type { SimulateOptions } from "../core/simulation/mod.ts";
import { ioWorkload, memoryWorkload, scaleWorkload } from "../bench/_workloads.ts";

const CPU_POLICIES = ["fcfs", "sjf", "srtf", "priority", "rr", "credit", "credit2", "rtds", "fair"];
const dir = new URL("../examples/workloads/", import.meta.url).pathname;
const runs: [string, () => Promise<Workload>, SimulateOptions][] = [];
const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
  name.endsWith(".json")
).sort();
for (const name of names) {
  if (name === "live.json") {
    const first60s = async () => ({ ...await readWorkload(`${dir}${name}`), stopAt: 60e9 });
    runs.push([`${name} (first 60 s)`, first60s, {}]);
    continue;
  }
  runs.push([name, () => readWorkload(`${dir}${name}`), {}]);
  if (name === "demo.json") {
    for (const cpu of CPU_POLICIES) {
      runs.push([`demo.json --cpu ${cpu}`, () => readWorkload(`${dir}${name}`), {
        policies: { cpu: { use: cpu } },
      }]);
    }
  }
}
if (Deno.args.includes("--bench")) {
  runs.push([
    "bench scale (bench/_workloads.ts)",
    () => Promise.resolve(parse(scaleWorkload())),
    {},
  ]);
  runs.push([
    "bench memory, low watermark 512",
    () => Promise.resolve(parse(memoryWorkload({ lowWatermark: 512 }))),
    {},
  ]);
  runs.push([
    "bench io, deadline, 400,000 requests",
    () => Promise.resolve(parse(ioWorkload("deadline", 400_000))),
    {},
  ]);
}

function parse(json: unknown): Workload {
  return parseWorkload(json);
}

for (const [label, load, options] of runs) {
  try {
    const report = await simulate(await load(), options);
    console.log(`${report.eventsHash}  ${label}`);
  } catch (error) {
    console.log(
      `${"-".repeat(64)}  ${label}: skipped (${(error as Error).message.split("\n")[0]})`,
    );
  }
}
