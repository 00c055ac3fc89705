/**
 * `hyperhook run` for a datacenter workload: the same flags as any run (`--placement P`,
 * `--config-placement JSON`, `--isolation`, `--out`, `--html`, `--log`, `--format`, `--trace`),
 * the report's `datacenter` section printed.
 *
 * @module
 */

import {
  EXIT,
  policyFlag,
  printIncident,
  Progress,
  simulationOptions,
  UsageError,
  writeOutput,
} from "../commands/common.ts";
import type { Report } from "../report/report.ts";
import { renderDatacenterHtml } from "./html.ts";
import { formatDatacenter } from "./report.ts";
import { isDatacenterWorkload, parseDatacenter, readDatacenter } from "./schema.ts";
import { readWorkloadJson } from "../workload/load.ts";
import { dirname, resolve } from "node:path";
import { createDatacenterSimulation } from "./simulation.ts";

/**
 * Whether the file at `path` is a datacenter workload (by its `schema`); false for anything else,
 * unreadable files included, which the ordinary reader then reports.
 */
export function isDatacenterFile(path: string): boolean {
  try {
    return isDatacenterWorkload(readWorkloadJson(path));
  } catch {
    return false;
  }
}

/** Runs a datacenter workload for `hyperhook run`; returns the exit code. */
export async function runDatacenterCommand(
  path: string,
  values: Record<string, string | boolean | undefined>,
  json?: unknown,
): Promise<number> {
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format: expected table or json, got ${format}`);
  }
  const workload = json === undefined
    ? await readDatacenter(path)
    : parseDatacenter(json, { source: path, baseDir: dirname(resolve(path)) });
  // Detailed hosts run a CPU policy each (--cpu); fluid hosts have none.
  const detailed = workload.datacenter.hostModel === "detailed";
  for (const domain of detailed ? ["memory", "io"] as const : ["cpu", "memory", "io"] as const) {
    if (typeof values[domain] === "string") {
      throw new UsageError(
        `--${domain}: a ${workload.datacenter.hostModel} datacenter workload takes a placement policy (--placement)${
          detailed ? " and a CPU policy (--cpu)" : ""
        }, not a ${domain} policy`,
      );
    }
  }
  const options = simulationOptions(values);
  const placement = policyFlag(values, "placement");
  const cpu = detailed ? policyFlag(values, "cpu") : undefined;
  options.policies = {
    ...(placement === undefined ? {} : { placement }),
    ...(cpu === undefined ? {} : { cpu }),
  };
  options.onIncident = printIncident;
  let log: string[] | undefined;
  if (typeof values.log === "string") {
    log = [];
    options.logSink = (line) => log!.push(line);
  }
  // The trace's code is loaded only for a run that asks for one (its --log is this command's).
  const tracing = values.trace ?? values["trace-window"] ?? values["trace-cap"] ??
    values["trace-every-batch"];
  const observers = tracing === undefined
    ? undefined
    : (await import("../observe/flags.ts")).RunObservers.fromFlags({ ...values, log: undefined });
  const simulation = await createDatacenterSimulation(workload, options);
  observers?.watchDatacenter(simulation);
  const progress = new Progress("run");
  let report: Report;
  try {
    const end = simulation.domain.endNs;
    const step = Math.max(1, Math.ceil(end / 100));
    while (!simulation.kernel.ended) {
      await simulation.run(simulation.kernel.now + step);
      progress.update(simulation.kernel.now, end);
    }
    report = simulation.report();
  } finally {
    progress.done();
    await simulation.close();
  }
  if (typeof values.out === "string") {
    await writeOutput(values.out, JSON.stringify(report, null, 2) + "\n");
  }
  if (typeof values.html === "string") {
    await writeOutput(
      values.html,
      renderDatacenterHtml(report, simulation.domain.utilizationRows),
      "--html",
    );
  }
  if (log !== undefined) await writeOutput(values.log as string, log.join("\n") + "\n", "--log");
  for (const line of await observers?.finish() ?? []) console.error(line);
  if (format === "json") {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const policy = report.policies.placement;
    console.log(
      `${report.workload}: placement ${policy?.name}${
        policy?.ejected ? " (ejected)" : ""
      } [${policy?.isolation}], ${report.incidents.length} incident(s), eventsHash ${
        report.eventsHash.slice(0, 16)
      }`,
    );
    console.log(formatDatacenter(report.datacenter!));
  }
  return report.policies.placement?.ejected ? EXIT.FAILED : EXIT.OK;
}
