/**
 * `hyperhook fuzz <policy>`: generate small workloads with fast-check, check the properties a
 * scheduler should keep, and shrink a failure to a minimal workload file. Exit 1 when a
 * counterexample is found, 0 when the budget of workloads finds none.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatDecision, formatNs } from "../observe/decisions.ts";
import { type FuzzOptions, fuzzPolicy, PROPERTIES, type PropertyName } from "../observe/fuzz.ts";
import { parseDuration } from "../engine/duration.ts";
import { type Isolation, ISOLATIONS } from "../protocol/runtime.ts";
import { EXIT, parseFlags, policyFlag, UsageError, writeOutput } from "./common.ts";

/** Usage of `fuzz`. */
export const FUZZ_USAGE = `hyperhook fuzz <cpu-policy> [options]
  --config-cpu JSON                 the policy's configuration
  --property LIST                   what to check, comma separated (default: all):
                                    ${PROPERTIES.join(", ")}
  --check MODULE                    also a property of yours: the module's default export
                                    (report, workload) => a message when broken, else nothing
  --runs N                          how many workloads to try (default 100)
  --seed N                          the search's seed (default 1: a search repeats)
  --wait-bound D                    the "wait" bound (default 500ms)
  --out FILE                        write the shrunk counterexample as a workload file
  --isolation I                     where the policy runs (default: none for built-ins,
                                    process-rpc for the rest; none is faster for your own code)`;

/** Runs the `fuzz` subcommand; returns the exit code. */
export async function fuzzCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    "config-cpu": { type: "string" },
    property: { type: "string" },
    check: { type: "string" },
    runs: { type: "string" },
    seed: { type: "string" },
    "wait-bound": { type: "string" },
    out: { type: "string" },
    isolation: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(FUZZ_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`fuzz: expected one CPU policy, got ${positionals.length}`);
  }
  const policy = policyFlag(values, "cpu", positionals[0]!)!;
  const options: FuzzOptions = {};
  if (typeof values.property === "string") {
    const names = values.property.split(",").map((name) => name.trim());
    for (const name of names) {
      if (!PROPERTIES.includes(name as PropertyName)) {
        throw new UsageError(`--property: expected some of ${PROPERTIES.join(", ")}, got ${name}`);
      }
    }
    options.properties = names as PropertyName[];
  }
  if (typeof values.runs === "string") options.runs = integer("runs", values.runs, 1, 1_000_000);
  if (typeof values.seed === "string") {
    options.seed = integer("seed", values.seed, 0, 2 ** 31 - 1);
  }
  if (typeof values["wait-bound"] === "string") {
    const ns = parseDuration(values["wait-bound"]);
    if (ns === undefined || ns <= 0) {
      throw new UsageError(
        `--wait-bound: expected a duration above zero such as "500ms", got ${values["wait-bound"]}`,
      );
    }
    options.waitBoundNs = ns;
  }
  if (typeof values.isolation === "string") {
    if (!ISOLATIONS.includes(values.isolation as Isolation)) {
      throw new UsageError(
        `--isolation: expected one of ${ISOLATIONS.join(", ")}, got ${values.isolation}`,
      );
    }
    options.isolation = values.isolation as Isolation;
  }
  if (typeof values.check === "string") {
    let check: unknown;
    try {
      check = (await import(pathToFileURL(resolve(values.check)).href)).default;
    } catch (error) {
      throw new UsageError(
        `--check ${values.check}: cannot load the module (${
          (error as Error).message.split("\n")[0]
        })`,
      );
    }
    if (typeof check !== "function") {
      throw new UsageError(
        `--check ${values.check}: expected a default export (report, workload) => message, got ${typeof check}`,
      );
    }
    options.check = check as FuzzOptions["check"];
  }
  const result = await fuzzPolicy(policy, options);
  const found = result.counterexample;
  const checked = (options.properties ?? PROPERTIES).join(", ") +
    (options.check === undefined ? "" : ", --check");
  if (found === null) {
    console.log(
      `fuzz ${policy.use}: no counterexample in ${result.runs} workloads (properties: ${checked})`,
    );
    return EXIT.OK;
  }
  const vms = found.workload.vms as unknown[];
  const host = found.workload.host as { pcpus: number };
  const lines = [
    `fuzz ${policy.use}: counterexample after ${found.tried} workload(s), shrunk in ${found.shrinks} steps to ${vms.length} VM(s) on ${host.pcpus} pCPU(s)`,
    `property ${found.property} broke${
      found.atNs === null ? "" : ` at ${formatNs(found.atNs)}`
    }: ${found.message}`,
  ];
  if (found.decisions.length > 0) {
    lines.push("decisions of that instant:");
    for (const decision of found.decisions) lines.push(`  ${formatDecision(decision)}`);
  }
  lines.push(`search seed ${found.seed}${found.path === undefined ? "" : `, path ${found.path}`}`);
  const text = JSON.stringify(found.workload, null, 2) + "\n";
  if (typeof values.out === "string") {
    await writeOutput(values.out, text, "--out");
    lines.push(
      `workload written to ${values.out}; reproduce: hyperhook run ${values.out} --cpu ${policy.use}`,
    );
  } else lines.push("workload (write it with --out FILE):", text.trimEnd());
  console.log(lines.join("\n"));
  return EXIT.FAILED;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got ${text}`);
  }
  return value;
}
