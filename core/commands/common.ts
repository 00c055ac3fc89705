/**
 * What the CLI's subcommands share: flag parsing, policy flags, errors and exit codes.
 *
 * @module
 */

import type { ParseArgsConfig } from "node:util";
import { nodeUtil } from "../engine/node_builtins.ts";
import { quickFlags } from "./_flags.ts";
import { PolicyConfigError } from "../kernel/kernel.ts";
import type { Incident } from "../kernel/slot.ts";
import { PolicyReferenceError } from "../simulation/loader.ts";
import type { Domain } from "../protocol/definition.ts";
import { type Isolation, ISOLATIONS } from "../protocol/runtime.ts";
import { HEAP_MIB_RANGE, type SandboxOptions } from "../sandbox/options.ts";
import type { PolicyChoice, SimulateOptions } from "../simulation/mod.ts";
import { WorkloadError } from "../workload/error.ts";
import { formatDuration, parseDuration } from "../engine/duration.ts";
import { formatIncident } from "../report/incident.ts";
import { didYouMean } from "../engine/suggest.ts";

/** Bad input on the command line: exit 2 with this one line. */
export class UsageError extends Error {
  /** @param message What was wrong and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The exit codes of the CLI. */
export const EXIT = { OK: 0, FAILED: 1, BAD_INPUT: 2 } as const;

/** Flags every simulating subcommand takes. */
export const SIMULATION_FLAGS = {
  cpu: { type: "string" },
  memory: { type: "string" },
  io: { type: "string" },
  placement: { type: "string" },
  "config-cpu": { type: "string" },
  "config-memory": { type: "string" },
  "config-io": { type: "string" },
  "config-placement": { type: "string" },
  isolation: { type: "string" },
  seed: { type: "string" },
  stall: { type: "string" },
  restart: { type: "string" },
  heap: { type: "string" },
  deadline: { type: "string" },
  "init-deadline": { type: "string" },
  format: { type: "string" },
  "no-check": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Parses flags strictly: an unknown flag is a usage error naming it. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  // An ordinary line is parsed without node:util (and the Node compatibility layer's start).
  const quick = quickFlags(args, options);
  if (quick !== undefined) return quick;
  try {
    const { values, positionals } = nodeUtil().parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    const message = (error as Error).message;
    // node:util words this one over three lines; the CLI answers in one.
    const ambiguous = /^Option '(-[^' ]+)' argument is ambiguous/.exec(message);
    if (ambiguous !== null) {
      const flag = ambiguous[1];
      throw new UsageError(
        `${flag}: expected a value after it; write ${flag}=VALUE for a value starting with "-"`,
      );
    }
    const line = message.split("\n")[0]!.replace(/\. To specify.*$/, "");
    const unknown = /^Unknown option '--([^'=]+)'/.exec(line);
    throw new UsageError(
      unknown === null ? line : `${line}${didYouMean(unknown[1]!, Object.keys(options))}`.replace(
        /\(did you mean "([^"]+)"\?\)$/,
        '(did you mean "--$1"?)',
      ),
    );
  }
}

function parseJsonFlag(flag: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      `--${flag}: expected a JSON object such as '{"quantum":"4ms"}', got ${text}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--${flag}: expected a JSON object, got ${text}`);
  }
  return value as Record<string, unknown>;
}

/** Reads `--seed`, `--isolation`, `--stall` and the per-domain `--config-*` flags. */
export function simulationOptions(
  values: Record<string, string | boolean | undefined>,
): SimulateOptions {
  // A local policy file is type-checked before the run, unless --no-check.
  const options: SimulateOptions = { typeCheck: values["no-check"] !== true };
  if (typeof values.seed === "string") {
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new UsageError(`--seed: expected a non-negative integer, got ${values.seed}`);
    }
    options.seed = seed;
  }
  if (typeof values.isolation === "string") {
    if (!ISOLATIONS.includes(values.isolation as Isolation)) {
      throw new UsageError(
        `--isolation: expected one of ${ISOLATIONS.join(", ")}, got ${values.isolation}`,
      );
    }
    options.isolation = values.isolation as Isolation;
  }
  if (typeof values.stall === "string") {
    const stallNs = parseDuration(values.stall);
    // A zero timeout would find every runnable vCPU stalled at once, the fallback's too.
    if (stallNs === undefined || stallNs <= 0) {
      throw new UsageError(
        `--stall: expected a duration above zero such as "30s", got ${values.stall}`,
      );
    }
    options.stallNs = stallNs;
  }
  if (typeof values.restart === "string") {
    options.restarts = integerFlag("restart", values.restart, 0, 1000);
  }
  const sandbox: SandboxOptions = {};
  if (typeof values.heap === "string") {
    sandbox.heapMiB = integerFlag("heap", values.heap, HEAP_MIB_RANGE.min, HEAP_MIB_RANGE.max);
  }
  if (typeof values.deadline === "string") {
    sandbox.batchDeadlineMs = msFlag("deadline", values.deadline);
  }
  if (typeof values["init-deadline"] === "string") {
    sandbox.initDeadlineMs = msFlag("init-deadline", values["init-deadline"]);
  }
  if (Object.keys(sandbox).length > 0) options.sandbox = sandbox;
  return options;
}

function integerFlag(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got ${text}`);
  }
  return value;
}

function msFlag(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  const ms = match === null ? 0 : Number(match[1]) * (match[2] === "s" ? 1000 : 1);
  if (!(ms > 0)) {
    throw new UsageError(
      `--${flag}: expected a wall-clock time above zero such as "100ms", got ${text}`,
    );
  }
  return ms;
}

/** The policy chosen for `domain` by `--DOMAIN` and `--config-DOMAIN`, if any. */
export function policyFlag(
  values: Record<string, string | boolean | undefined>,
  domain: Domain,
  use?: string,
): PolicyChoice | undefined {
  const name = use ?? values[domain];
  const configText = values[`config-${domain}`];
  const config = typeof configText === "string"
    ? parseJsonFlag(`config-${domain}`, configText)
    : undefined;
  if (typeof name !== "string") {
    if (config !== undefined) {
      throw new UsageError(`--config-${domain} needs --${domain} to name the policy it configures`);
    }
    return undefined;
  }
  return { use: name, config };
}

/** Prints an incident as one line on stderr. */
export function printIncident(incident: Incident): void {
  clearProgress();
  console.error(
    formatIncident(incident).map((line, i) => i === 0 ? `hyperhook: ${line}` : line)
      .join("\n"),
  );
}

/** Whether an error is bad input (exit 2) rather than a failure. */
export function isBadInput(error: unknown): boolean {
  return error instanceof UsageError || error instanceof WorkloadError ||
    error instanceof PolicyReferenceError || error instanceof PolicyConfigError;
}

/**
 * Writes `text` to `path`, creating folders; a failure is a usage error naming the flag that gave
 * the path (`--out`, `--html`, `--log`, `--out-dir`) and the path.
 */
export async function writeOutput(path: string, text: string, flag = "--out"): Promise<void> {
  try {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
    await Deno.writeTextFile(path, text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot write the file (${(error as Error).message})`);
  }
}

/** Whether a progress bar is on the terminal's last line (a message must clear it first). */
let barShown = false;

function clearProgress(): void {
  if (!barShown) return;
  barShown = false;
  Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[2K"));
}

/** A progress bar on stderr, shown only when stderr is a terminal. */
export class Progress {
  #enabled: boolean;
  #last = 0;
  #label: string;

  /** @param label What is running. */
  constructor(label: string) {
    this.#label = label;
    this.#enabled = Deno.stderr.isTerminal();
  }

  /** Shows `done` out of `total` simulated ns (at most ten times a second). */
  update(done: number, total: number): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    const fraction = Number.isFinite(total) && total > 0 ? Math.min(1, done / total) : 0;
    const bar = "#".repeat(Math.round(fraction * 30)).padEnd(30, ".");
    const text = `\r${this.#label} [${bar}] ${formatDuration(done)}${
      Number.isFinite(total) ? ` / ${formatDuration(total)}` : ""
    }`;
    Deno.stderr.writeSync(new TextEncoder().encode(text));
    barShown = true;
  }

  /** Clears the bar. */
  done(): void {
    clearProgress();
  }
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/**
 * A size flag such as `64MiB` (`--trace-cap`, `--max-trace`) in bytes.
 *
 * @param text The flag's value.
 * @returns The bytes, or undefined when it is not a size (or is 0).
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (match === null) return undefined;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2] ?? ""]!;
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}
