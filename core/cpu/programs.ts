/**
 * What vCPUs do: explicit programs of run and sleep steps, seeded generators, and utilisation
 * curves (inline or replayed from PlanetLab traces). A program is shared by the vCPUs of a VM;
 * each vCPU keeps its own {@linkcode ProgramCursor}, with its own random stream, so generated
 * behaviour does not depend on the policy that schedules it.
 *
 * @module
 */

import { DOUBLE } from "../engine/double_fields.ts";
import { Rng } from "../engine/rng.ts";
import type { CpuWorkload } from "../workload/schema.ts";

/** Step kinds a program yields. */
export const STEP = { RUN: 0, SLEEP: 1, SLEEP_UNTIL: 2, END: 3, IO: 4 } as const;

/** Where a vCPU is in its program, and the step it is on. */
export class ProgramCursor {
  /** The current step's kind (a {@linkcode STEP} value). */
  kind = 0;
  /** RUN: its length; SLEEP: its length; SLEEP_UNTIL: the absolute wake time. */
  ns = DOUBLE;
  /** Whether a RUN step's length is declared to policies (explicit programs). */
  declared = false;
  /** IO: the request payload. */
  payload: unknown = undefined;
  /** Explicit programs: index of the next step and completed iterations. */
  index = 0;
  /** Explicit programs: how many times the program has been completed. */
  iteration = 0;
  /** Utilisation programs: the next period whose work has not been released. */
  period = 0;
  /** Utilisation programs: work released so far, in ns. */
  releasedNs = DOUBLE;
  /** Bursty: when the current phase ends, and its utilisation. */
  phaseEndNs = DOUBLE;
  /** Bursty: utilisation of the current phase. */
  phaseLoad = 0;
  /** The vCPU's own random stream. */
  readonly rng: Rng;

  /** @param rng The vCPU's random stream. */
  constructor(rng: Rng) {
    this.rng = rng;
    // Doubles from the start (`engine/double_fields.ts`): times past 2^30 ns.
    this.ns = this.releasedNs = this.phaseEndNs = 0;
  }
}

/** A program: yields a vCPU's steps one after another. */
export interface Program {
  /** False when the program never ends (the workload then needs `stopAt`). */
  readonly finite: boolean;
  /** What the program is, for messages. */
  readonly label: string;
  /** Moves the cursor to the next step, at simulated time `nowNs`. */
  next(cursor: ProgramCursor, nowNs: number): void;
  /** The work the program has asked for by `endNs`, or null when that is not meaningful. */
  demandNs(cursor: ProgramCursor, endNs: number): number | null;
}

class ExplicitProgram implements Program {
  readonly label = "program";
  readonly finite: boolean;
  #steps: CpuWorkload["program"] & object;
  #repeat: boolean | number;

  constructor(steps: CpuWorkload["program"] & object, repeat: boolean | number | undefined) {
    this.#steps = steps;
    this.#repeat = repeat ?? false;
    this.finite = this.#repeat !== true ||
      !steps.some((step) => step.run !== undefined);
  }

  next(cursor: ProgramCursor): void {
    const steps = this.#steps;
    if (cursor.index === steps.length && !wrapAround(cursor, this.#repeat)) return;
    const step = steps[cursor.index++]!;
    cursor.declared = true;
    if (step.run !== undefined) cursor.kind = STEP.RUN, cursor.ns = step.run;
    else if (step.sleep !== undefined) cursor.kind = STEP.SLEEP, cursor.ns = step.sleep;
    else cursor.kind = STEP.IO, cursor.payload = step.io;
  }

  demandNs(): null {
    return null;
  }
}

/**
 * A cursor past a program's last step: back to the first step when the program repeats (true),
 * else at the end (false).
 */
function wrapAround(cursor: ProgramCursor, repeat: boolean | number): boolean {
  cursor.iteration++;
  if (repeat === true || (typeof repeat === "number" && cursor.iteration < repeat)) {
    cursor.index = 0;
    return true;
  }
  cursor.kind = STEP.END;
  return false;
}

/**
 * Takes the end of an explicit program once (repeated, then done), on a program of its own, when
 * the module loads: V8 optimizes the kernel's loop (`next` inlined) long before a run's first
 * program ends, and optimized code that reaches a path it never saw run (no type feedback) is
 * thrown away and compiled again, the whole loop with it.
 */
function takePathsOnce(): void {
  const program = new ExplicitProgram([{ run: 1 }], 2), cursor = new ProgramCursor(new Rng(0));
  for (let i = 0; i < 3; i++) program.next(cursor);
}
takePathsOnce();

class CpuBoundProgram implements Program {
  readonly label = "pattern cpu-bound";
  readonly finite = false;

  next(cursor: ProgramCursor): void {
    cursor.kind = STEP.RUN;
    cursor.ns = Infinity;
    cursor.declared = false;
  }

  demandNs(): null {
    return null;
  }
}

class InteractiveProgram implements Program {
  readonly label = "pattern interactive";
  readonly finite = false;
  #runNs: number;
  #sleepNs: number;

  constructor(runNs: number, sleepNs: number) {
    this.#runNs = runNs;
    this.#sleepNs = sleepNs;
  }

  next(cursor: ProgramCursor): void {
    // Alternate run and sleep, starting with a run; lengths are exponential, at least 1 µs.
    const run = cursor.iteration++ % 2 === 0;
    cursor.kind = run ? STEP.RUN : STEP.SLEEP;
    cursor.ns = Math.max(
      1000,
      Math.round(cursor.rng.exponential(run ? this.#runNs : this.#sleepNs)),
    );
    cursor.declared = false;
  }

  demandNs(): null {
    return null;
  }
}

/**
 * Work arrives every period: `load(k) × period` ns of it at the start of period `k`. A vCPU runs
 * the work released so far, then sleeps until the next release; work it could not finish in time
 * carries over, so delivered CPU falls behind demand exactly when the host is short.
 */
class UtilizationProgram implements Program {
  readonly label: string;
  readonly finite: boolean;
  #periodNs: number;
  #periods: number;
  #load: (cursor: ProgramCursor, period: number) => number;

  constructor(
    label: string,
    periodNs: number,
    periods: number,
    load: (cursor: ProgramCursor, period: number) => number,
  ) {
    this.label = label;
    this.#periodNs = periodNs;
    this.#periods = periods;
    this.finite = Number.isFinite(periods);
    this.#load = load;
  }

  next(cursor: ProgramCursor, nowNs: number): void {
    let work = 0;
    while (cursor.period < this.#periods && cursor.period * this.#periodNs <= nowNs) {
      work += this.#release(cursor);
    }
    cursor.declared = false;
    if (work > 0) cursor.kind = STEP.RUN, cursor.ns = work;
    else if (cursor.period < this.#periods) {
      cursor.kind = STEP.SLEEP_UNTIL, cursor.ns = cursor.period * this.#periodNs;
    } else cursor.kind = STEP.END;
  }

  #release(cursor: ProgramCursor): number {
    const work = Math.round(this.#load(cursor, cursor.period) * this.#periodNs);
    cursor.period++;
    cursor.releasedNs += work;
    return work;
  }

  demandNs(cursor: ProgramCursor, endNs: number): number {
    // Work of periods that began before the end but were not picked up yet still counts. Reading
    // it must not move the program (the figures are read mid-run, by the HTML report's recorder
    // and the live kernel): a bursty load draws its phases from the vCPU's stream as it goes, so
    // its phase and the stream are put back as they were.
    let demand = cursor.releasedNs;
    const { phaseEndNs, phaseLoad } = cursor, stream = cursor.rng.state();
    for (let k = cursor.period; k < this.#periods && k * this.#periodNs < endNs; k++) {
      demand += Math.round(this.#load(cursor, k) * this.#periodNs);
    }
    cursor.phaseEndNs = phaseEndNs;
    cursor.phaseLoad = phaseLoad;
    cursor.rng.restore(stream);
    return demand;
  }
}

/** Reads a PlanetLab file: one integer percentage per line. */
export function parsePlanetlab(text: string, path: string): number[] {
  const values: number[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const value = Number(line);
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw new Error(
        `${path}:${i + 1}: expected an integer utilisation from 0 to 100, got ${
          JSON.stringify(line)
        }`,
      );
    }
    values.push(value);
  }
  if (values.length === 0) throw new Error(`${path}: expected at least one line, got none`);
  return values;
}

/** Creates a curve program from percentages, each held for `intervalNs`. */
function curveProgram(label: string, percents: number[], intervalNs: number, periodNs: number) {
  const periods = Math.ceil(percents.length * intervalNs / periodNs);
  return new UtilizationProgram(label, periodNs, periods, (_cursor, period) => {
    const line = Math.min(percents.length - 1, Math.floor(period * periodNs / intervalNs));
    return percents[line]! / 100;
  });
}

/**
 * Builds the program a VM's vCPUs run from its `cpu` spec.
 *
 * @param cpu The validated spec (absent: the VM uses no CPU).
 * @param readText Reads trace files (injected so tests and the server can control I/O).
 */
export function buildProgram(
  cpu: CpuWorkload | undefined,
  readText: (path: string) => string,
): Program | null {
  if (cpu === undefined) return null;
  if (cpu.program !== undefined) return new ExplicitProgram(cpu.program, cpu.repeat);
  if (cpu.trace !== undefined) {
    const { trace } = cpu;
    const all = parsePlanetlab(readText(trace.path), trace.path);
    const lines = all.slice(
      trace.start,
      trace.count === undefined ? undefined : trace.start + trace.count,
    );
    if (lines.length === 0) {
      throw new Error(`${trace.path}: start ${trace.start} is past the file's ${all.length} lines`);
    }
    return curveProgram(`trace ${trace.path}`, lines, trace.interval, trace.period);
  }
  if (cpu.utilization !== undefined) {
    return curveProgram(
      "utilization",
      cpu.utilization,
      cpu.interval ?? 1_000_000_000,
      cpu.period ?? 10_000_000,
    );
  }
  switch (cpu.pattern) {
    case "interactive":
      return new InteractiveProgram(cpu.run ?? 2_000_000, cpu.sleep ?? 20_000_000);
    case "bursty": {
      const phaseNs = cpu.phase ?? 1_000_000_000, busy = cpu.busy ?? 0.9, quiet = cpu.quiet ?? 0.05;
      return new UtilizationProgram(
        "pattern bursty",
        cpu.period ?? 10_000_000,
        Infinity,
        (c, k) => {
          const start = k * (cpu.period ?? 10_000_000);
          while (start >= c.phaseEndNs) {
            c.phaseLoad = c.phaseLoad === busy ? quiet : busy;
            c.phaseEndNs += Math.max(1, Math.round(c.rng.exponential(phaseNs)));
          }
          return c.phaseLoad;
        },
      );
    }
    case "cpu-bound":
    case undefined:
      return new CpuBoundProgram();
  }
}
