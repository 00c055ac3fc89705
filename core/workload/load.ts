/**
 * Reading workloads: JSON text or a file, validated into a {@linkcode Workload}, with errors that
 * name the place and what was expected.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { fastPrograms } from "./_fast.ts";
import { describeIssue, type Workload, workloadSchema } from "./schema.ts";
import { MAX_WORKLOAD_BYTES, readTraceText, TraceFileError } from "./trace_file.ts";

/**
 * A workload that cannot be used: the message names the place and what was expected.
 *
 * @example
 * ```ts
 * import { parseWorkload, WorkloadError } from "./load.ts";
 *
 * try {
 *   parseWorkload({ schema: "hyperhook.workload/v1", name: "bad", host: { pcpus: 0 }, vms: [] });
 * } catch (error) {
 *   console.assert(error instanceof WorkloadError && error.message.startsWith("Workload: host.pcpus"));
 * }
 * ```
 */
export class WorkloadError extends Error {
  /**
   * Creates the error.
   *
   * @param message One line: `where: expected …, got …`.
   */
  constructor(message: string) {
    super(message);
    this.name = "WorkloadError";
  }
}

/**
 * Validates a parsed JSON value as a workload.
 *
 * @param value The parsed JSON.
 * @param options `source` names the input in messages; `baseDir` resolves relative trace paths.
 * @returns The validated workload, durations in ns.
 * @throws {WorkloadError} On the first problem found.
 *
 * @example
 * ```ts
 * import { parseWorkload } from "./load.ts";
 * const workload = parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "one", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
 * });
 * console.assert(workload.vms[0]!.cpu!.program![0]!.run === 5_000_000);
 * ```
 */
export function parseWorkload(
  value: unknown,
  options: { source?: string; baseDir?: string } = {},
): Workload {
  // Large explicit programs are parsed apart, and zod checks a stand-in step for each.
  const fast = fastPrograms(value);
  const parsed = workloadSchema.safeParse(fast === undefined ? value : fast.input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const prefix = options.source === undefined ? "Workload" : `Workload ${options.source}`;
    throw new WorkloadError(`${prefix}: ${describeIssue(issue, value)}`);
  }
  const workload = parsed.data;
  for (const [index, program] of fast?.programs ?? []) workload.vms[index]!.cpu!.program = program;
  if (options.baseDir !== undefined) {
    for (const vm of workload.vms) {
      const trace = vm.cpu?.trace;
      if (trace !== undefined && !isAbsolute(trace.path)) {
        trace.path = resolve(options.baseDir, trace.path);
      }
      for (const ioTrace of vm.io?.trace ?? []) {
        if (!isAbsolute(ioTrace.path)) ioTrace.path = resolve(options.baseDir, ioTrace.path);
      }
    }
  }
  return workload;
}

/**
 * Reads and validates a workload file.
 *
 * @throws {WorkloadError} When the file is missing, is not JSON, or is not a valid workload.
 *
 * @example
 * ```ts
 * import { readWorkload } from "./load.ts";
 *
 * const workload = await readWorkload(new URL("../../examples/workloads/rr_textbook.json", import.meta.url).pathname);
 * console.assert(workload.vms.length === 3);
 * ```
 */
// deno-lint-ignore require-await
export async function readWorkload(path: string): Promise<Workload> {
  return parseWorkload(readWorkloadJson(path), { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Reads a workload file's JSON (not yet validated): a regular file of at most
 * {@linkcode MAX_WORKLOAD_BYTES}, read with that bound.
 *
 * @example
 * ```ts
 * import { readWorkloadJson } from "./load.ts";
 *
 * const value = readWorkloadJson(new URL("../../examples/workloads/rr_textbook.json", import.meta.url).pathname);
 * console.assert((value as { schema: string }).schema === "hyperhook.workload/v1");
 * ```
 *
 * @throws {WorkloadError} When the file cannot be read or is not JSON.
 */
export function readWorkloadJson(path: string): unknown {
  let text: string;
  try {
    text = readTraceText(path, { maxBytes: MAX_WORKLOAD_BYTES });
  } catch (error) {
    const reason = error instanceof TraceFileError ? error.reason : (error as Error).message;
    throw new WorkloadError(`Workload ${path}: cannot read the file (${reason})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WorkloadError(jsonErrorMessage(path, text, (error as Error).message));
  }
}

/**
 * A JSON syntax error as `Workload file:line:col: not valid JSON (what was expected)`: the place
 * from the parser's position (the end of the text when it ran out), 1-based as editors count.
 */
function jsonErrorMessage(path: string, text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  const position = at === null ? text.length : Number(at[1]);
  const before = text.slice(0, position).split("\n");
  const line = before.length, column = before.at(-1)!.length + 1;
  const reason = message.replace(/ in JSON at position \d+(?: \(line \d+ column \d+\))?$/, "");
  return `Workload ${path}:${line}:${column}: not valid JSON (${reason})`;
}
