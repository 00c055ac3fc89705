/**
 * Small helpers policies share: burst prediction for SJF-like policies, a FIFO, and a table of
 * live items by id.
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

/**
 * Live items by id, for ids that grow forever while few items are live at once (disk requests, in
 * the kernel and in the I/O SDK): a table indexed by an id's low bits finds an item with one array
 * read, where a Map hashes at every call. When a new id's slot is still taken, the table doubles
 * until every live id has a slot of its own.
 *
 * @example
 * ```ts
 * import { LiveById } from "./helpers.ts";
 * const live = new LiveById<{ id: number }>();
 * live.add({ id: 7 });
 * console.assert(live.get(7)?.id === 7 && live.get(71) === undefined);
 * ```
 */
export class LiveById<T extends { readonly id: number }> {
  #table: (T | undefined)[];
  #mask: number;

  /** @param size The first table size, a power of two. */
  constructor(size = 64) {
    this.#table = new Array(size);
    this.#mask = size - 1;
  }

  /** The live item with this id, or undefined. */
  get(id: number): T | undefined {
    const item = this.#table[id & this.#mask];
    return item !== undefined && item.id === id ? item : undefined;
  }

  /** Adds an item (its id must not be live already). */
  add(item: T): void {
    const held = this.#table[item.id & this.#mask];
    if (held !== undefined && held.id !== item.id) this.#grow(item.id);
    this.#table[item.id & this.#mask] = item;
  }

  /** Removes an item, if it is live. */
  delete(item: T): void {
    const slot = item.id & this.#mask;
    if (this.#table[slot] === item) this.#table[slot] = undefined;
  }

  /** Every live item, in id order. */
  live(): T[] {
    const live: T[] = [];
    for (const item of this.#table) if (item !== undefined) live.push(item);
    return live.sort((a, b) => a.id - b.id);
  }

  #grow(id: number): void {
    const live = this.live();
    for (let size = 2 * this.#table.length;; size *= 2) {
      const table: (T | undefined)[] = new Array(size), mask = size - 1;
      let clash = false;
      for (const item of live) {
        const slot = item.id & mask;
        if (table[slot] !== undefined || slot === (id & mask)) {
          clash = true;
          break;
        }
        table[slot] = item;
      }
      if (clash) continue;
      this.#table = table;
      this.#mask = mask;
      return;
    }
  }
}
