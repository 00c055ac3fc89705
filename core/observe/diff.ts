/**
 * Where two runs part: the same workload and seed under two policies (or two versions of one),
 * compared decision by decision. Runs are deterministic, so the first decision where their logs
 * differ is where the policies first chose differently; before it, the kernel's state was the same
 * in both.
 *
 * {@linkcode diffRuns} finds that decision, the decisions before it, the state at that instant
 * (what each pCPU ran, which vCPUs were runnable), and the per-VM differences in share, wait and
 * scheduling latency; over several seeds, which of those differences exceed the spread between
 * seeds.
 *
 * @module
 */

import { createSimulation, type PolicyChoice, type SimulateOptions } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";
import type { Report } from "../report/report.ts";
import type { Workload } from "../workload/schema.ts";
import type { Domain } from "../protocol/definition.ts";
import { type Decision, DecisionNames } from "./decisions.ts";

/** Options of {@linkcode diffRuns}. */
export interface DiffOptions {
  /** The domain the two policies are for (default `cpu`). */
  domain?: Exclude<Domain, "placement">;
  /** Seeds to compare (default: the workload's seed alone). The first is the one diffed. */
  seeds?: number[];
  /** How many decisions before the first difference to show (default 5). */
  context?: number;
  /** Simulation options for both runs (isolation, watchdog...); the policies are set here. */
  simulate?: SimulateOptions;
}

/** The kernel's state just before an instant: what each pCPU runs, which vCPUs are runnable. */
export interface DiffState {
  /** The instant (ns). */
  atNs: number;
  /** Per pCPU: `VM/vCPU` running there, or null when idle. */
  running: (string | null)[];
  /** `VM/vCPU` of every vCPU ready to run but not running. */
  runnable: string[];
}

/** Where two runs first part. */
export interface FirstDifference {
  /** The index of the first differing decision in both logs. */
  index: number;
  /** The instant it happens: the earlier of the two runs' decisions there. */
  atNs: number;
  /** Run A's decision at that index, or null when A's log ended (or A decided later). */
  a: Decision | null;
  /** Run B's decision at that index, or null when B's log ended (or B decided later). */
  b: Decision | null;
  /** A's decision there when it comes later than B's (A decided nothing at `atNs`). */
  aNext: Decision | null;
  /** B's decision there when it comes later than A's. */
  bNext: Decision | null;
  /** The decisions both runs made just before, oldest first. */
  before: Decision[];
  /** The state both runs shared just before `atNs`. */
  state: DiffState;
}

/** One per-VM figure under both policies, over the seeds. */
export interface VmDifference {
  /** The VM. */
  vm: string;
  /** The figure: `share`, `waitNs` or `latencyP99Ns`. */
  metric: string;
  /** Its mean under A and under B over the seeds. */
  a: number;
  /** See `a`. */
  b: number;
  /** `b - a`. */
  delta: number;
  /** The larger of the two policies' spreads (max - min) between seeds; 0 with one seed. */
  spread: number;
  /** Whether the difference exceeds the spread between seeds (with several seeds), or is not 0. */
  significant: boolean;
}

/** What {@linkcode diffRuns} found. */
export interface DiffResult {
  /** The two policies' labels. */
  labels: [string, string];
  /** The seeds compared. */
  seeds: number[];
  /** Each run's decision count on the first seed. */
  decisions: [number, number];
  /** Each run's eventsHash on the first seed. */
  eventsHash: [string, string];
  /** Where the runs part on the first seed, or null when they made the same decisions. */
  first: FirstDifference | null;
  /** Seeds on which the two runs' decisions differ. */
  differingSeeds: number[];
  /** Per VM and figure: the means under both, the difference and the spread between seeds. */
  vms: VmDifference[];
  /** The reports of the first seed. */
  reports: [Report, Report];
}

/** Decisions of one run, as the numbers of the log's records: six a record. */
class RecordTape {
  nums = new Float64Array(6 * 1024);
  count = 0;

  push(domain: number, kind: number, atNs: number, a: number, b: number, c: number): void {
    let i = 6 * this.count;
    if (i + 6 > this.nums.length) {
      const bigger = new Float64Array(this.nums.length * 2);
      bigger.set(this.nums);
      this.nums = bigger;
    }
    const n = this.nums;
    n[i++] = domain, n[i++] = kind, n[i++] = atNs, n[i++] = a, n[i++] = b, n[i] = c;
    this.count++;
  }

  same(other: RecordTape, index: number): boolean {
    for (let k = 6 * index; k < 6 * index + 6; k++) {
      if (!Object.is(this.nums[k], other.nums[k])) return false;
    }
    return true;
  }

  atNs(index: number): number {
    return this.nums[6 * index + 2]!;
  }

  describe(names: DecisionNames, index: number): Decision | null {
    if (index >= this.count) return null;
    const n = this.nums, i = 6 * index;
    return names.describe(n[i]!, n[i + 1]!, n[i + 2]!, n[i + 3]!, n[i + 4]!, n[i + 5]!);
  }
}

/**
 * The first difference at `index` of two decision tapes: its instant (the earlier of the two
 * decisions there), each side's decision, the decisions both made just before, and the state
 * they shared (`stateAt`, from a run stopped at that instant).
 */
async function describeFirst(
  index: number,
  a: { tape: RecordTape; names: DecisionNames },
  b: { tape: RecordTape; names: DecisionNames },
  context: number,
  stateAt: (atNs: number) => Promise<DiffState>,
): Promise<FirstDifference> {
  const aAt = index < a.tape.count ? a.tape.atNs(index) : Infinity;
  const bAt = index < b.tape.count ? b.tape.atNs(index) : Infinity;
  const atNs = Math.min(aAt, bAt);
  const before: Decision[] = [];
  // Alike before `index`: either side's decisions are both's.
  for (let i = Math.max(0, index - context); i < index; i++) {
    before.push(b.tape.describe(b.names, i)!);
  }
  const da = a.tape.describe(a.names, index), db = b.tape.describe(b.names, index);
  return {
    index,
    atNs,
    a: aAt === atNs ? da : null,
    b: bAt === atNs ? db : null,
    aNext: aAt > atNs ? da : null,
    bNext: bAt > atNs ? db : null,
    before,
    state: await stateAt(atNs),
  };
}

interface TapedRun {
  tape: RecordTape;
  names: DecisionNames;
  report: Report;
}

async function tapedRun(
  workload: Workload,
  options: SimulateOptions,
  untilNs?: number,
): Promise<TapedRun & { state?: DiffState }> {
  const tape = new RecordTape();
  let names: DecisionNames | undefined;
  const simulation = await createSimulation(workload, {
    ...options,
    observe: (simulation) => {
      names = new DecisionNames(simulation);
      internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) =>
        tape.push(domain, kind, atNs, a, b, c)
      );
    },
  });
  try {
    let state: DiffState | undefined;
    if (untilNs !== undefined) {
      await simulation.run(untilNs - 1);
      state = stateOf(simulation, names!, untilNs);
    }
    await simulation.run();
    return { tape, names: names!, report: simulation.report(), state };
  } finally {
    await simulation.close();
  }
}

function stateOf(
  simulation: Awaited<ReturnType<typeof createSimulation>>,
  names: DecisionNames,
  atNs: number,
): DiffState {
  const cpu = internals(simulation).cpu;
  const label = (id: number) => {
    const vcpu = names.vcpu(id);
    return `${names.vm(vcpu.vm)}/${vcpu.index}`;
  };
  return {
    atNs,
    running: cpu.pcpus.map((pcpu) => pcpu.vcpu >= 0 ? label(pcpu.vcpu) : null),
    runnable: cpu.vcpus.filter((vcpu) => cpu.status(vcpu) === "ready").map((vcpu) =>
      label(vcpu.id)
    ),
  };
}

/** The options of one side of the diff: the workload's other policies, this domain's choice. */
function sideOptions(
  options: DiffOptions,
  choice: PolicyChoice,
  seed: number,
): SimulateOptions {
  const domain = options.domain ?? "cpu";
  return {
    ...options.simulate,
    seed,
    policies: { ...options.simulate?.policies, [domain]: choice },
  };
}

const METRICS: [string, (vm: Report["vms"][number]) => number][] = [
  ["share", (vm) => vm.cpu.share],
  ["waitNs", (vm) => vm.cpu.waitNs],
  ["latencyP99Ns", (vm) => vm.cpu.latencyNs.p99],
];

/**
 * Runs `workload` under policy `a` and under policy `b` (same seeds) and compares them.
 *
 * @example
 * ```ts ignore
 * const result = await diffRuns(workload, [{ use: "rr" }, { use: "rr", config: { quantum: "5ms" } }]);
 * console.log(result.first?.atNs);
 * ```
 *
 * @param workload The workload, validated.
 * @param choices The two policies (references and configurations), with labels.
 * @param options Domain, seeds, context, simulation options.
 */
export async function diffRuns(
  workload: Workload,
  choices: [PolicyChoice & { label: string }, PolicyChoice & { label: string }],
  options: DiffOptions = {},
): Promise<DiffResult> {
  const seeds = options.seeds ?? [workload.seed];
  const context = options.context ?? 5;
  const perSeed: [Report, Report][] = [];
  const differingSeeds: number[] = [];
  let first: FirstDifference | null = null;
  let firstRuns: [TapedRun, TapedRun] | undefined;
  for (const [s, seed] of seeds.entries()) {
    const runA = await tapedRun(workload, sideOptions(options, choices[0], seed));
    const runB = await tapedRun(workload, sideOptions(options, choices[1], seed));
    perSeed.push([runA.report, runB.report]);
    if (runA.report.eventsHash !== runB.report.eventsHash) differingSeeds.push(seed);
    if (s > 0) continue;
    firstRuns = [runA, runB];
    const index = firstDifference(runA.tape, runB.tape);
    if (index === -1) continue;
    first = await describeFirst(
      index,
      runA,
      runB,
      context,
      // Before the instant the two kernels decided alike, so they were in the same state: A's is B's.
      async (atNs) =>
        (await tapedRun(workload, sideOptions(options, choices[0], seed), atNs)).state!,
    );
  }
  const vms: VmDifference[] = [];
  const reportA = perSeed[0]![0];
  for (const [v, vm] of reportA.vms.entries()) {
    for (const [metric, read] of METRICS) {
      const valuesA = perSeed.map(([a]) => read(a.vms[v]!));
      const valuesB = perSeed.map(([, b]) => read(b.vms[v]!));
      const meanA = mean(valuesA), meanB = mean(valuesB);
      const spread = Math.max(range(valuesA), range(valuesB));
      const delta = meanB - meanA;
      vms.push({
        vm: vm.id,
        metric,
        a: meanA,
        b: meanB,
        delta,
        spread,
        significant: seeds.length > 1 ? Math.abs(delta) > spread : delta !== 0,
      });
    }
  }
  return {
    labels: [choices[0].label, choices[1].label],
    seeds,
    decisions: [firstRuns![0].tape.count, firstRuns![1].tape.count],
    eventsHash: [firstRuns![0].report.eventsHash, firstRuns![1].report.eventsHash],
    first,
    differingSeeds,
    vms,
    reports: [firstRuns![0].report, firstRuns![1].report],
  };
}

/** The index of the first record where two tapes differ (one ending counts), or -1. */
function firstDifference(a: RecordTape, b: RecordTape): number {
  const common = Math.min(a.count, b.count);
  for (let i = 0; i < common; i++) if (!a.same(b, i)) return i;
  return a.count === b.count ? -1 : common;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function range(values: number[]): number {
  return Math.max(...values) - Math.min(...values);
}

/** A recorded run to diff against: its raw decision log (`--log FILE`, any name but .jsonl/.csv). */
export interface Baseline {
  /** The raw log's text: one record `atNs domain kind a b c` a line. */
  log: string;
  /** Its report (`--out FILE`), for the per-VM figures; without it, none are compared. */
  report?: Report;
  /** How it is named (default `baseline`). */
  label?: string;
}

/**
 * Compares a recorded run (its raw decision log and report) with `choice` on the same workload
 * and seed: a policy against its last release, without the release's code.
 *
 * @param workload The workload the baseline ran, validated.
 * @param baseline The recorded log (and report).
 * @param choice The policy to compare with it.
 * @param options Domain, context, simulation options (one seed: the workload's, or `seeds[0]`).
 * @throws {Error} When a line of the log is not a raw record.
 */
export async function diffBaseline(
  workload: Workload,
  baseline: Baseline,
  choice: PolicyChoice & { label: string },
  options: DiffOptions = {},
): Promise<DiffResult> {
  const seed = options.seeds?.[0] ?? workload.seed;
  const recorded = new RecordTape();
  for (const [i, line] of baseline.log.split("\n").entries()) {
    if (line.trim() === "") continue;
    const fields = line.trim().split(" ").map(Number);
    if (fields.length !== 6 || fields.some((value) => Number.isNaN(value) && !/NaN/.test(line))) {
      throw new Error(
        `Baseline log line ${i + 1}: expected a raw record "atNs domain kind a b c", got ${
          line.slice(0, 80)
        }`,
      );
    }
    const [atNs, domain, kind, a, b, c] = fields as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    recorded.push(domain, kind, atNs, a, b, c);
  }
  const run = await tapedRun(workload, sideOptions(options, choice, seed));
  const index = firstDifference(recorded, run.tape);
  let first: FirstDifference | null = null;
  if (index >= 0) {
    // The same workload: the baseline's vCPUs, VMs and disks are named as this run's.
    first = await describeFirst(
      index,
      { tape: recorded, names: run.names },
      run,
      options.context ?? 5,
      async (atNs) => (await tapedRun(workload, sideOptions(options, choice, seed), atNs)).state!,
    );
  }
  const vms: VmDifference[] = [];
  if (baseline.report !== undefined) {
    for (const [v, vm] of run.report.vms.entries()) {
      const old = baseline.report.vms[v];
      if (old === undefined) continue;
      for (const [metric, read] of METRICS) {
        const a = read(old), b = read(vm);
        vms.push({ vm: vm.id, metric, a, b, delta: b - a, spread: 0, significant: b !== a });
      }
    }
  }
  return {
    labels: [baseline.label ?? "baseline", choice.label],
    seeds: [seed],
    decisions: [recorded.count, run.tape.count],
    eventsHash: [baseline.report?.eventsHash ?? "", run.report.eventsHash],
    first,
    differingSeeds: first === null ? [] : [seed],
    vms,
    reports: [baseline.report ?? run.report, run.report],
  };
}
