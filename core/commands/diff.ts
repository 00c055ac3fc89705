/**
 * `hyperhook diff <workload> --cpu A,B`: where two policies (or two versions of one policy file)
 * first decide differently on the same workload and seed, the state at that instant, and how far
 * apart the VMs end up. `--fail-on-change` makes it a CI gate against a policy's last release.
 *
 * @module
 */

import type { Domain } from "../protocol/definition.ts";
import type { PolicyChoice } from "../simulation/mod.ts";
import { readWorkload } from "../workload/load.ts";
import { type Baseline, diffBaseline, type DiffResult, diffRuns } from "../observe/diff.ts";
import type { Report } from "../report/report.ts";
import { formatDecision, formatNs } from "../observe/decisions.ts";
import {
  EXIT,
  parseFlags,
  printIncident,
  SIMULATION_FLAGS,
  simulationOptions,
  UsageError,
} from "./common.ts";

/** Usage of `diff`. */
export const DIFF_USAGE = `hyperhook diff <workload.json> --cpu A,B [options]
  --cpu A,B (or --memory, --io)     the two policies: built-in names or paths (two versions of
                                    one file), each optionally with its config: 'rr,rr{"quantum":"5ms"}'
  --config-cpu JSON                 configuration both take (a policy's own {...} wins)
  --baseline-log FILE               compare --cpu A (one policy) with a recorded run instead: its
                                    raw decision log (run --log FILE, not .jsonl/.csv) ...
  --baseline-report FILE            ... and its report (run --out FILE), for the per-VM figures
  --seeds N                         compare over N seeds from the workload's (default 1): which
                                    differences exceed the spread between seeds
  --context K                       decisions shown before the first difference (default 5)
  --fail-on-change                  exit 1 when the runs decide differently on any seed
  --format table|json               what to print (json: the comparison as data)
  (and the options of run: --isolation, --stall, --deadline ...)`;

/** Runs the `diff` subcommand; returns the exit code. */
export async function diffCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...SIMULATION_FLAGS,
    seeds: { type: "string" },
    context: { type: "string" },
    "fail-on-change": { type: "boolean" },
    "baseline-log": { type: "string" },
    "baseline-report": { type: "string" },
  });
  if (values.help) {
    console.log(DIFF_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`diff: expected one workload file, got ${positionals.length}`);
  }
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format: expected table or json, got ${format}`);
  }
  const domains = (["cpu", "memory", "io"] as const).filter((d) => typeof values[d] === "string");
  if (domains.length !== 1) {
    throw new UsageError("diff: expected exactly one of --cpu, --memory or --io with two policies");
  }
  const domain = domains[0]!;
  const baselineLog = values["baseline-log"];
  if (values["baseline-report"] !== undefined && typeof baselineLog !== "string") {
    throw new UsageError("--baseline-report needs --baseline-log FILE, the run's raw decision log");
  }
  const seedCount = integer("seeds", values.seeds, 1, 1000) ?? 1;
  if (typeof baselineLog === "string" && seedCount > 1) {
    throw new UsageError("--seeds: a recorded baseline is one run: expected 1 with --baseline-log");
  }
  const choices = typeof baselineLog === "string"
    ? undefined
    : parsePolicyPair(domain, values[domain] as string, values[`config-${domain}`]);
  const context = integer("context", values.context, 0, 1000) ?? 5;
  const workload = await readWorkload(positionals[0]!);
  const simulate = simulationOptions(values);
  const first = simulate.seed ?? workload.seed;
  delete simulate.seed;
  simulate.onIncident = printIncident;
  const options = {
    domain,
    seeds: Array.from({ length: seedCount }, (_, i) => first + i),
    context,
    simulate,
  };
  const result = choices !== undefined
    ? await diffRuns(workload, choices, options)
    : await diffBaseline(
      workload,
      await readBaseline(baselineLog as string, values["baseline-report"]),
      parseOne(domain, values[domain] as string, values[`config-${domain}`]),
      options,
    );
  if (format === "json") {
    const { reports: _reports, ...data } = result;
    console.log(JSON.stringify(data, null, 2));
  } else console.log(formatDiff(workload.name, result));
  const changed = result.differingSeeds.length > 0;
  return values["fail-on-change"] === true && changed ? EXIT.FAILED : EXIT.OK;
}

/** Splits `A,B` at commas outside braces; each side is `ref` or `ref{json}`. */
export function parsePolicyPair(
  domain: Domain,
  text: string,
  configText: string | boolean | undefined,
): [PolicyChoice & { label: string }, PolicyChoice & { label: string }] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "{") depth++;
    else if (char === "}") depth--;
    else if (char === "," && depth === 0) parts.push(text.slice(start, i)), start = i + 1;
  }
  parts.push(text.slice(start));
  const specs = parts.map((part) => part.trim());
  if (specs.length !== 2 || specs.some((spec) => spec === "")) {
    throw new UsageError(
      `--${domain}: expected two policies A,B such as 'rr,rr{"quantum":"5ms"}', got ${text}`,
    );
  }
  const base = typeof configText === "string" ? jsonObject(`--config-${domain}`, configText) : {};
  return specs.map((spec) => {
    const brace = spec.indexOf("{");
    const use = (brace < 0 ? spec : spec.slice(0, brace)).trim();
    const own = brace < 0 ? {} : jsonObject(`--${domain} ${use}`, spec.slice(brace));
    if (use === "") throw new UsageError(`--${domain}: expected a policy before ${spec}`);
    const config = { ...base, ...own };
    return { use, config: Object.keys(config).length > 0 ? config : undefined, label: spec };
  }) as [PolicyChoice & { label: string }, PolicyChoice & { label: string }];
}

/** One policy `ref` or `ref{json}` (against a baseline). */
function parseOne(
  domain: Domain,
  text: string,
  configText: string | boolean | undefined,
): PolicyChoice & { label: string } {
  const [choice] = parsePolicyPair(domain, `${text},${text}`, configText);
  if (text.includes(",") && !text.includes("{")) {
    throw new UsageError(`--${domain}: expected one policy with --baseline-log, got ${text}`);
  }
  return choice;
}

async function readBaseline(
  logPath: string,
  reportPath: string | boolean | undefined,
): Promise<Baseline> {
  const read = async (flag: string, path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(`--${flag} ${path}: cannot read the file (${(error as Error).message})`);
    }
  };
  const log = await read("baseline-log", logPath);
  if (/^\s*[{[]|^atNs,/.test(log)) {
    throw new UsageError(
      `--baseline-log ${logPath}: expected the raw decision log (run --log FILE with no .jsonl or .csv extension), got JSON or CSV`,
    );
  }
  let report: Report | undefined;
  if (typeof reportPath === "string") {
    try {
      report = JSON.parse(await read("baseline-report", reportPath)) as Report;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(
        `--baseline-report ${reportPath}: expected a JSON report (run --out FILE)`,
      );
    }
  }
  return { log, report, label: "baseline" };
}

function jsonObject(where: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${where}: expected a JSON object such as {"quantum":"5ms"}, got ${text}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a JSON object, got ${text}`);
  }
  return value as Record<string, unknown>;
}

function integer(
  flag: string,
  text: string | boolean | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got ${text}`);
  }
  return value;
}

/** The comparison as text for people. */
export function formatDiff(workload: string, result: DiffResult): string {
  const [labelA, labelB] = result.labels;
  const lines = [
    `diff ${workload}: A = ${labelA}, B = ${labelB}, seed ${result.seeds[0]}${
      result.seeds.length > 1 ? ` (and ${result.seeds.length - 1} more)` : ""
    }`,
    `A: ${result.decisions[0]} decisions, eventsHash ${result.eventsHash[0].slice(0, 16)}`,
    `B: ${result.decisions[1]} decisions, eventsHash ${result.eventsHash[1].slice(0, 16)}`,
  ];
  const first = result.first;
  if (first === null) {
    lines.push("no difference: the runs made the same decisions");
  } else {
    lines.push(
      "",
      `first difference: decision #${first.index}, at ${formatNs(first.atNs)}`,
      `  A: ${
        first.a === null
          ? `nothing at ${formatNs(first.atNs)}; next ${
            first.aNext === null ? "nothing (its log ends)" : formatDecision(first.aNext)
          }`
          : formatDecision(first.a)
      }`,
      `  B: ${
        first.b === null
          ? `nothing at ${formatNs(first.atNs)}; next ${
            first.bNext === null ? "nothing (its log ends)" : formatDecision(first.bNext)
          }`
          : formatDecision(first.b)
      }`,
    );
    if (first.before.length > 0) {
      lines.push("before it, in both runs:");
      for (const decision of first.before) lines.push(`  ${formatDecision(decision)}`);
    }
    lines.push(`state just before ${formatNs(first.atNs)}:`);
    first.state.running.forEach((vcpu, pcpu) => lines.push(`  pCPU ${pcpu}: ${vcpu ?? "idle"}`));
    lines.push(`  runnable: ${first.state.runnable.join(", ") || "none"}`);
  }
  if (result.seeds.length > 1) {
    lines.push(
      `decisions differ on ${result.differingSeeds.length} of ${result.seeds.length} seeds`,
    );
  }
  const shown = result.vms.filter((row) => row.delta !== 0);
  lines.push("");
  if (shown.length === 0) lines.push("per VM: no difference in share, wait or latency");
  else {
    lines.push(
      result.seeds.length > 1
        ? `per VM (means over ${result.seeds.length} seeds; * beyond the spread between seeds):`
        : "per VM:",
    );
    const value = (metric: string, v: number) =>
      metric === "share" ? `${(v * 100).toFixed(2)}%` : formatNs(Math.round(v));
    const rows = shown.map((row) => [
      row.vm,
      row.metric,
      value(row.metric, row.a),
      value(row.metric, row.b),
      (row.delta > 0 ? "+" : "") + value(row.metric, row.delta).replace(/^(?!-)/, ""),
      result.seeds.length > 1
        ? `${value(row.metric, row.spread)}${row.significant ? " *" : ""}`
        : "",
    ]);
    const header = ["VM", "figure", "A", "B", "B - A", result.seeds.length > 1 ? "spread" : ""];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) {
      lines.push(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
    }
  }
  return lines.join("\n");
}
