/**
 * `results.parquet`: the rows of `results.csv` as a Parquet file, written by `hyparquet-writer`
 * (pure JavaScript). Loaded only when `--parquet` asks for it. Metrics and `wallMs` are doubles,
 * `seed` an int, the rest strings, as in the CSV.
 *
 * @module
 */

import { parquetWriteBuffer } from "hyparquet-writer";
import { type Collected, csvHeader } from "./results.ts";
import { cellText } from "./_json.ts";
import type { ShardResult } from "./run_shard.ts";

/** The Parquet bytes of collected results. */
export function resultsParquet(collected: Collected): Uint8Array {
  const { manifest } = collected;
  const results = collected.results.filter((result): result is ShardResult => result !== undefined);
  const header = csvHeader(manifest);
  const withWorkload = manifest.workloads.length > 1;
  const columnData = [
    { name: header[0]!, data: results.map((result) => result.key), type: "STRING" as const },
    ...(withWorkload
      ? [{
        name: "workload",
        data: results.map((result) => result.workload),
        type: "STRING" as const,
      }]
      : []),
    ...manifest.matrix.map((key) => ({
      name: key,
      data: results.map((result) => {
        const entry = result.set.find(([field]) => field === key);
        return entry === undefined ? null : cellText(entry[1]);
      }),
      type: "STRING" as const,
    })),
    { name: "seed", data: results.map((result) => BigInt(result.seed)), type: "INT64" as const },
    ...manifest.metrics.map((metric) => ({
      name: metric.path,
      data: results.map((result) => result.metrics[metric.path] ?? null),
      type: "DOUBLE" as const,
    })),
    {
      name: "eventsHash",
      data: results.map((result) => result.eventsHash),
      type: "STRING" as const,
    },
    { name: "wallMs", data: results.map((result) => result.wallMs), type: "DOUBLE" as const },
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
