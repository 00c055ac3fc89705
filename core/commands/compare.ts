/**
 * `hyperhook compare <workload> --cpu a,b,c`: the same workload under several policies, side by
 * side. Every run sees the same seed, so generated behaviour is identical across policies.
 *
 * @module
 */

import type { Domain } from "../protocol/definition.ts";
import type { Report } from "../report/report.ts";
import { formatComparison } from "../report/table.ts";
import { quickWorkload, quickWorkloadJson } from "../workload/quick.ts";
import {
  EXIT,
  parseFlags,
  policyFlag,
  printIncident,
  SIMULATION_FLAGS,
  simulationOptions,
  UsageError,
  writeOutput,
} from "./common.ts";
import { Phases } from "./phases.ts";
import { comparisonLabels, labelFile, policyList } from "./_labels.ts";
import { namingWorkloadFile, writtenLine } from "./_messages.ts";
import { prelaunchSandbox, runWorkload } from "./run.ts";
import { watchCommand } from "./_watch.ts";
import type { RunRecorder } from "../report/recorder.ts";

/** Usage of `compare`. */
export const COMPARE_USAGE = `hyperhook compare <workload.json> --cpu a,b,c [options]
  --cpu / --memory / --io LIST      policies to compare in one domain, comma separated
  --out-dir DIR                     write each report to DIR/<policy>.json (its declared name)
  --html FILE                       write the runs side by side as a self-contained HTML page
  --format table|json               json: an array of the reports
  --watch                           run again whenever the workload or a local policy file changes
  --trace FILE                      every run in one Chrome JSON trace, side by side (Perfetto)
  --trace-window FROM..TO / --trace-cap SIZE   trace part of the runs (2s..3s); cap (256MiB)
  --trace-every-batch               every policy batch an instant (else a lone dispatch is on its slice)
  --log FILE                        every decision of every run, with a "run" field: FILE.jsonl
                                    (JSON lines), FILE.csv (CSV), else raw records
  (and the options of run: --config-*, --isolation, --seed, --stall)`;

/** Runs the `compare` subcommand; returns the exit code. */
export async function compareCommand(args: string[]): Promise<number> {
  const phases = new Phases();
  const { values, positionals } = parseFlags(args, {
    ...SIMULATION_FLAGS,
    "out-dir": { type: "string" },
    html: { type: "string" },
    watch: { type: "boolean" },
    trace: { type: "string" },
    "trace-window": { type: "string" },
    "trace-cap": { type: "string" },
    "trace-every-batch": { type: "boolean" },
    log: { type: "string" },
  });
  if (values.help) {
    console.log(COMPARE_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `compare: expected one workload file, got ${positionals.length}`,
    );
  }
  if (values.watch) return await watchCommand(positionals[0]!, args, values, compareCommand);
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format: expected table or json, got ${format}`);
  }
  const domains = (["cpu", "memory", "io"] as Domain[]).filter((d) =>
    typeof values[d] === "string"
  );
  if (domains.length !== 1) {
    throw new UsageError(
      "compare: expected exactly one of --cpu, --memory or --io with a list of policies",
    );
  }
  const domain = domains[0]!;
  const names = policyList(domain, values[domain] as string);
  // The first run's sandbox child, if it has one, starts now, while the workload is read; each
  // next one as the run before it ends.
  await using sandboxes = new AsyncDisposableStack();
  sandboxes.use(await prelaunchSandbox(values, [names[0]]));
  // zod and the schemas load only for a workload the quick path does not take (as for `run`).
  const path = positionals[0]!;
  const workload = quickWorkload(quickWorkloadJson(path)) ??
    await (await import("../workload/load.ts")).readWorkload(path);
  phases.mark("parse");
  // The observers' code is loaded only for runs that ask for one.
  const observers = values.log ?? values.trace ?? values["trace-window"] ?? values["trace-cap"] ??
    values["trace-every-batch"];
  const observing = observers === undefined
    ? undefined
    : (await import("../observe/flags.ts")).RunObservers.fromFlags(values, true);
  const reports: Report[] = [];
  // The HTML report's recorder and renderer are loaded only for --html (as for `run`).
  const html = typeof values.html === "string";
  const Recorder = html ? (await import("../report/recorder.ts")).RunRecorder : undefined;
  const recorders: RunRecorder[] = [];
  for (const [i, name] of names.entries()) {
    const options = simulationOptions(values);
    options.policies = { [domain]: policyFlag(values, domain, name) };
    options.onIncident = printIncident;
    if (observing !== undefined) {
      options.observe = (simulation) => observing.watch(simulation, name);
    }
    const recorder = Recorder === undefined ? undefined : new Recorder();
    if (recorder !== undefined) recorders.push(recorder);
    reports.push(
      await namingWorkloadFile(
        positionals[0]!,
        () => runWorkload(workload, options, name, recorder, phases),
      ),
    );
    if (i + 1 < names.length) sandboxes.use(await prelaunchSandbox(values, [names[i + 1]]));
    phases.mark("report");
  }
  for (const line of await observing?.finish() ?? []) console.error(`hyperhook: ${line}`);
  // Columns, legends and files name each policy as it names itself.
  const labels = comparisonLabels(reports, names, domain);
  if (typeof values.html === "string") {
    const { renderHtmlReport } = await import("../report/html.ts");
    await writeOutput(
      values.html,
      renderHtmlReport(
        reports.map((report, i) => ({ label: labels[i]!, report, trace: recorders[i]!.trace })),
      ),
      "--html",
    );
  }
  if (typeof values["out-dir"] === "string") {
    for (const [i, report] of reports.entries()) {
      const file = labelFile(labels[i]!);
      await writeOutput(
        `${values["out-dir"]}/${file}.json`,
        JSON.stringify(report, null, 2) + "\n",
        "--out-dir",
      );
    }
  }
  console.log(
    format === "json" ? JSON.stringify(reports, null, 2) : formatComparison(reports, labels),
  );
  const written = writtenLine({
    html: values.html as string | undefined,
    outDir: values["out-dir"] as string | undefined,
    reports: reports.length,
  });
  if (written !== undefined) console.error(`hyperhook: ${written}`);
  phases.mark("report");
  phases.print();
  return reports.some((r) => Object.values(r.policies).some((p) => p.ejected))
    ? EXIT.FAILED
    : EXIT.OK;
}
