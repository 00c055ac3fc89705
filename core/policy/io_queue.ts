/**
 * A queue of disk requests kept in position order, for elevator-style I/O policies (SSTF, SCAN,
 * LOOK, the sort lists of mq-deadline and BFQ).
 *
 * @module
 */

import type { IoRequestView } from "./io.ts";

/**
 * Requests sorted by cylinder or by block (ties broken by id, so the order is total), in a plain
 * array with binary search: `add` and `remove` cost a search plus a short move, lookups are
 * logarithmic. Queues of a few thousand requests stay fast.
 *
 * @example
 * ```ts
 * import { SortedRequests } from "./io_queue.ts";
 * const queue = new SortedRequests("cylinder");
 * console.log(queue.size, queue.ceiling(53)); // 0 undefined
 * ```
 */
export class SortedRequests {
  /** What the order is by. */
  readonly by: "cylinder" | "lba";
  #items: IoRequestView[] = [];

  /**
   * Creates an empty queue.
   *
   * @param by Sort by `"cylinder"` (elevators) or by `"lba"` (block-level sort lists).
   */
  constructor(by: "cylinder" | "lba") {
    this.by = by;
  }

  /** How many requests are queued. */
  get size(): number {
    return this.#items.length;
  }

  /** The request at position `index` in order (0 = lowest), or undefined. */
  at(index: number): IoRequestView | undefined {
    return this.#items[index];
  }

  /** The request with the lowest position, or undefined when empty. */
  first(): IoRequestView | undefined {
    return this.#items[0];
  }

  /** The request with the highest position, or undefined when empty. */
  last(): IoRequestView | undefined {
    return this.#items[this.#items.length - 1];
  }

  /** Inserts a request in order. */
  add(request: IoRequestView): void {
    const items = this.#items, at = this.#search(this.#key(request), request.id);
    // A plain loop beats `splice` on the short arrays queues usually are.
    for (let i = items.length; i > at; i--) items[i] = items[i - 1]!;
    items[at] = request;
  }

  /** Removes a request; returns whether it was queued. */
  remove(request: IoRequestView): boolean {
    const items = this.#items, at = this.#search(this.#key(request), request.id);
    if (items[at] !== request) return false;
    for (let i = at; i < items.length - 1; i++) items[i] = items[i + 1]!;
    items.length--;
    return true;
  }

  /** The first request at `position` or above (lowest id first among equals), or undefined. */
  ceiling(position: number): IoRequestView | undefined {
    return this.#items[this.#search(position, -Infinity)];
  }

  /** The last request at `position` or below (lowest id first among equals), or undefined. */
  floor(position: number): IoRequestView | undefined {
    const above = this.#search(position + 1, -Infinity);
    if (above === 0) return undefined;
    const last = this.#items[above - 1]!;
    // Among several at the same position, prefer the oldest (lowest id).
    return this.#items[this.#search(this.#key(last), -Infinity)];
  }

  /** The requests in order. */
  *[Symbol.iterator](): Iterator<IoRequestView> {
    yield* this.#items;
  }

  #key(request: IoRequestView): number {
    return this.by === "cylinder" ? request.cylinder : request.lba;
  }

  // The index of the first item ordered at or after (position, id).
  #search(position: number, id: number): number {
    const items = this.#items, byCylinder = this.by === "cylinder";
    let low = 0, high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const item = items[mid]!;
      const key = byCylinder ? item.cylinder : item.lba;
      if (key < position || (key === position && item.id < id)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
