/**
 * What an HTML report needs beyond the JSON report: per-VM CPU time sampled along the run (for
 * shares over time) and the scheduling-latency distribution (for CDFs), taken from a simulation
 * while it runs.
 *
 * @module
 */

import type { Histogram } from "../engine/histogram.ts";
import type { CpuFigures } from "../cpu/figures.ts";

/** Samples of one run, for the charts of an HTML report. */
export interface RunTrace {
  /** Simulated times of the samples (ns). */
  nowNs: number[];
  /** Cumulative CPU time of each VM at each sample (ns), by VM id. */
  runNs: Record<string, number[]>;
  /** How many pCPUs the host has (to turn CPU time into shares). */
  pcpus: number;
  /** Scheduling latency CDF of the whole host: `[latencyNs, fraction at or below]`. */
  latencyCdf: [number, number][];
}

/** What an observer reads of a running simulation (a `Simulation` is one). */
export interface RunView {
  /** The current simulated time. */
  readonly nowNs: number;
  /** When the run stops, if fixed. */
  readonly stopAtNs: number | undefined;
  /** Whether the run is over. */
  readonly ended: boolean;
  /** The CPU domain's figures now. */
  cpuFigures(): CpuFigures;
}

/** Watches a simulation as it runs; `runWorkload` calls it after every step. */
export interface RunObserver {
  /** After a step of the run. */
  step(run: RunView): void;
  /** Once the run is over, before the simulation is closed. */
  end(run: RunView): void;
}

/**
 * Records a {@linkcode RunTrace}: at most `maxSamples` samples, spread over the run.
 *
 * @example
 * ```ts ignore
 * const recorder = new RunRecorder();
 * const report = await runWorkload(workload, options, "run", recorder);
 * console.log(recorder.trace.nowNs.length);
 * ```
 */
export class RunRecorder implements RunObserver {
  /** The samples so far. */
  readonly trace: RunTrace = { nowNs: [], runNs: {}, pcpus: 0, latencyCdf: [] };
  #minGapNs = 0;

  /**
   * Makes a recorder.
   *
   * @param maxSamples The most samples to keep along a run with a known end (default 80).
   */
  constructor(maxSamples = 80) {
    this.#maxSamples = maxSamples;
  }

  #maxSamples: number;

  /** Samples the VMs' CPU time. */
  step(run: RunView): void {
    const trace = this.trace, now = run.nowNs;
    const cpu = this.#sample(run, now);
    if (cpu === undefined) return;
    trace.nowNs.push(now);
    for (const vm of cpu.vms) (trace.runNs[vm.id] ??= []).push(vm.runNs + vm.runningNs);
  }

  /** The CPU figures to sample now, or undefined when the last sample is too recent. */
  #sample(run: RunView, now: number): CpuFigures | undefined {
    const trace = this.trace;
    if (trace.nowNs.length === 0) {
      const end = run.stopAtNs;
      this.#minGapNs = end === undefined ? 0 : end / this.#maxSamples;
      const cpu = run.cpuFigures();
      trace.pcpus = cpu.busyNs.length;
      return cpu;
    }
    const last = trace.nowNs[trace.nowNs.length - 1]!;
    if (now - last < this.#minGapNs && !run.ended) return undefined;
    return run.cpuFigures();
  }

  /** Takes the latency distribution. */
  end(run: RunView): void {
    this.step(run);
    this.trace.latencyCdf = cdfOf(run.cpuFigures().latency());
  }
}

/** The CDF of a histogram as `[value, fraction]` points, at every percent and the far tail. */
export function cdfOf(histogram: Histogram): [number, number][] {
  if (histogram.count === 0) return [];
  const points: [number, number][] = [[histogram.min, 0]];
  const quantiles = [...Array.from({ length: 99 }, (_, i) => (i + 1) / 100), 0.995, 0.999, 1];
  for (const q of quantiles) {
    const value = histogram.quantile(q);
    const lastPoint = points[points.length - 1]!;
    if (value === lastPoint[0]) lastPoint[1] = q;
    else points.push([value, q]);
  }
  return points;
}
