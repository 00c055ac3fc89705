/**
 * The live kernel's clock: simulated time paced to wall-clock time times a speed factor (or as
 * fast as the kernel goes), paused and resumed, run in short slices so that requests wait little.
 * SimPy keeps its wall-clock pacing apart from its core in the same way (`rt.py`): the simulation
 * knows nothing of wall time, and this loop only decides how far to run it next.
 *
 * @module
 */

/** What the clock paces: a simulation, run through the live kernel's queue. */
export interface PacedRun {
  /** The simulation: its time, whether it is over, and how to run it to a time. */
  readonly simulation: {
    readonly nowNs: number;
    readonly ended: boolean;
    run(limitNs?: number): Promise<void>;
  };
  /** Runs a task when nothing else touches the kernel (see `LiveKernel.exclusive`). */
  exclusive<T>(task: () => T | Promise<T>): Promise<T>;
  /** The work between slices (snapshots, samples, checkpoints); called inside the queue. */
  housekeeping(): Promise<void> | void;
  /** Told when the kernel itself fails, and the clock pauses. */
  onWarning?: (message: string) => void;
}

/** Options of a {@linkcode LiveClock}. */
export interface LiveClockOptions {
  /** Simulated seconds per wall-clock second (default 1); `Infinity` runs as fast as possible. */
  speed?: number;
  /** Start paused. */
  paused?: boolean;
  /** How long a paused or ended clock sleeps between housekeepings (default 250 ms). */
  idleMs?: number;
}

/**
 * The pacing of a live simulation.
 *
 * @example
 * ```ts
 * import { LiveClock } from "./clock.ts";
 *
 * const clock = new LiveClock({ speed: 2, paused: true });
 * console.assert(clock.paused && clock.speed === 2 && clock.lagNs === 0);
 * ```
 */
export class LiveClock {
  /** Simulated seconds per wall-clock second (`Infinity`: as fast as possible). */
  speed: number;
  /** Whether the clock is paused. */
  paused: boolean;
  #idleMs: number;
  #anchorWallMs = 0;
  #anchorSimNs = 0;
  #lagNs = 0;
  #chunkNs = 10_000_000;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;

  /** @param options Speed, pause and idle period. */
  constructor(options: LiveClockOptions = {}) {
    this.speed = options.speed ?? 1;
    this.paused = options.paused ?? false;
    this.#idleMs = options.idleMs ?? 250;
  }

  /** How far (simulated ns) the simulation is behind where the speed would have it. */
  get lagNs(): number {
    return this.#lagNs;
  }

  /** The simulated time one slice of kernel work covers now, adapted to how long slices take. */
  get chunkNs(): number {
    return this.#chunkNs;
  }

  /**
   * Counts wall time from now, from the simulated time `nowNs` (after a pause, a step, a change
   * of speed, or a backlog dropped).
   *
   * @param nowNs The simulation's time now.
   */
  reanchor(nowNs: number): void {
    this.#anchorWallMs = performance.now();
    this.#anchorSimNs = nowNs;
    this.#lagNs = 0;
  }

  /** Ends a sleep early (a resume, a close). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Starts the pacing loop (once).
   *
   * @param run The simulation and the queue it runs through.
   */
  start(run: PacedRun): void {
    if (this.#loop !== undefined || this.#stopped) return;
    this.reanchor(run.simulation.nowNs);
    this.#loop = this.#run(run);
  }

  /** Stops the loop and waits for it; idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await this.#loop;
  }

  async #run(run: PacedRun): Promise<void> {
    const simulation = run.simulation;
    while (!this.#stopped) {
      if (this.paused || simulation.ended) {
        await run.exclusive(() => run.housekeeping());
        await this.#sleep(this.#idleMs);
        continue;
      }
      const started = performance.now();
      const paced = this.speed === Infinity
        ? Infinity
        : this.#anchorSimNs + (started - this.#anchorWallMs) * 1e6 * this.speed;
      const limit = Math.floor(Math.min(paced, simulation.nowNs + this.#chunkNs));
      let limited = false;
      if (limit > simulation.nowNs) {
        try {
          await run.exclusive(async () => {
            if (this.paused || this.#stopped) return;
            await simulation.run(limit);
            run.housekeeping();
          });
        } catch (error) {
          // A fault of the kernel itself (not a policy's: those are incidents). Stop the clock and
          // keep serving, so the state can still be read and the server stopped cleanly.
          this.paused = true;
          run.onWarning?.(
            `The kernel failed at ${simulation.nowNs} ns and the clock is paused: ${
              (error as Error)?.stack ?? error
            }`,
          );
          continue;
        }
        const took = performance.now() - started;
        limited = limit < paced;
        // Keep each slice of kernel work short (a few ms), so requests wait little for the queue:
        // a backlog (the process was descheduled, or the speed is high) is worked off in slices.
        if (took > 4) this.#chunkNs = Math.max(10_000, Math.floor(this.#chunkNs / 2));
        else if (took < 1 && limited) this.#chunkNs = Math.min(60e9, this.#chunkNs * 2);
      } else {
        await run.exclusive(() => run.housekeeping());
      }
      if (this.speed !== Infinity) {
        this.#lagNs = Math.max(0, Math.floor(paced - simulation.nowNs));
        // More than a second of wall time behind: drop the backlog rather than race to catch up.
        if (this.#lagNs > this.speed * 1e9) this.reanchor(simulation.nowNs);
      }
      if (limited) await this.#sleep(0);
      else await this.#sleep(10);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        done();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        done();
      };
    });
  }
}

/**
 * A speed as the API and the audit log write it.
 *
 * @param speed Simulated seconds per wall-clock second.
 * @returns The speed, or `"max"` for `Infinity`.
 */
export function encodeSpeed(speed: number): number | "max" {
  return speed === Infinity ? "max" : speed;
}

/**
 * A speed as the API and the audit log write it, back to a number.
 *
 * @param speed The written speed.
 * @returns The speed (`Infinity` for `"max"`), or undefined for none.
 */
export function decodeSpeed(speed: number | "max" | undefined): number | undefined {
  return speed === undefined ? undefined : speed === "max" ? Infinity : speed;
}
