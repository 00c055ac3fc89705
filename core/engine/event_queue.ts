/**
 * The kernel's event queue: a calendar queue (a timing wheel) in front of a binary heap.
 *
 * Events are ordered by time, then by the order they were pushed (a sequence number), which is
 * the total order that makes runs deterministic. Nothing is allocated per event.
 *
 * Most events of a run fall within a fraction of a second of the clock (slice ends, wake-ups,
 * I/O completions). Those go to the wheel: 4096 buckets of 2^15 ns (about 33 µs), 134 ms in
 * all, each a list in the order pushed; pushing one is a few stores. The bucket at hand is sorted
 * by time when the clock reaches it (it holds a handful: by insertion; a crowd, such as VMs that
 * arrive together: by merging runs, with no allocation), and popped in order: a stable sort of a
 * list in push order keeps events of one time in push order, with no sequence numbers to compare.
 * Events beyond the wheel wait in a binary heap and move into the wheel as it turns. A binary heap
 * alone pays about ten unpredictable comparisons per pop at a thousand events; the wheel pays about
 * two.
 *
 * Every event lives in one pool of slots; the wheel's lists and the heap hold slot numbers.
 * Order is kept across the two: an event moves from the heap into the wheel when the wheel turns
 * far enough to hold it, before any event of the same bucket can be pushed into the wheel
 * directly, so events of one time still leave in the order they were pushed.
 *
 * @module
 */

import { DOUBLE } from "./double_fields.ts";

/** Bucket width (log2 ns) and count (a power of two). */
const WIDTH_BITS = 15;
const WIDTH = 1 << WIDTH_BITS;
const BUCKETS = 4096;
const MASK = BUCKETS - 1;
/** A bucket this full is sorted by merging runs of this many (each sorted by insertion). */
const INSERTION_MAX = 24;

/**
 * A queue of events `(timeNs, kind, target, tag)`; `tag` lets a handler drop stale events.
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
  // The events, in a pool of slots: those in the wheel are linked into buckets (`#link`, -1 ends
  // a list; free slots are linked from `#free`).
  #time = new Float64Array(1024);
  #seq = new Float64Array(1024);
  #kind = new Int32Array(1024);
  #target = new Int32Array(1024);
  #tag = new Float64Array(1024);
  #link = new Int32Array(1024);
  #free = -1;
  #pooled = 0;
  /** The first slot of each bucket's list, or -1, and its last slot (when there is a first). */
  #heads = new Int32Array(BUCKETS).fill(-1);
  #tails = new Int32Array(BUCKETS);
  /** One bit per non-empty bucket. */
  #occupied = new Uint32Array(BUCKETS / 32);
  /** The bucket at hand, as an absolute number (time >> WIDTH_BITS). */
  #current = 0;
  /** Events of the bucket at hand (and any pushed earlier than it), sorted, `#at` to `#end`. */
  #sorted = new Int32Array(64);
  /** Where a large bucket's merge sort writes every other pass (swapped with `#sorted`). */
  #scratch = new Int32Array(64);
  #at = 0;
  #end = 0;
  /** Events in the wheel's lists (not counting `#sorted`). */
  #listed = 0;
  /** Events beyond the wheel: a binary heap of slots, by time then sequence. */
  #far = new Int32Array(64);
  #farSize = 0;
  #nextSeq = 0;
  #size = 0;

  /** Time of the event last popped. */
  time = DOUBLE;
  /** Kind of the event last popped. */
  kind = 0;
  /** Target of the event last popped. */
  target = 0;
  /** Tag of the event last popped. */
  tag = DOUBLE;

  /** An empty queue. */
  constructor() {
    // Doubles from the start (`double_fields.ts`): they are read from `Float64Array`s.
    this.time = this.tag = 0;
  }

  /** How many events are queued. */
  get size(): number {
    return this.#size;
  }

  /** The time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    if (this.#at === this.#end && !this.#turn()) return this.#farTime();
    return this.#time[this.#sorted[this.#at]!]!;
  }

  /** Queues an event. */
  push(timeNs: number, kind: number, target: number, tag: number): void {
    this.#size++;
    const slot = this.#take(timeNs, kind, target, tag);
    const bucket = Math.floor(timeNs / WIDTH);
    if (!(bucket < this.#current + BUCKETS)) this.#farPush(slot);
    else if (bucket <= this.#current) this.#insert(slot, timeNs);
    else this.#list(slot, bucket);
  }

  /** Removes the earliest event into `time`, `kind`, `target`, `tag`; false when empty. */
  pop(): boolean {
    if (this.#at === this.#end && !this.#turn()) return this.#popFar();
    this.#emit(this.#sorted[this.#at++]!);
    return true;
  }

  /** Hands out the event in `slot` (as the one popped) and frees the slot. */
  #emit(slot: number): void {
    this.time = this.#time[slot]!;
    this.kind = this.#kind[slot]!;
    this.target = this.#target[slot]!;
    this.tag = this.#tag[slot]!;
    this.#link[slot] = this.#free;
    this.#free = slot;
    this.#size--;
  }

  /** A pool slot holding the event, with the next sequence number. */
  #take(time: number, kind: number, target: number, tag: number): number {
    let slot = this.#free;
    if (slot >= 0) this.#free = this.#link[slot]!;
    else {
      slot = this.#pooled++;
      if (slot === this.#time.length) this.#grow();
    }
    this.#time[slot] = time;
    this.#seq[slot] = this.#nextSeq++;
    this.#kind[slot] = kind;
    this.#target[slot] = target;
    this.#tag[slot] = tag;
    return slot;
  }

  /** Adds a slot to the end of a later bucket's list. */
  #list(slot: number, bucket: number): void {
    const b = bucket & MASK;
    this.#link[slot] = -1;
    if (this.#heads[b]! < 0) {
      this.#heads[b] = slot;
      this.#occupied[b >>> 5]! |= 1 << (b & 31);
    } else this.#link[this.#tails[b]!] = slot;
    this.#tails[b] = slot;
    this.#listed++;
  }

  /** Inserts a slot into the sorted events at hand: it is the latest pushed, so after its equals. */
  #insert(slot: number, time: number): void {
    if (this.#end === this.#sorted.length) this.#roomToSort(this.#end - this.#at + 1);
    const sorted = this.#sorted, times = this.#time;
    let k = this.#end++;
    while (k > this.#at && times[sorted[k - 1]!]! > time) {
      sorted[k] = sorted[k - 1]!;
      k--;
    }
    sorted[k] = slot;
  }

  /** Moves the unread sorted events to the front, in an array that holds at least `n`. */
  #roomToSort(n: number): void {
    const old = this.#sorted, at = this.#at, end = this.#end;
    const sorted = n > old.length / 2 ? new Int32Array(Math.max(64, n * 2)) : old;
    sorted.set(old.subarray(at, end), 0);
    this.#sorted = sorted;
    this.#at = 0;
    this.#end = end - at;
  }

  /**
   * Turns the wheel to the next bucket with events and sorts it; false when the wheel is empty
   * (the next event, if any, is then the heap's first).
   */
  #turn(): boolean {
    if (this.#listed === 0) return false;
    this.#at = this.#end = 0;
    this.#current = this.#nextOccupied();
    this.#reach();
    this.#sortBucket(this.#current & MASK);
    return true;
  }

  /** Moves the heap's events the wheel reaches now into it, in their order. */
  #reach(): void {
    const current = this.#current, end = (current + BUCKETS) * WIDTH;
    while (this.#farTime() < end) {
      const slot = this.#farPop(), time = this.#time[slot]!;
      const bucket = Math.floor(time / WIDTH);
      if (bucket <= current) this.#insert(slot, time);
      else this.#list(slot, bucket);
    }
  }

  /**
   * Pops the heap's first event when the wheel is empty, and moves the wheel to it: the clock
   * jumped past the wheel (a long sleep, a far timer).
   */
  #popFar(): boolean {
    if (this.#farSize === 0) return false;
    this.#emit(this.#farPop());
    const bucket = Math.floor(this.time / WIDTH);
    if (Number.isFinite(bucket) && bucket > this.#current) {
      this.#at = this.#end = 0;
      this.#current = bucket;
      this.#reach();
    }
    return true;
  }

  /** Whether slot `a`'s event comes before slot `b`'s. */
  #before(a: number, b: number): boolean {
    const ta = this.#time[a]!, tb = this.#time[b]!;
    return ta < tb || (ta === tb && this.#seq[a]! < this.#seq[b]!);
  }

  /** The time of the heap's first event, or `Infinity` when it is empty. */
  #farTime(): number {
    return this.#farSize === 0 ? Infinity : this.#time[this.#far[0]!]!;
  }

  #farPush(slot: number): void {
    if (this.#farSize === this.#far.length) this.#far = grow(this.#far);
    const far = this.#far;
    let i = this.#farSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#before(far[parent]!, slot)) break;
      far[i] = far[parent]!;
      i = parent;
    }
    far[i] = slot;
  }

  #farPop(): number {
    const far = this.#far, first = far[0]!, size = --this.#farSize;
    const last = far[size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.#before(far[child + 1]!, far[child]!)) child++;
      if (this.#before(last, far[child]!)) break;
      far[i] = far[child]!;
      i = child;
    }
    far[i] = last;
    return first;
  }

  /** The absolute number of the first non-empty bucket after the current one. */
  #nextOccupied(): number {
    const occupied = this.#occupied, start = (this.#current + 1) & MASK;
    let word = start >>> 5, bits = occupied[word]! & (~0 << (start & 31));
    for (let n = 0; bits === 0 && n <= BUCKETS / 32; n++) {
      word = (word + 1) & (BUCKETS / 32 - 1);
      bits = occupied[word]!;
    }
    const b = (word << 5) + 31 - Math.clz32(bits & -bits);
    return this.#current + 1 + ((b - start) & MASK);
  }

  /**
   * Empties bucket `b` into the sorted events, in order of time, then of push. Its list is in
   * push order (events move in from the heap before any is pushed to their bucket directly, and
   * in their order), so a stable sort by time alone gives that order.
   */
  #sortBucket(b: number): void {
    let slot = this.#heads[b]!, n = 0;
    this.#heads[b] = -1;
    this.#occupied[b >>> 5]! &= ~(1 << (b & 31));
    const times = this.#time;
    for (; slot >= 0; slot = this.#link[slot]!) {
      if (n === this.#sorted.length) this.#end = n, this.#roomToSort(n + 1);
      const sorted = this.#sorted, time = times[slot]!;
      let k = n++;
      if (n <= INSERTION_MAX) {
        while (k > 0 && times[sorted[k - 1]!]! > time) {
          sorted[k] = sorted[k - 1]!;
          k--;
        }
      }
      sorted[k] = slot;
    }
    this.#listed -= n;
    this.#end = n;
    if (n > INSERTION_MAX) this.#mergeSort(n);
  }

  /**
   * Sorts the first `n` sorted events by time, stably (equal times keep their push order), with
   * no allocation once the scratch array is big enough: runs of {@linkcode INSERTION_MAX} by
   * insertion (the first is sorted already), then merged pairwise, back and forth with scratch.
   */
  #mergeSort(n: number): void {
    const times = this.#time;
    let from = this.#sorted;
    for (let start = INSERTION_MAX; start < n; start += INSERTION_MAX) {
      const end = Math.min(start + INSERTION_MAX, n);
      for (let i = start + 1; i < end; i++) {
        const slot = from[i]!, time = times[slot]!;
        let k = i;
        while (k > start && times[from[k - 1]!]! > time) {
          from[k] = from[k - 1]!;
          k--;
        }
        from[k] = slot;
      }
    }
    if (this.#scratch.length < from.length) this.#scratch = new Int32Array(from.length);
    let to = this.#scratch;
    for (let width = INSERTION_MAX; width < n; width *= 2) {
      for (let lo = 0; lo < n; lo += 2 * width) {
        const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
        let i = lo, j = mid, k = lo;
        while (i < mid && j < hi) {
          // Ties go to the left run: it was pushed first.
          to[k++] = times[from[j]!]! < times[from[i]!]! ? from[j++]! : from[i++]!;
        }
        while (i < mid) to[k++] = from[i++]!;
        while (j < hi) to[k++] = from[j++]!;
      }
      const swap = from;
      from = to;
      to = swap;
    }
    // The result is in whichever array the last pass wrote: keep that one as the sorted events.
    this.#scratch = to;
    this.#sorted = from;
  }

  #grow(): void {
    this.#time = grow(this.#time);
    this.#seq = grow(this.#seq);
    this.#kind = grow(this.#kind);
    this.#target = grow(this.#target);
    this.#tag = grow(this.#tag);
    this.#link = grow(this.#link);
  }
}

function grow<T extends Float64Array | Int32Array>(array: T): T {
  const bigger = new (array.constructor as new (n: number) => T)(array.length * 2);
  bigger.set(array);
  return bigger;
}

/**
 * Takes the heap's paths once, on a queue of its own, when the module loads: V8 optimizes the
 * kernel's loop (this queue's methods inlined) early in a run, and optimized code that reaches a
 * path it never saw run (no type feedback) is thrown away and compiled again, the whole loop with
 * it. A run's first event from beyond the wheel is its first watchdog event, 30 simulated seconds
 * in, and its wheel empties near its end. The times are past 2^30, as a run's are.
 */
function takePathsOnce(): void {
  const queue = new EventQueue(), t = 2 ** 31;
  queue.push(t, 0, 0, 0); // beyond the wheel: popped from the heap, the wheel jumps to it
  queue.peekTime();
  queue.pop();
  queue.push(t + 1, 0, 0, 0);
  queue.push(t + (BUCKETS - 1) * WIDTH, 0, 0, 0);
  queue.push(t + (BUCKETS + 1) * WIDTH, 0, 0, 0); // moves from the heap into the turning wheel
  while (queue.pop());
}
takePathsOnce();
