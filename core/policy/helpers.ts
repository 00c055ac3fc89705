/**
 * Small helpers policies share: burst prediction for SJF-like policies, a FIFO, and a table of
 * live items by id (the last two are the kernel's own, from `core/engine/`).
 *
 * @module
 */

import type { VcpuView } from "./cpu/views.ts";

export { Fifo } from "../engine/fifo.ts";
export { LiveById } from "../engine/live_by_id.ts";

/**
 * Predicts a vCPU's next CPU burst the textbook way: the declared length when the program
 * declares it, otherwise the exponential average `τ(n+1) = α·t(n) + (1 − α)·τ(n)` of its past
 * bursts.
 *
 * @example
 * ```ts
 * import { BurstPredictor } from "./helpers.ts";
 * const predictor = new BurstPredictor({ alpha: 0.5, initialNs: 10_000_000 });
 * console.assert(predictor.alpha === 0.5);
 * ```
 */
export class BurstPredictor {
  /** The weight of the latest burst. */
  readonly alpha: number;
  /** The guess before any burst was seen. */
  readonly initialNs: number;
  #tau = new Map<number, number>();

  /**
   * Creates a predictor.
   *
   * @param options `alpha` (default 0.5) and `initialNs` (default 10 ms).
   */
  constructor(options: { alpha?: number; initialNs?: number } = {}) {
    this.alpha = options.alpha ?? 0.5;
    this.initialNs = options.initialNs ?? 10_000_000;
  }

  /** Folds the vCPU's last complete burst into its average; call it when a vCPU blocks. */
  observe(vcpu: VcpuView): void {
    if (vcpu.lastBurstNs === null) return;
    const tau = this.#tau.get(vcpu.id) ?? this.initialNs;
    this.#tau.set(vcpu.id, this.alpha * vcpu.lastBurstNs + (1 - this.alpha) * tau);
  }

  /** The expected length of the vCPU's current burst. */
  burst(vcpu: VcpuView): number {
    return vcpu.burstNs ?? this.#tau.get(vcpu.id) ?? this.initialNs;
  }

  /** The expected time the vCPU still needs in its current burst. */
  remaining(vcpu: VcpuView): number {
    return vcpu.remainingNs ?? this.burst(vcpu);
  }
}
