/**
 * A queue of disk requests kept in position order, for elevator-style I/O policies (SSTF, SCAN,
 * LOOK, the sort lists of mq-deadline and BFQ).
 *
 * @module
 */

import type { IoRequestView } from "./views.ts";

/**
 * Requests sorted by cylinder or by block (ties broken by id, so the order is total), with binary
 * search: `add` and `remove` cost a search plus a short move, lookups are logarithmic. Queues of a
 * few thousand requests stay fast. The order is kept in typed arrays (each request's position and
 * the slot that holds it), so searching and moving touch numbers side by side, not objects.
 *
 * @example
 * ```ts
 * import { SortedRequests } from "./sorted_requests.ts";
 * const queue = new SortedRequests("cylinder");
 * console.log(queue.size, queue.ceiling(53)); // 0 undefined
 * ```
 */
export class SortedRequests {
  /** What the order is by. */
  readonly by: "cylinder" | "lba";
  /** The queued requests, each in a slot of its own for as long as it is queued. */
  #slots: (IoRequestView | undefined)[] = [];
  /** Slots free for reuse. */
  #free: number[] = [];
  /** In order: the position (cylinder or block) of each request, and its slot. */
  #keys: Float64Array = new Float64Array(16);
  #order: Int32Array = new Int32Array(16);
  #size = 0;
  /**
   * Where the last lookup landed. Policies usually remove the request they have just looked up,
   * and when the request found there is the one to remove, its place needs no second search.
   */
  #found = 0;

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
    return this.#size;
  }

  /** The request at position `index` in order (0 = lowest), or undefined. */
  at(index: number): IoRequestView | undefined {
    return this.#get(this.#found = index);
  }

  /** The request with the lowest position, or undefined when empty. */
  first(): IoRequestView | undefined {
    return this.at(0);
  }

  /** The request with the highest position, or undefined when empty. */
  last(): IoRequestView | undefined {
    return this.at(this.#size - 1);
  }

  /** Inserts a request in order. */
  add(request: IoRequestView): void {
    const key = this.#key(request), at = this.#search(key, request.id);
    if (this.#size === this.#keys.length) this.#grow();
    const slot = this.#free.pop() ?? this.#slots.length;
    this.#slots[slot] = request;
    const keys = this.#keys, order = this.#order;
    for (let i = this.#size; i > at; i--) keys[i] = keys[i - 1]!, order[i] = order[i - 1]!;
    keys[at] = key;
    order[at] = slot;
    this.#size++;
  }

  /** Removes a request; returns whether it was queued. */
  remove(request: IoRequestView): boolean {
    let at = this.#found;
    if (this.#get(at) !== request) at = this.#search(this.#key(request), request.id);
    if (this.#get(at) !== request) return false;
    const keys = this.#keys, order = this.#order, size = --this.#size;
    this.#slots[order[at]!] = undefined;
    this.#free.push(order[at]!);
    for (let i = at; i < size; i++) keys[i] = keys[i + 1]!, order[i] = order[i + 1]!;
    return true;
  }

  /** The first request at `position` or above (lowest id first among equals), or undefined. */
  ceiling(position: number): IoRequestView | undefined {
    return this.at(this.#search(position, -Infinity));
  }

  /** The last request at `position` or below (lowest id first among equals), or undefined. */
  floor(position: number): IoRequestView | undefined {
    const above = this.#search(position + 1, -Infinity);
    if (above === 0) return undefined;
    // Among several at the same position, prefer the oldest (lowest id).
    return this.at(this.#search(this.#keys[above - 1]!, -Infinity));
  }

  /** The requests in order. */
  *[Symbol.iterator](): Iterator<IoRequestView> {
    for (let i = 0; i < this.#size; i++) yield this.#slots[this.#order[i]!]!;
  }

  #get(index: number): IoRequestView | undefined {
    return index >= 0 && index < this.#size ? this.#slots[this.#order[index]!] : undefined;
  }

  #key(request: IoRequestView): number {
    return this.by === "cylinder" ? request.cylinder : request.lba;
  }

  #grow(): void {
    const keys = new Float64Array(2 * this.#keys.length), order = new Int32Array(keys.length);
    keys.set(this.#keys);
    order.set(this.#order);
    this.#keys = keys;
    this.#order = order;
  }

  // The index of the first item ordered at or after (position, id).
  #search(position: number, id: number): number {
    const keys = this.#keys;
    let low = 0, high = this.#size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const key = keys[mid]!;
      if (key < position || (key === position && this.#slots[this.#order[mid]!]!.id < id)) {
        low = mid + 1;
      } else high = mid;
    }
    return low;
  }
}
