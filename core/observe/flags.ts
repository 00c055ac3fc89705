/**
 * The `--trace`, `--trace-window`, `--trace-cap` and `--log` flags of `run`, `compare` and
 * `serve`: what they ask for, checked, and the observers that do it. The commands import this
 * module only when one of the flags is given.
 *
 * @module
 */

import { parseDuration } from "../engine/duration.ts";
import { parseSize, UsageError } from "../commands/common.ts";
import type { Simulation } from "../simulation/mod.ts";
import type { DatacenterSimulation } from "../datacenter/simulation.ts";
import { DecisionLogFile } from "./log.ts";
import { TraceFile } from "./trace.ts";

/** The observers a command's flags asked for. */
export class RunObservers {
  /** The trace being recorded, if asked. */
  readonly trace: TraceFile | undefined;
  /** The decision log being written, if asked. */
  readonly log: DecisionLogFile | undefined;
  readonly #tracePath: string | undefined;

  /**
   * Reads the flags; undefined when none asks for an observer.
   *
   * @param values The parsed flags.
   * @param several Whether several runs go into one file (`compare`): lines name their run.
   * @throws {UsageError} On a malformed flag, or a log file that cannot be created.
   */
  static fromFlags(
    values: Record<string, string | boolean | undefined>,
    several = false,
  ): RunObservers | undefined {
    const tracePath = typeof values.trace === "string" ? values.trace : undefined;
    const logPath = typeof values.log === "string" ? values.log : undefined;
    for (const flag of ["trace-window", "trace-cap", "trace-every-batch"]) {
      if (values[flag] !== undefined && tracePath === undefined) {
        throw new UsageError(`--${flag} needs --trace FILE to say where the trace goes`);
      }
    }
    if (tracePath === undefined && logPath === undefined) return undefined;
    let trace: TraceFile | undefined;
    if (tracePath !== undefined) {
      const window = parseWindow(values["trace-window"]);
      const maxBytes = values["trace-cap"] === undefined
        ? undefined
        : parseSize(String(values["trace-cap"]));
      if (maxBytes === undefined && values["trace-cap"] !== undefined) {
        throw new UsageError(
          `--trace-cap: expected a size such as 64MiB, 1GiB or a number of bytes, got ${
            values["trace-cap"]
          }`,
        );
      }
      // Written as the run goes: 4 MiB at a time, not the whole trace held until the end.
      const everyBatch = values["trace-every-batch"] === true;
      trace = new TraceFile({ ...window, maxBytes, everyBatch, path: tracePath });
    }
    let log: DecisionLogFile | undefined;
    if (logPath !== undefined) {
      try {
        log = DecisionLogFile.open(logPath, several);
      } catch (error) {
        throw new UsageError(
          `--log ${logPath}: cannot write the file (${(error as Error).message})`,
        );
      }
    }
    return new RunObservers(trace, tracePath, log);
  }

  /**
   * Use {@linkcode RunObservers.fromFlags}.
   *
   * @ignore
   */
  constructor(
    trace: TraceFile | undefined,
    tracePath: string | undefined,
    log: DecisionLogFile | undefined,
  ) {
    this.trace = trace;
    this.#tracePath = tracePath;
    this.log = log;
  }

  /** Watches a run (`SimulateOptions.observe`); `label` names it among several. */
  watch(simulation: Simulation, label?: string): void {
    this.trace?.watch(simulation, label);
    this.log?.watch(simulation, label);
  }

  /** Traces a datacenter run (its `--log` is the datacenter command's own). */
  watchDatacenter(simulation: DatacenterSimulation, label?: string): void {
    this.trace?.watchDatacenter(simulation, label);
  }

  /**
   * Writes the trace and closes the log; returns lines to print on stderr (a trace cut by its
   * size cap says so).
   *
   * @throws {UsageError} When the trace file cannot be written.
   */
  async finish(): Promise<string[]> {
    this.log?.close();
    if (this.trace === undefined) return [];
    try {
      const cut = await this.trace.write(this.#tracePath!);
      return cut === undefined ? [] : [cut];
    } catch (error) {
      throw new UsageError(
        `--trace ${this.#tracePath}: cannot write the file (${(error as Error).message})`,
      );
    }
  }
}

/** `FROM..TO` as a window in ns (either side may be left out). */
export function parseWindow(
  text: string | boolean | undefined,
): { fromNs?: number; toNs?: number } {
  if (text === undefined) return {};
  const at = typeof text === "string" ? text.indexOf("..") : -1;
  const match = at < 0
    ? null
    : [text, String(text).slice(0, at).trim(), String(text).slice(at + 2).trim()];
  const from = match === null ? undefined : match[1] === "" ? 0 : parseDuration(match[1]);
  const to = match === null ? undefined : match[2] === "" ? Infinity : parseDuration(match[2]);
  if (
    from === undefined || to === undefined || !(to > from) || (match![1] === "" && match![2] === "")
  ) {
    throw new UsageError(
      `--trace-window: expected FROM..TO with durations such as 2s..3s (either side optional), FROM before TO, got ${text}`,
    );
  }
  return { fromNs: from, toNs: to };
}
