/**
 * Batches and replies, the two messages of the hook protocol, and how they are written and read.
 *
 * A call is `[opcode, atNs, argumentCount, ...arguments]` (the opcodes are in `ops.ts`); an
 * answer is `[count, ...values]`. The kernel writes a batch with {@linkcode BatchWriter} and reads
 * the reply with {@linkcode ReplyReader}, which trusts nothing; the SDK answers with
 * {@linkcode ReplyWriter}.
 *
 * @module
 */

/**
 * One simulated instant's worth of hook calls for one domain.
 *
 * `nums` holds the calls back to back, each `[opcode, atNs, ...arguments]` with a length fixed by
 * the opcode; `objs` carries the rare structured payloads (VM descriptions, parameter changes),
 * referenced from `nums` by index. `length` is the number of valid entries of `nums`.
 */
export interface Batch {
  /** The encoded calls; entries past `length` are garbage. */
  nums: Float64Array;
  /** How many entries of `nums` are valid. */
  length: number;
  /** Structured payloads referenced by index from `nums`. */
  objs: unknown[];
}

/**
 * The policy's answers to the queries of one {@linkcode Batch}, in call order.
 *
 * Each query's answer is `[count, ...values]`; what the values mean depends on the opcode.
 */
export interface Reply {
  /** The encoded answers; entries past `length` are garbage. */
  nums: Float64Array;
  /** How many entries of `nums` are valid. */
  length: number;
  /** Structured payloads referenced by index from `nums`. */
  objs: unknown[];
}

/** Writes calls into a reusable {@linkcode Batch}. Used by the kernel. */
export class BatchWriter implements Batch {
  /** The encoded calls. */
  nums: Float64Array = new Float64Array(4096);
  /** Valid entries of `nums`. */
  length = 0;
  /** Structured payloads. */
  objs: unknown[] = [];
  /** How many calls of this batch expect an answer. */
  queries = 0;
  /**
   * How many numbers, and objects, a runtime was already given ahead of the batch (the sandbox's
   * `StreamedBatch`); the batch itself then carries the rest.
   */
  streamed = 0;
  /** See `streamed`. */
  streamedObjs = 0;

  /** Empties the batch for reuse. */
  clear(): void {
    this.length = 0;
    if (this.objs.length > 0) this.objs = [];
    this.queries = 0;
    this.streamed = this.streamedObjs = 0;
  }

  /** Appends a structured payload and returns its index. */
  obj(value: unknown): number {
    return this.objs.push(value) - 1;
  }

  #room(n: number): void {
    if (this.length + n <= this.nums.length) return;
    const bigger = new Float64Array(Math.max(this.nums.length * 2, this.length + n));
    bigger.set(this.nums.subarray(0, this.length));
    this.nums = bigger;
  }

  /** Appends a call with one argument. */
  call1(op: number, atNs: number, a: number): void {
    this.#room(4);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = 1, n[i++] = a;
    this.length = i;
  }

  /** Appends a call with two arguments. */
  call2(op: number, atNs: number, a: number, b: number): void {
    this.#room(5);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = 2, n[i++] = a, n[i++] = b;
    this.length = i;
  }

  /** Appends a call with three arguments. */
  call3(op: number, atNs: number, a: number, b: number, c: number): void {
    this.#room(6);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = 3, n[i++] = a, n[i++] = b, n[i++] = c;
    this.length = i;
  }

  /** Appends a call with four arguments. */
  call4(op: number, atNs: number, a: number, b: number, c: number, d: number): void {
    this.#room(7);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = 4, n[i++] = a, n[i++] = b, n[i++] = c, n[i++] = d;
    this.length = i;
  }

  /** Appends a call with five arguments. */
  call5(op: number, atNs: number, a: number, b: number, c: number, d: number, e: number): void {
    this.#room(8);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = 5, n[i++] = a, n[i++] = b, n[i++] = c, n[i++] = d;
    n[i++] = e;
    this.length = i;
  }

  /** Appends a call whose arguments are the given numbers (for variable-length payloads). */
  callN(op: number, atNs: number, args: ArrayLike<number>, count = args.length): void {
    this.#room(3 + count);
    const n = this.nums;
    let i = this.length;
    n[i++] = op, n[i++] = atNs, n[i++] = count;
    for (let k = 0; k < count; k++) n[i++] = args[k]!;
    this.length = i;
  }
}

/** Writes answers into a reusable {@linkcode Reply}. Used by the SDK inside the sandbox. */
export class ReplyWriter implements Reply {
  /** The encoded answers. */
  nums: Float64Array = new Float64Array(1024);
  /** Valid entries of `nums`. */
  length = 0;
  /** Structured payloads. */
  objs: unknown[] = [];

  /** Empties the reply for reuse. */
  clear(): void {
    this.length = 0;
    if (this.objs.length > 0) this.objs = [];
  }

  /** Appends one value of the current answer (after `begin`). */
  push(value: number): void {
    if (this.length === this.nums.length) {
      const bigger = new Float64Array(this.nums.length * 2);
      bigger.set(this.nums);
      this.nums = bigger;
    }
    this.nums[this.length++] = value;
  }

  /** Starts an answer of `count` values; returns nothing, push the values next. */
  begin(count: number): void {
    this.push(count);
  }
}

/**
 * Reads the answers of a {@linkcode Reply} in order, checking their shape. Used by the kernel,
 * which must not trust a reply: every read is bounds-checked.
 */
export class ReplyReader {
  #reply: Reply | undefined;
  #at = 0;

  /** Starts reading `reply`. */
  reset(reply: Reply): void {
    this.#reply = reply;
    this.#at = 0;
  }

  /**
   * Starts the next answer and returns how many values it has.
   *
   * @throws {Error} When the reply has no further well-formed answer.
   */
  begin(): number {
    const reply = this.#reply!;
    if (this.#at >= reply.length || this.#at >= reply.nums.length) {
      throw new Error("the reply has fewer answers than the batch had queries");
    }
    const count = reply.nums[this.#at++]!;
    if (!Number.isInteger(count) || count < 0 || this.#at + count > reply.length) {
      throw new Error(`an answer announced ${count} values, which the reply does not hold`);
    }
    return count;
  }

  /** The next value of the current answer. */
  next(): number {
    return this.#reply!.nums[this.#at++]!;
  }

  /** The value `offset` places after the next one of the current answer, without reading on. */
  peek(offset: number): number {
    return this.#reply!.nums[this.#at + offset]!;
  }
}
