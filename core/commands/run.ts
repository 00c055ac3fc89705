/**
 * `hyperhook run <workload>`: simulate one workload and print or write its report.
 *
 * @module
 */

import type { Report } from "../report/report.ts";
import type { RunObserver } from "../report/recorder.ts";
import { formatReport } from "../report/table.ts";
import { createSimulation, type SimulateOptions } from "../simulation/mod.ts";
import { isModuleReference } from "../workload/policy_choice.ts";
import { quickWorkload, quickWorkloadJson } from "../workload/quick.ts";
import type { Workload } from "../workload/schema.ts";
import {
  EXIT,
  parseFlags,
  policyFlag,
  printIncident,
  Progress,
  SIMULATION_FLAGS,
  simulationOptions,
  UsageError,
  writeOutput,
} from "./common.ts";
import { Phases } from "./phases.ts";
import { namingWorkloadFile, writtenLine } from "./_messages.ts";

/** Usage of `run`. */
export const RUN_USAGE = `hyperhook run <workload.json> [options]
  --cpu P / --memory P / --io P     policy per domain: a built-in name, a path, npm:, https: or jsr:
  --placement P                     placement policy of a datacenter workload (npa, dvfs, lr-mmt, ...)
  --config-cpu JSON (and -memory, -io, -placement)  the policy's configuration, e.g. '{"quantum":"4ms"}'
  --isolation I                     where policies run: none, worker, process (a copy of the kernel
                                    runs beside the policy), process-rpc (a round trip per batch)
                                    (default: none for built-ins, process otherwise)
  --no-check                        do not type-check local policy files before the run
  --seed N                          override the workload's seed
  --stall D                         watchdog timeout, e.g. 30s (default)
  --restart N                       restart an ejected policy up to N times (back-off 1 s, doubling)
  --heap MIB                        heap cap of a process sandbox (default 256)
  --deadline T / --init-deadline T  wall-clock limit per batch (100ms) and for loading (2s)
  --out FILE                        write the JSON report to FILE
  --html FILE                       write a self-contained HTML report with charts to FILE
  --log FILE                        write every decision: FILE.jsonl (JSON lines), FILE.csv (CSV
                                    with a header), else raw records "atNs domain kind a b c"
  --trace FILE                      write a Chrome JSON trace (ui.perfetto.dev, chrome://tracing)
  --trace-window FROM..TO / --trace-cap SIZE   trace part of the run (2s..3s); cap (256MiB)
  --trace-every-batch               every policy batch an instant (else a lone dispatch is on its slice)
  --format table|json               what to print on stdout (json: the report alone)
  --watch                           run again whenever the workload or a local policy file changes`;

/**
 * Runs one workload with progress on stderr; the report, its simulation and the options used.
 * `phases`, when given, is told where building, running and reporting end.
 */
export async function runWorkload(
  workload: Workload,
  options: SimulateOptions,
  label: string,
  observer?: RunObserver,
  phases?: Phases,
): Promise<Report> {
  const simulation = await createSimulation(workload, options);
  phases?.mark("build");
  const progress = new Progress(label);
  try {
    const end = workload.stopAt ?? Infinity;
    const step = Number.isFinite(end) ? Math.max(1, Math.ceil(end / 200)) : 1_000_000_000;
    while (!simulation.ended) {
      await simulation.run(simulation.nowNs + step);
      progress.update(simulation.nowNs, end);
      observer?.step(simulation);
    }
    observer?.end(simulation);
    phases?.mark("run");
    return simulation.report();
  } finally {
    progress.done();
    await simulation.close();
  }
}

/** Runs the `run` subcommand; returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  const phases = new Phases();
  const { values, positionals } = parseFlags(args, {
    ...SIMULATION_FLAGS,
    out: { type: "string" },
    log: { type: "string" },
    html: { type: "string" },
    watch: { type: "boolean" },
    trace: { type: "string" },
    "trace-window": { type: "string" },
    "trace-cap": { type: "string" },
    "trace-every-batch": { type: "boolean" },
  });
  if (values.help) {
    console.log(RUN_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `run: expected one workload file, got ${positionals.length}`,
    );
  }
  if (values.watch) {
    const { watchCommand } = await import("./_watch.ts");
    return await watchCommand(positionals[0]!, args, values, runCommand);
  }
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format: expected table or json, got ${format}`);
  }
  // A policy to sandbox in a process: the process starts now, while the workload is read.
  await using _sandbox = await prelaunchSandbox(values);
  const path = positionals[0]!;
  // Read once, with the workload reader's bounds (a regular file of bounded size), then dispatch.
  // The schemas (and zod) are loaded only for a workload the quick path does not take, or to say
  // what is wrong with a file.
  const json = quickWorkloadJson(path) ??
    (await import("../workload/load.ts")).readWorkloadJson(path);
  if (isDatacenterJson(json)) {
    const { runDatacenterCommand } = await import("../datacenter/command.ts");
    return await runDatacenterCommand(path, values, json);
  }
  const workload = quickWorkload(json) ?? await parseFully(json, path);
  phases.mark("parse");
  const options = simulationOptions(values);
  options.policies = {
    cpu: policyFlag(values, "cpu"),
    memory: policyFlag(values, "memory"),
    io: policyFlag(values, "io"),
  };
  options.onIncident = printIncident;
  // The observers' code is loaded only for a run that asks for one.
  const observers = values.log ?? values.trace ?? values["trace-window"] ?? values["trace-cap"] ??
    values["trace-every-batch"];
  const observing = observers === undefined
    ? undefined
    : (await import("../observe/flags.ts")).RunObservers.fromFlags(values);
  if (observing !== undefined) options.observe = (simulation) => observing.watch(simulation);
  // The HTML report's recorder and renderer are loaded only for --html.
  const recorder = typeof values.html === "string"
    ? new (await import("../report/recorder.ts")).RunRecorder()
    : undefined;
  const report = await namingWorkloadFile(
    path,
    () => runWorkload(workload, options, "run", recorder, phases),
  );
  if (typeof values.out === "string") {
    await writeOutput(values.out, JSON.stringify(report, null, 2) + "\n");
  }
  if (recorder !== undefined) {
    const label = report.policies.cpu?.name ?? "run";
    const { renderHtmlReport } = await import("../report/html.ts");
    await writeOutput(
      values.html as string,
      renderHtmlReport([{ label, report, trace: recorder.trace }]),
      "--html",
    );
  }
  for (const line of await observing?.finish() ?? []) console.error(`hyperhook: ${line}`);
  console.log(format === "json" ? JSON.stringify(report, null, 2) : formatReport(report));
  const written = writtenLine({
    html: values.html as string | undefined,
    out: values.out as string | undefined,
  });
  if (written !== undefined) console.error(`hyperhook: ${written}`);
  phases.mark("report");
  phases.print();
  return Object.values(report.policies).some((policy) => policy.ejected) ? EXIT.FAILED : EXIT.OK;
}

/**
 * Launches the `process` sandbox's child ahead of the run when the flags say a policy will run in
 * it (`--isolation process`, or a policy module with no `--isolation`); what the workload names
 * is known only once it is read. `references` are the run's policies when they are not the flags'
 * (a run of `compare`). Disposing of the result kills the child if the run did not take it.
 *
 * @param values The command's flags.
 * @param references The run's policy references (default: the `--cpu`, `--memory`, `--io` flags).
 * @returns What kills the child unless a run took it, or undefined when none was launched.
 */
export async function prelaunchSandbox(
  values: Record<string, string | boolean | undefined>,
  references: unknown[] = ["cpu", "memory", "io"].map((domain) => values[domain]),
): Promise<AsyncDisposable | undefined> {
  const isolation = values.isolation;
  const modules = references.some((name) => typeof name === "string" && isModuleReference(name));
  if (!(isolation === "process" || (isolation === undefined && modules))) return undefined;
  let sandbox;
  try {
    sandbox = simulationOptions(values).sandbox;
  } catch {
    // Said when the options are read for the run.
    return undefined;
  }
  // The launcher alone: the replay session's module loads later, while the child starts.
  return (await import("../sandbox/prelaunch.ts")).prelaunch(sandbox);
}

/** The schema's validation (zod), for a workload the quick path does not take. */
async function parseFully(json: unknown, path: string): Promise<Workload> {
  const { parseWorkload } = await import("../workload/load.ts");
  const { dirname, resolve } = await import("node:path");
  return parseWorkload(json, { source: path, baseDir: dirname(resolve(path)) });
}

/** Whether a parsed workload file names the datacenter schema (checked without loading that layer). */
function isDatacenterJson(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>).schema === "hyperhook.datacenter/v1";
}
