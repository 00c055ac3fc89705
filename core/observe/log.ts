/**
 * `--log FILE`: every decision the kernel applied, readable. The file's extension picks the form:
 *
 * - `.jsonl`, `.ndjson` or `.json`: one JSON object per line with named fields (`atNs`,
 *   `domain`, `decision`, `vm`, `vcpu`, `pcpu`, `sliceNs`, `reason`, and `request`, `disk`,
 *   `frame`, `page`... where they apply; see {@linkcode Decision});
 * - `.csv`: a header, then one row per decision with the columns of {@linkcode DECISION_FIELDS}
 *   (empty where a field does not apply);
 * - anything else: the raw records `atNs domain kind a b c`, one a line, exactly what the
 *   canonical binary log behind `eventsHash` holds.
 *
 * The file is written as the run goes, in large writes.
 *
 * @module
 */

import type { Simulation } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";
import { type Decision, DECISION_FIELDS, DecisionNames } from "./decisions.ts";
import { watchBatches } from "./batches.ts";
import { IO_OP } from "../protocol/ops.ts";

/** The forms of a decision log. */
export type LogFormat = "jsonl" | "csv" | "raw";

/** The form the extension of `path` asks for. */
export function logFormatOf(path: string): LogFormat {
  const lower = path.toLowerCase();
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return "jsonl";
  if (lower.endsWith(".csv")) return "csv";
  return "raw";
}

const FLUSH_CHARS = 1 << 20;

/**
 * Writes a readable decision log of one or more runs to a file (`compare` adds a `run` field,
 * the policy's label, when it logs several).
 *
 * @example
 * ```ts ignore
 * const log = DecisionLogFile.open("out/rr.jsonl");
 * await simulate(workload, { observe: (simulation) => log.watch(simulation) });
 * log.close();
 * ```
 */
export class DecisionLogFile {
  /** The form written. */
  readonly format: LogFormat;
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #chars = 0;
  #headed = false;
  #withRun: boolean;

  /**
   * Use {@linkcode DecisionLogFile.open}.
   *
   * @ignore
   */
  constructor(file: Deno.FsFile, format: LogFormat, withRun: boolean) {
    this.#file = file;
    this.format = format;
    this.#withRun = withRun;
  }

  /**
   * Opens (creates, truncates) `path` for a log in the form its extension names.
   * `withRun` adds the run's label to every line (several runs in one file).
   *
   * @throws {Deno.errors.NotFound} And other file errors, when the file cannot be created.
   */
  static open(path: string, withRun = false): DecisionLogFile {
    const slash = path.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    return new DecisionLogFile(file, logFormatOf(path), withRun);
  }

  /** Logs every decision of `simulation` (call it before the run starts). */
  watch(simulation: Simulation, run?: string): void {
    if (this.format === "raw") {
      internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) =>
        this.#line(`${atNs} ${domain} ${kind} ${a} ${b} ${c}`)
      );
      return;
    }
    const names = new DecisionNames(simulation);
    if (internals(simulation).io !== undefined) {
      // Requests are named by their VM, which only the I/O batches tell.
      watchBatches(simulation, {
        batch(domain, batch) {
          if (domain !== "io") return;
          const nums = batch.nums;
          for (let i = 0; i < batch.length; i += 3 + nums[i + 2]!) {
            if (nums[i] === IO_OP.SUBMIT) names.requestVm.set(nums[i + 3]!, nums[i + 4]!);
          }
        },
        reply() {},
      });
    }
    const label = this.#withRun ? run : undefined;
    internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) =>
      this.write(names.describe(domain, kind, atNs, a, b, c), label)
    );
  }

  /** Writes one decision (`run` labels it, in a file of several runs). */
  write(decision: Decision, run?: string): void {
    if (this.format === "csv") {
      if (!this.#headed) {
        this.#headed = true;
        this.#line((this.#withRun ? ["run", ...DECISION_FIELDS] : DECISION_FIELDS).join(","));
      }
      const cells = DECISION_FIELDS.map((field) => csvCell(decision[field]));
      this.#line((this.#withRun ? [csvCell(run), ...cells] : cells).join(","));
      return;
    }
    this.#line(JSON.stringify(run === undefined ? decision : { run, ...decision }));
  }

  #line(text: string): void {
    this.#pending.push(text);
    this.#chars += text.length + 1;
    if (this.#chars >= FLUSH_CHARS) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join("\n") + "\n");
    this.#pending = [];
    this.#chars = 0;
    for (let at = 0; at < bytes.length;) at += this.#file.writeSync(bytes.subarray(at));
  }

  /** Writes what is pending and closes the file. */
  close(): void {
    if (this.format === "csv" && !this.#headed) {
      this.#headed = true;
      this.#line((this.#withRun ? ["run", ...DECISION_FIELDS] : DECISION_FIELDS).join(","));
    }
    this.#flush();
    this.#file.close();
  }
}

function csvCell(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "none";
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
