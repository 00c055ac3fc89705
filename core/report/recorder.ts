/**
 * What an HTML report needs beyond the JSON report: per-VM CPU time sampled along the run (for
 * shares over time) and the scheduling-latency distribution (for CDFs), taken from a simulation
 * while it runs.
 *
 * @module
 */

import type { Histogram } from "../engine/histogram.ts";
import type { CpuFigures } from "../cpu/figures.ts";
import type { MemoryFigures } from "../memory/figures.ts";
import type { IoFigures } from "../io/figures.ts";
import type { TimelineChange } from "../workload/types.ts";

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
  /** Per VM with memory, at each sample: frames held, balloon target (null: none), faults. */
  memory?: {
    resident: Record<string, number[]>;
    target: Record<string, (number | null)[]>;
    faults: Record<string, number[]>;
  };
  /** Per VM with I/O, at each sample: requests completed and their summed latency (ns). */
  io?: { completed: Record<string, number[]>; latencySumNs: Record<string, number[]> };
  /** The workload's timeline: when a VM's parameters change, and what they change to. */
  changes?: { atNs: number; vm: string; label: string }[];
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
  /**
   * The domains' figures now: the memory domain's and the I/O domain's, when the run has them
   * (for memory and I/O over time).
   */
  figures(): { readonly memory: MemoryFigures | undefined; readonly io: IoFigures | undefined };
  /** The workload, for the changes its timeline makes. */
  readonly workload?: { readonly timeline: readonly TimelineChange[] };
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
    const first = trace.nowNs.length === 0;
    const cpu = this.#sample(run, now);
    if (cpu === undefined) return;
    // Observers see a run after its first step: its start is known (nothing has run, nothing was
    // loaded, nothing completed), and without it a run of one step would have no interval at all.
    if (first && now > 0) this.#pushStart(run, cpu);
    trace.nowNs.push(now);
    for (const vm of cpu.vms) (trace.runNs[vm.id] ??= []).push(vm.runNs + vm.runningNs);
    const { memory, io } = run.figures();
    if (memory !== undefined) {
      const series = trace.memory ??= { resident: {}, target: {}, faults: {} };
      for (const vm of cpu.vms) {
        const figures = memory.vms[vm.index];
        if (figures === undefined) continue;
        (series.resident[vm.id] ??= []).push(figures.resident);
        (series.target[vm.id] ??= []).push(figures.target);
        (series.faults[vm.id] ??= []).push(figures.faults);
      }
    }
    if (io !== undefined) {
      const series = trace.io ??= { completed: {}, latencySumNs: {} };
      for (const vm of cpu.vms) {
        const figures = io.vms[vm.index];
        if (figures === undefined) continue;
        (series.completed[vm.id] ??= []).push(figures.completed);
        (series.latencySumNs[vm.id] ??= []).push(figures.latencyNs.mean * figures.completed);
      }
    }
  }

  /** A sample at time 0, of the counters' values then: zero. */
  #pushStart(run: RunView, cpu: CpuFigures): void {
    const trace = this.trace;
    trace.nowNs.push(0);
    for (const vm of cpu.vms) (trace.runNs[vm.id] ??= []).push(0);
    const { memory, io } = run.figures();
    if (memory !== undefined) {
      const series = trace.memory ??= { resident: {}, target: {}, faults: {} };
      for (const vm of cpu.vms) {
        if (memory.vms[vm.index] === undefined) continue;
        (series.resident[vm.id] ??= []).push(0);
        (series.target[vm.id] ??= []).push(null);
        (series.faults[vm.id] ??= []).push(0);
      }
    }
    if (io !== undefined) {
      const series = trace.io ??= { completed: {}, latencySumNs: {} };
      for (const vm of cpu.vms) {
        if (io.vms[vm.index] === undefined) continue;
        (series.completed[vm.id] ??= []).push(0);
        (series.latencySumNs[vm.id] ??= []).push(0);
      }
    }
  }

  /** The CPU figures to sample now, or undefined when the last sample is too recent. */
  #sample(run: RunView, now: number): CpuFigures | undefined {
    const trace = this.trace;
    if (trace.nowNs.length === 0) {
      trace.changes = (run.workload?.timeline ?? []).map((change) => ({
        atNs: change.at,
        vm: change.vm,
        label: describeChange(change),
      }));
      const end = run.stopAtNs;
      this.#minGapNs = end === undefined ? 0 : end / this.#maxSamples;
      const cpu = run.cpuFigures();
      trace.pcpus = cpu.busyNs.length;
      return cpu;
    }
    const last = trace.nowNs[trace.nowNs.length - 1]!;
    // A second sample at the same instant (the end after the last step) spans no time: a share
    // over it would read as a drop to zero.
    if (now === last) return undefined;
    if (now - last < this.#minGapNs && !run.ended) return undefined;
    return run.cpuFigures();
  }

  /** Takes the latency distribution. */
  end(run: RunView): void {
    this.step(run);
    this.trace.latencyCdf = cdfOf(run.cpuFigures().latency());
  }
}

/** A timeline change in words: `web-1 weight 512, cap 50`. */
function describeChange(change: TimelineChange): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(change.set)) {
    if (value === undefined) continue;
    if (typeof value === "object" && value !== null) {
      for (const [inner, innerValue] of Object.entries(value)) {
        parts.push(`${key}.${inner} ${JSON.stringify(innerValue)}`);
      }
    } else parts.push(`${key} ${value}`);
  }
  return `${change.vm} ${parts.join(", ")}`;
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
