/**
 * What an HTML report needs beyond the JSON report: per-VM CPU time sampled along the run (for
 * shares over time) and the scheduling-latency distribution (for CDFs), taken from a simulation
 * while it runs.
 *
 * @module
 */

import type { Histogram } from "../engine/histogram.ts";
import type { Simulation } from "../simulate.ts";

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

/** Watches a simulation as it runs; `runWorkload` calls it after every step. */
export interface RunObserver {
  /** After a step of the run. */
  step(simulation: Simulation): void;
  /** Once the run is over, before the simulation is closed. */
  end(simulation: Simulation): void;
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
  step(simulation: Simulation): void {
    const trace = this.trace, now = simulation.kernel.now;
    if (trace.nowNs.length === 0) {
      const end = simulation.kernel.stopAtNs;
      this.#minGapNs = end === undefined ? 0 : end / this.#maxSamples;
      trace.pcpus = simulation.cpu.pcpus.length;
    }
    const last = trace.nowNs[trace.nowNs.length - 1];
    if (last !== undefined && now - last < this.#minGapNs && !simulation.kernel.ended) return;
    trace.nowNs.push(now);
    const cpu = simulation.cpu;
    for (const vm of cpu.vms) {
      let run = 0;
      for (const id of vm.vcpus) {
        const vcpu = cpu.vcpus[id]!;
        run += vcpu.runNs + (cpu.status(vcpu) === "running" ? now - vcpu.sinceNs : 0);
      }
      (trace.runNs[vm.id] ??= []).push(run);
    }
  }

  /** Takes the latency distribution. */
  end(simulation: Simulation): void {
    this.step(simulation);
    this.trace.latencyCdf = cdfOf(simulation.cpu.latency());
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
