/**
 * A domain's periodic hook (the CPU policy's `tick`, the memory policy's `balance`): called on
 * the multiples of the period the policy declared (`StartResult.tickNs`, else the domain's
 * default), for the policy in charge only; a period below the host's bound is refused at start.
 *
 * @module
 */

import type { StartResult } from "../protocol/definition.ts";
import { invalidDecision } from "../protocol/runtime.ts";
import type { Kernel } from "./kernel.ts";
import type { PolicySlot } from "./slot.ts";

/** How a domain's periodic hook is named and bounded. */
export interface PeriodicOptions {
  /** The hook (`tick`, `balance`). */
  hook: string;
  /** The domain's event kind for it; the event's tag is the policy's generation. */
  kind: number;
  /** The period when the policy declares none (or an invalid one). */
  defaultNs: number;
  /** The host's minimum period, and where the workload sets it (`host.cpu.minTick`). */
  minimum: { ns: number; name: string };
}

/** One domain's periodic hook and its events. */
export class Periodic {
  #kernel: Kernel;
  #slot: PolicySlot;
  #options: PeriodicOptions;
  #armed = -1;

  /**
   * @param kernel The kernel.
   * @param slot The domain's policy slot.
   * @param options The hook, its event kind, default period and bound.
   */
  constructor(kernel: Kernel, slot: PolicySlot, options: PeriodicOptions) {
    this.#kernel = kernel;
    this.#slot = slot;
    this.#options = options;
  }

  /** The period a policy declared: `tickNs` when it is a positive integer, else the default. */
  periodOf(declared: StartResult): number {
    const period = declared.tickNs;
    return period !== undefined && Number.isInteger(period) && period > 0
      ? period
      : this.#options.defaultNs;
  }

  /**
   * Refuses a policy whose period is below the host's minimum, before it takes charge.
   *
   * @throws {import("../protocol/runtime.ts").PolicyFailure} Of kind `invalid`,
   *   `<hook>-too-short`.
   */
  check(declared: StartResult): void {
    const { hook, minimum } = this.#options, period = this.periodOf(declared);
    if (declared.hooks.includes(hook) && period < minimum.ns) {
      throw invalidDecision(
        `${hook}-too-short`,
        `${hook}Ns ${period}: below the minimum ${hook} period of ${minimum.ns} ns (${minimum.name})`,
      );
    }
  }

  /** Arms the hook of a policy just in charge, at the next multiple of its period (once). */
  install(): void {
    const slot = this.#slot;
    if (!slot.has(this.#options.hook) || this.#armed === slot.generation) return;
    this.#armed = slot.generation;
    const period = this.periodOf(slot.declared), now = this.#kernel.now;
    const next = (Math.floor(now / period) + 1) * period;
    this.#kernel.schedule(next, this.#options.kind, 0, slot.generation);
  }

  /** Whether an event of `generation` is for the policy in charge, which has the hook. */
  current(generation: number): boolean {
    return generation === this.#slot.generation && this.#slot.has(this.#options.hook);
  }

  /** Queues the next call, a period from now, for `generation`. */
  next(generation: number): void {
    const now = this.#kernel.now;
    this.#kernel.schedule(
      now + this.periodOf(this.#slot.declared),
      this.#options.kind,
      0,
      generation,
    );
  }
}
