/**
 * A first-in first-out queue on a ring buffer: push and shift without the cost of
 * `Array.prototype.shift`. The kernel's I/O domain holds requests in it; policies use it too.
 *
 * @module
 */

/**
 * A first-in, first-out queue (a ring buffer): `push`, `shift` and `size` in constant time, for
 * policies that keep runnable vCPUs in arrival order.
 *
 * @example
 * ```ts
 * import { Fifo } from "./fifo.ts";
 * const queue = new Fifo<string>();
 * queue.push("a");
 * queue.push("b");
 * console.assert(queue.shift() === "a" && queue.size === 1);
 * ```
 */
export class Fifo<T> {
  /** A ring whose length is a power of two, so that an index wraps with a mask, not a division. */
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
      for (let i = 0; i < this.#size; i++) {
        this.#items[i] = items[(this.#head + i) & (items.length - 1)];
      }
      this.#head = 0;
    }
    this.#items[(this.#head + this.#size++) & (this.#items.length - 1)] = item;
  }

  /** Removes and returns the item at the front, or undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
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
