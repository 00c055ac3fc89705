/**
 * Where a command's wall time goes, printed on stderr when `HYPERHOOK_PHASES=1`: the imports
 * (from the runtime's start to the command's first line), then each phase the command marks
 * (parsing the workload, building the simulation, running it, the report). `bench/end_to_end.ts`
 * reads the line; it is off by default and costs a clock read per phase.
 *
 * @example
 * ```ts
 * import { Phases } from "./phases.ts";
 *
 * const phases = new Phases(true);
 * phases.mark("parse");
 * console.assert(phases.line().startsWith("hyperhook phases: imports "));
 * ```
 *
 * @module
 */

/** The environment variable that turns the phase line on (`1`). */
export const PHASES_ENV = "HYPERHOOK_PHASES";

/** Whether `HYPERHOOK_PHASES=1` (false when the environment may not be read). */
export function phasesWanted(): boolean {
  try {
    return Deno.env.get(PHASES_ENV) === "1";
  } catch {
    return false;
  }
}

/** The wall time of a command's phases, in order. */
export class Phases {
  readonly #on: boolean;
  #last: number;
  /** Milliseconds by phase, in the order the phases first ended (a phase met again adds up). */
  readonly #spent = new Map<string, number>();

  /**
   * Starts the clock: the time since the runtime started is the `imports` phase.
   *
   * @param on Whether to measure (default: `HYPERHOOK_PHASES=1`); off, `mark` and `print` do nothing.
   */
  constructor(on: boolean = phasesWanted()) {
    this.#on = on;
    this.#last = performance.now();
    if (on) this.#spent.set("imports", this.#last);
  }

  /** Ends the phase under way, naming it `name`; the next one starts now. */
  mark(name: string): void {
    if (!this.#on) return;
    const now = performance.now();
    this.#spent.set(name, (this.#spent.get(name) ?? 0) + now - this.#last);
    this.#last = now;
  }

  /** The phases as one line: `hyperhook phases: imports 41.2 ms, parse 3.1 ms, ...`. */
  line(): string {
    const parts = [...this.#spent].map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`);
    return `hyperhook phases: ${parts.join(", ")}`;
  }

  /** Prints the line on stderr, when on. */
  print(): void {
    if (this.#on) console.error(this.line());
  }
}
