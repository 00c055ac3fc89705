/**
 * Small helpers policies share: burst prediction for SJF-like policies.
 *
 * @module
 */

import type { VcpuView } from "./cpu.ts";

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

/**
 * A first-in, first-out queue (a ring buffer): `push`, `shift` and `size` in constant time, for
 * policies that keep runnable vCPUs in arrival order.
 *
 * @example
 * ```ts
 * import { Fifo } from "./helpers.ts";
 * const queue = new Fifo<string>();
 * queue.push("a");
 * queue.push("b");
 * console.assert(queue.shift() === "a" && queue.size === 1);
 * ```
 */
export class Fifo<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  /** How many items are queued. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    if (this.#size === this.#items.length) {
      const items = this.#items;
      this.#items = new Array(items.length * 2);
      for (let i = 0; i < this.#size; i++) this.#items[i] = items[(this.#head + i) % items.length];
      this.#head = 0;
    }
    this.#items[(this.#head + this.#size++) % this.#items.length] = item;
  }

  /** Removes and returns the item at the front, or undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** The item at the front without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes the first item equal to `item`; returns whether one was removed. */
  remove(item: T): boolean {
    for (let i = 0; i < this.#size; i++) {
      if (this.#items[(this.#head + i) % this.#items.length] !== item) continue;
      for (let j = i; j < this.#size - 1; j++) {
        this.#items[(this.#head + j) % this.#items.length] =
          this.#items[(this.#head + j + 1) % this.#items.length];
      }
      this.#items[(this.#head + this.#size - 1) % this.#items.length] = undefined;
      this.#size--;
      return true;
    }
    return false;
  }

  /** The items from front to back. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) % this.#items.length]!;
  }
}
