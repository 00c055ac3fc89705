/**
 * What the CLI adds to messages it passes on: the workload file a "Workload:" message is about
 * (a check made once the simulation is built, such as a missing `stopAt`, knows no file).
 *
 * @module
 */

import { WorkloadError } from "../workload/error.ts";
import { formatDuration } from "../engine/duration.ts";

/**
 * Runs `work`; a {@linkcode WorkloadError} it throws that names no file (`Workload: …`) is thrown
 * again naming `path` (`Workload path: …`).
 *
 * @param path The workload file.
 * @param work What to run.
 */
export async function namingWorkloadFile<T>(path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WorkloadError && error.message.startsWith("Workload: ")) {
      throw new WorkloadError(`Workload ${path}: ${error.message.slice("Workload: ".length)}`);
    }
    throw error;
  }
}

/** What `serve --resume` replayed (see `LiveKernel.resumed`). */
export interface ResumeSummary {
  /** Logged changes applied again. */
  changes: number;
  /** Swaps skipped (they failed after the last good point). */
  skipped: number;
  /** Where the replay stands (ns simulated). */
  atNs: number;
  /** Whether the decision hash matched the checkpoint's. */
  hash: "matched" | "diverged" | "other-encoding" | "unchecked";
}

/**
 * The line `serve --resume` prints: what it replayed and whether the hash matched.
 *
 * @example
 * ```ts
 * import { resumeLine } from "./_messages.ts";
 *
 * console.assert(resumeLine({ changes: 3, skipped: 0, atNs: 12_500_000_000, hash: "matched" }) ===
 *   "resumed: replayed 3 logged changes to 12.5s simulated; the decision hash matches the checkpoint's");
 * ```
 */
export function resumeLine(summary: ResumeSummary): string {
  const changes = `${summary.changes} logged change${summary.changes === 1 ? "" : "s"}`;
  const skipped = summary.skipped === 0
    ? ""
    : ` (skipped ${summary.skipped} swap${
      summary.skipped === 1 ? "" : "s"
    } that failed after the last good point)`;
  const hash = summary.hash === "matched"
    ? "the decision hash matches the checkpoint's"
    : summary.hash === "diverged"
    ? "the decision hash DIFFERS from the checkpoint's (see the warning above)"
    : summary.hash === "other-encoding"
    ? "the checkpoint's hash is of another decision-log encoding, not compared (see the warning above)"
    : "no checkpoint hash to compare with";
  return `resumed: replayed ${changes}${skipped} to ${
    formatDuration(summary.atNs)
  } simulated; ${hash}`;
}

/**
 * The last line of a command that wrote files: where (on stderr, so stdout stays the table or the
 * JSON). Undefined when it wrote none.
 *
 * @example
 * ```ts
 * import { writtenLine } from "./_messages.ts";
 *
 * console.assert(writtenLine({ html: "out/r.html", outDir: "out", reports: 2 }) ===
 *   "wrote the HTML report to out/r.html and 2 JSON reports to out/");
 * ```
 */
export function writtenLine(
  written: { html?: string; out?: string; outDir?: string; reports?: number },
): string | undefined {
  const parts: string[] = [];
  if (written.html !== undefined) parts.push(`the HTML report to ${written.html}`);
  if (written.out !== undefined) parts.push(`the JSON report to ${written.out}`);
  if (written.outDir !== undefined) {
    const count = written.reports ?? 0;
    const dir = written.outDir.endsWith("/") ? written.outDir : `${written.outDir}/`;
    parts.push(`${count} JSON report${count === 1 ? "" : "s"} to ${dir}`);
  }
  return parts.length === 0 ? undefined : `wrote ${parts.join(" and ")}`;
}
