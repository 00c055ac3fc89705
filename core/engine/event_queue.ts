/**
 * The kernel's event queue: a binary min-heap over parallel typed arrays.
 *
 * Events are ordered by time, then by the order they were pushed (a sequence number), which is
 * the total order that makes runs deterministic. Nothing is allocated per event.
 *
 * @module
 */

/**
 * A heap of events `(timeNs, kind, target, tag)`; `tag` lets a handler drop stale events.
 *
 * @example
 * ```ts
 * import { EventQueue } from "./event_queue.ts";
 * const queue = new EventQueue();
 * queue.push(20, 1, 0, 0);
 * queue.push(10, 2, 0, 0);
 * queue.pop();
 * console.assert(queue.kind === 2 && queue.time === 10);
 * ```
 */
export class EventQueue {
  #time = new Float64Array(1024);
  #seq = new Float64Array(1024);
  #kind = new Int32Array(1024);
  #target = new Int32Array(1024);
  #tag = new Float64Array(1024);
  #size = 0;
  #nextSeq = 0;

  /** Time of the event last popped. */
  time = 0;
  /** Kind of the event last popped. */
  kind = 0;
  /** Target of the event last popped. */
  target = 0;
  /** Tag of the event last popped. */
  tag = 0;

  /** How many events are queued. */
  get size(): number {
    return this.#size;
  }

  /** The time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#time[0]!;
  }

  /** Queues an event. */
  push(timeNs: number, kind: number, target: number, tag: number): void {
    if (this.#size === this.#time.length) this.#grow();
    let i = this.#size++;
    const seq = this.#nextSeq++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.#time[parent]!;
      if (pt < timeNs || (pt === timeNs && this.#seq[parent]! < seq)) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#time[i] = timeNs;
    this.#seq[i] = seq;
    this.#kind[i] = kind;
    this.#target[i] = target;
    this.#tag[i] = tag;
  }

  /** Removes the earliest event into `time`, `kind`, `target`, `tag`; false when empty. */
  pop(): boolean {
    if (this.#size === 0) return false;
    this.time = this.#time[0]!;
    this.kind = this.#kind[0]!;
    this.target = this.#target[0]!;
    this.tag = this.#tag[0]!;
    const last = --this.#size;
    if (last === 0) return true;
    const t = this.#time[last]!, s = this.#seq[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (
        right < last &&
        (this.#time[right]! < this.#time[child]! ||
          (this.#time[right] === this.#time[child] && this.#seq[right]! < this.#seq[child]!))
      ) child = right;
      const ct = this.#time[child]!;
      if (t < ct || (t === ct && s < this.#seq[child]!)) break;
      this.#move(child, i);
      i = child;
    }
    this.#move(last, i);
    return true;
  }

  #move(from: number, to: number): void {
    this.#time[to] = this.#time[from]!;
    this.#seq[to] = this.#seq[from]!;
    this.#kind[to] = this.#kind[from]!;
    this.#target[to] = this.#target[from]!;
    this.#tag[to] = this.#tag[from]!;
  }

  #grow(): void {
    const grow = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.#time = grow(this.#time);
    this.#seq = grow(this.#seq);
    this.#kind = grow(this.#kind);
    this.#target = grow(this.#target);
    this.#tag = grow(this.#tag);
  }
}
