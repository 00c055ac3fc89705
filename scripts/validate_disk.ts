/**
 * Validates the `hdd` model against a real drive: replays DiskSim's HP C2247A validation trace
 * (9,999 requests with the drive's measured service times) closed-loop through the `HP_C2247A`
 * preset and prints DiskSim's yardstick, the RMS distance between the simulated and measured
 * service-time CDFs (DiskSim 4.0 reaches about 0.090 ms on this drive).
 *
 * ```sh
 * deno run -A scripts/validate_disk.ts [--csv FILE] [--trace PATH] [--gap after-completion|after-start] [--max-rms MS]
 * ```
 *
 * The trace is read from `../shared/traces/disksim-hp_c2247a/hp_c2247a.trace` (next to the
 * repository) unless `--trace` says otherwise. Exit 0 when the RMS is at most `--max-rms`
 * (default 1.0 ms), 1 when above, 2 on bad input or a missing trace.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseValidationTrace } from "../core/io/disk/disksim_trace.ts";
import { HddDiskModel } from "../core/io/disk/hdd.ts";
import { HP_C2247A } from "../core/io/disk/hp_c2247a.ts";
import { readTraceText, TraceFileError } from "../core/workload/trace_file.ts";
import {
  type GapMode,
  replayValidationTrace,
  summarizeValidation,
} from "../core/io/disk/validate.ts";

const DEFAULT_TRACE = new URL(
  "../../shared/traces/disksim-hp_c2247a/hp_c2247a.trace",
  import.meta.url,
);

const USAGE = "Usage: deno run -A scripts/validate_disk.ts [--csv FILE] [--trace PATH] " +
  "[--gap after-completion|after-start] [--max-rms MS]";

function usage(message: string): never {
  console.error(message);
  console.error(USAGE);
  Deno.exit(2);
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        csv: { type: "string" },
        trace: { type: "string" },
        gap: { type: "string", default: "after-completion" },
        "max-rms": { type: "string", default: "1.0" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) {
    console.log(
      "Replays DiskSim's HP C2247A validation trace through the hdd model and prints the RMS\n" +
        "distance between the simulated and measured service-time CDFs (ms).\n" + USAGE,
    );
    Deno.exit(0);
  }
  const gap = values.gap as GapMode;
  if (gap !== "after-completion" && gap !== "after-start") {
    usage(`--gap: expected after-completion or after-start, got "${values.gap}"`);
  }
  const maxRms = Number(values["max-rms"]);
  if (!(maxRms > 0)) {
    usage(`--max-rms: expected a positive number of ms, got "${values["max-rms"]}"`);
  }
  const tracePath = values.trace ?? decodeURIComponent(DEFAULT_TRACE.pathname);
  let text: string;
  try {
    text = readTraceText(tracePath);
  } catch (error) {
    if (error instanceof TraceFileError && error.reason === "no such file") {
      usage(
        `Trace not found: ${tracePath}\n` +
          "The validation replays DiskSim's HP C2247A trace, kept outside the repository in " +
          "../shared/traces/disksim-hp_c2247a/ (see PROVENANCE.md there); pass --trace PATH.",
      );
    }
    usage((error as Error).message);
  }
  let records;
  try {
    records = parseValidationTrace(text, { source: tracePath });
  } catch (error) {
    usage((error as Error).message);
  }
  const model = new HddDiskModel(HP_C2247A);
  const started = performance.now();
  const result = replayValidationTrace(records, model, { gap });
  const wallMs = performance.now() - started;
  const summary = summarizeValidation(records, result);

  console.log(
    `${HP_C2247A.name}: ${summary.count} requests from ${tracePath} (gap ${gap}, ${
      wallMs.toFixed(0)
    } ms wall)`,
  );
  console.log(`rms ${summary.rmsMs.toFixed(4)} ms`);
  console.log(
    "  (RMS horizontal distance of the service-time CDFs at every 0.0001 quantile; " +
      "DiskSim 4.0: 0.090 ms)",
  );
  console.log(
    `mean service: measured ${summary.measuredMeanMs.toFixed(3)} ms, simulated ${
      summary.simulatedMeanMs.toFixed(3)
    } ms; mean |simulated - measured| per request ${summary.meanAbsErrorMs.toFixed(3)} ms`,
  );
  console.log(
    "outcome   measured  simulated   measured-mean-ms  simulated-mean-ms (same requests)",
  );
  for (const [label, stats] of Object.entries(summary.outcomes).sort()) {
    console.log(
      `${label.padEnd(8)} ${String(stats.measuredCount).padStart(9)} ${
        String(stats.simulatedCount).padStart(10)
      } ${stats.measuredMeanMs.toFixed(3).padStart(18)} ${
        stats.simulatedMeanMs.toFixed(3).padStart(18)
      }`,
    );
  }
  if (values.csv) {
    const lines = ["index,measured_us,simulated_us"];
    records.forEach((record, i) => {
      lines.push(`${i},${record.measuredUs},${(result.simulatedNs[i]! / 1000).toFixed(3)}`);
    });
    Deno.writeTextFileSync(values.csv, lines.join("\n") + "\n");
    console.log(`wrote ${records.length} rows to ${values.csv}`);
  }
  if (summary.rmsMs > maxRms) {
    console.error(`rms ${summary.rmsMs.toFixed(4)} ms is above the target of ${maxRms} ms`);
    Deno.exit(1);
  }
}

if (import.meta.main) main();
