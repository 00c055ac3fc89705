/**
 * Validation of a disk model against a drive's measured service times, DiskSim-style.
 *
 * DiskSim's yardstick is the RMS horizontal distance between the simulated and the measured
 * service-time distributions (CDFs), sampled at every 0.0001 quantile: it says how far apart the
 * two curves are, in ms, without requiring each request to match. {@linkcode cdfRmsDistance}
 * computes it on the exact empirical distributions; {@linkcode replayValidationTrace} replays a
 * trace closed-loop through a model.
 *
 * @module
 */

import type { ValidationRecord } from "./disksim_trace.ts";
import { HddDiskModel } from "./hdd.ts";
import type { DiskModel } from "./model.ts";

/**
 * The RMS of the horizontal distance between two empirical CDFs, sampled at the quantiles
 * `step, 2 step, ..., 1`.
 *
 * The quantile `p` of `n` sorted samples `x(1) <= ... <= x(n)` is `x(ceil(p n))`, the smallest
 * value whose empirical CDF reaches `p` (the inverse of the step-function CDF); the result is
 * `sqrt(mean over p of (Qa(p) - Qb(p))^2)`, in the samples' unit.
 *
 * @param a One sample (e.g. measured service times in ms); not modified.
 * @param b The other (e.g. simulated service times in ms); not modified.
 * @param options `quantileStep` (default 0.0001, DiskSim's `RMS_INCR`); `1 / quantileStep` must be
 *   an integer.
 * @returns The RMS distance.
 * @throws {RangeError} When a sample is empty or the step does not divide 1.
 *
 * @example
 * ```ts
 * import { cdfRmsDistance } from "./validate.ts";
 * console.log(cdfRmsDistance([1, 2, 3, 4], [1.5, 2.5, 3.5, 4.5])); // 0.5
 * ```
 */
export function cdfRmsDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { quantileStep?: number } = {},
): number {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError("CDF distance: expected two non-empty samples");
  }
  const step = options.quantileStep ?? 0.0001;
  const points = Math.round(1 / step);
  if (!(points >= 1) || Math.abs(points * step - 1) > 1e-9) {
    throw new RangeError(`CDF distance quantileStep: expected 1/N for an integer N, got ${step}`);
  }
  const sortedA = Float64Array.from(a).sort();
  const sortedB = Float64Array.from(b).sort();
  const na = sortedA.length;
  const nb = sortedB.length;
  let squares = 0;
  for (let k = 1; k <= points; k++) {
    // ceil(k n / points) - 1, in integers so that no quantile slips by rounding.
    const ia = Math.floor((k * na + points - 1) / points) - 1;
    const ib = Math.floor((k * nb + points - 1) / points) - 1;
    const d = sortedA[ia]! - sortedB[ib]!;
    squares += d * d;
  }
  return Math.sqrt(squares / points);
}

/**
 * When a replay issues the next request.
 *
 * - `"after-completion"` (DiskSim's replay): the last column is the idle time between this
 *   request's completion and the next request's issue.
 * - `"after-start"`: the last column is the time from this request's start to the next request's
 *   issue; a request still running then delays the next one (one request at a time).
 */
export type GapMode = "after-completion" | "after-start";

/** The outcome of replaying a trace through a model. */
export interface ReplayResult {
  /** Simulated service time of each record, ns. */
  simulatedNs: Float64Array;
  /**
   * The model's own outcome label for each record, in the trace's vocabulary when the model can
   * tell (`Hit`, `Miss`, `Doub`, `Trip` for the `hdd` model), else `R` or `W`.
   */
  simulatedOutcomes: string[];
  /** Simulated time at the end of the replay, ns. */
  endNs: number;
}

/**
 * Replays a validation trace closed-loop (one request at a time) through a model.
 *
 * @param records The trace (see `parseValidationTrace`).
 * @param model A fresh model (its state evolves with the replay).
 * @param options `gap`: how the last column is read (default `"after-completion"`, as DiskSim).
 * @returns The simulated service times and outcomes.
 *
 * @example
 * ```ts
 * import { parseValidationTrace } from "./disksim_trace.ts";
 * import { HddDiskModel } from "./hdd.ts";
 * import { HP_C2247A } from "./hp_c2247a.ts";
 * import { replayValidationTrace } from "./validate.ts";
 * const records = parseValidationTrace("R Miss 564347 2 14095.370 13876.270\nR Hit 564349 2 1414.270 18746.770\n");
 * const result = replayValidationTrace(records, new HddDiskModel(HP_C2247A));
 * console.log(result.simulatedOutcomes); // [ "Miss", "Hit" ]
 * ```
 */
export function replayValidationTrace(
  records: readonly ValidationRecord[],
  model: DiskModel,
  options: { gap?: GapMode } = {},
): ReplayResult {
  const gapMode = options.gap ?? "after-completion";
  const simulatedNs = new Float64Array(records.length);
  const simulatedOutcomes: string[] = new Array(records.length);
  const hdd = model instanceof HddDiskModel ? model : undefined;
  let now = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const serviceNs = model.service(
      { lba: record.lba, blocks: record.blocks, write: record.write },
      now,
    );
    simulatedNs[i] = serviceNs;
    simulatedOutcomes[i] = hdd ? TRACE_LABELS[hdd.lastServiceKind()] : record.write ? "W" : "R";
    const gapNs = Math.round(record.gapUs * 1000);
    now = gapMode === "after-completion"
      ? now + serviceNs + gapNs
      : Math.max(now + gapNs, now + serviceNs);
  }
  return { simulatedNs, simulatedOutcomes, endNs: now };
}

const TRACE_LABELS = {
  "read-hit": "Hit",
  "read-miss": "Miss",
  "write": "Doub",
  "write-extra-disconnect": "Trip",
} as const;

/** Per-outcome comparison of a replay with the measurements. */
export interface OutcomeStats {
  /** Requests the real drive labelled with this outcome. */
  measuredCount: number;
  /** Requests the model labelled with this outcome. */
  simulatedCount: number;
  /** Mean measured service time of the requests the real drive labelled so, ms. */
  measuredMeanMs: number;
  /** Mean simulated service time of those same requests, ms. */
  simulatedMeanMs: number;
}

/** The comparison of a replay with the measurements. */
export interface ValidationSummary {
  /** Number of requests. */
  count: number;
  /** DiskSim's yardstick: RMS horizontal distance of the service-time CDFs, ms. */
  rmsMs: number;
  /** Mean measured service time, ms. */
  measuredMeanMs: number;
  /** Mean simulated service time, ms. */
  simulatedMeanMs: number;
  /** Mean of |simulated - measured| per request, ms (a stricter, per-request view). */
  meanAbsErrorMs: number;
  /** Statistics by outcome label (the trace's labels and the model's). */
  outcomes: Record<string, OutcomeStats>;
}

/**
 * Compares a replay with the measured service times.
 *
 * @param records The trace.
 * @param result The replay of that trace.
 * @returns The summary (RMS CDF distance, means, outcome counts).
 *
 * @example
 * ```ts
 * import { summarizeValidation } from "./validate.ts";
 * const records = [{ line: 1, write: false, outcome: "Hit", lba: 0, blocks: 1, measuredUs: 1000, gapUs: 0 }];
 * const summary = summarizeValidation(records, {
 *   simulatedNs: Float64Array.of(1_500_000), simulatedOutcomes: ["Hit"], endNs: 1_500_000,
 * });
 * console.log(summary.rmsMs, summary.outcomes.Hit?.simulatedCount); // 0.5 1
 * ```
 */
export function summarizeValidation(
  records: readonly ValidationRecord[],
  result: ReplayResult,
): ValidationSummary {
  const n = records.length;
  const measuredMs = new Float64Array(n);
  const simulatedMs = new Float64Array(n);
  const outcomes: Record<string, OutcomeStats> = {};
  const stats = (label: string): OutcomeStats =>
    outcomes[label] ??= {
      measuredCount: 0,
      simulatedCount: 0,
      measuredMeanMs: 0,
      simulatedMeanMs: 0,
    };
  let absError = 0;
  for (let i = 0; i < n; i++) {
    const record = records[i]!;
    measuredMs[i] = record.measuredUs / 1000;
    simulatedMs[i] = result.simulatedNs[i]! / 1e6;
    absError += Math.abs(simulatedMs[i]! - measuredMs[i]!);
    const measured = stats(record.outcome);
    measured.measuredCount++;
    measured.measuredMeanMs += measuredMs[i]!;
    measured.simulatedMeanMs += simulatedMs[i]!;
    stats(result.simulatedOutcomes[i]!).simulatedCount++;
  }
  for (const entry of Object.values(outcomes)) {
    if (entry.measuredCount > 0) {
      entry.measuredMeanMs /= entry.measuredCount;
      entry.simulatedMeanMs /= entry.measuredCount;
    }
  }
  const mean = (values: Float64Array): number => values.reduce((sum, v) => sum + v, 0) / n;
  return {
    count: n,
    rmsMs: cdfRmsDistance(measuredMs, simulatedMs),
    measuredMeanMs: mean(measuredMs),
    simulatedMeanMs: mean(simulatedMs),
    meanAbsErrorMs: absError / n,
    outcomes,
  };
}
