/**
 * Live items by id, for ids that grow forever while few items are live at once.
 *
 * @module
 */

/**
 * Live items by id, for ids that grow forever while few items are live at once (disk requests, in
 * the kernel and in the I/O SDK): a table indexed by an id's low bits finds an item with one array
 * read, where a Map hashes at every call. When a new id's slot is still taken, the table doubles
 * until every live id has a slot of its own.
 *
 * @example
 * ```ts
 * import { LiveById } from "./live_by_id.ts";
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
