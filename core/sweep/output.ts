/**
 * What `collect` writes into a sweep's folder: `results.csv` always, `summary.html` (means and
 * confidence intervals per configuration, rankings, charts), and `results.parquet` when asked.
 *
 * @module
 */

import { join } from "node:path";
import { type Collected, resultsCsv, writeAtomic } from "./results.ts";
import { renderSummary } from "./summary.ts";

/** Options of {@linkcode writeCollected}. */
export interface OutputOptions {
  /** Also write `results.parquet`. */
  parquet?: boolean;
}

/** Writes the merged results; returns the files written. */
export async function writeCollected(
  dir: string,
  collected: Collected,
  options: OutputOptions = {},
): Promise<string[]> {
  const files = [join(dir, "results.csv"), join(dir, "summary.html")];
  await writeAtomic(files[0]!, resultsCsv(collected));
  await writeAtomic(files[1]!, renderSummary(collected));
  if (options.parquet) {
    // Loaded only here: a sweep without --parquet never imports the writer.
    const { resultsParquet } = await import("./parquet.ts");
    const file = join(dir, "results.parquet");
    const aside = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(aside, resultsParquet(collected));
    await Deno.rename(aside, file);
    files.push(file);
  }
  return files;
}
