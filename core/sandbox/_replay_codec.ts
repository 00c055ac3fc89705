/**
 * The stream a replay child writes to the kernel (see `replay.ts`): one record per answer the
 * child's policies gave, in the order the child's kernel asked, plus what they printed.
 *
 * A record is a tag byte (the kind in the low four bits, the domain's index above), then its body:
 *
 * | kind         | body                                                                   |
 * | ------------ | ---------------------------------------------------------------------- |
 * | `REPLY`      | batch fingerprint (u32), batch length, reply length, JSON bytes (varints), the reply's numbers, the JSON of its objects |
 * | `FAIL`       | batch fingerprint (u32), batch length, JSON bytes, `{ kind, reason, message }` |
 * | `LOADING`    | nothing: the policy's module is about to load (its init deadline starts)  |
 * | `STARTED`    | JSON bytes, `{ result, start }` (the start result, the start message's JSON) |
 * | `START_FAIL` | JSON bytes, `{ kind, reason, message, start }`                         |
 * | `LOG`        | bytes, UTF-8 text the policies printed                                 |
 * | `END`        | nothing: the child's run ended                                         |
 * | `ERROR`      | bytes, UTF-8 text: the child's own kernel failed                       |
 * | `HEARTBEAT`  | nothing: the child's kernel works, outside any policy hook (every 10 ms) |
 * | `RELAUNCH`   | bytes, the heap cap (MiB, decimal) the child needs: its copy of the simulation left the policy less than its share |
 *
 * Lengths are unsigned LEB128 varints. A number is the varint of its zigzag code plus one when it
 * is an integer in [-2^30, 2^30) (1 to 5 bytes; slices, vCPU and frame ids, counts), else a 0 byte
 * and its 8 bytes as a little-endian float64 (fractions, NaN, -0, far times).
 *
 * The fingerprint of a batch (its numbers' bits and the JSON of its objects, FNV-1a over numbers
 * with murmur3's final mix: a multiply per number, as it is paid twice per batch) is computed
 * by the child before its policy sees the batch and by the kernel on its own batch: a reply meant
 * for another batch is caught, which is how a child that drifted from the kernel is detected.
 *
 * @module
 */

/** Record kinds (the low four bits of a tag). */
export const RECORD = {
  REPLY: 1,
  FAIL: 2,
  STARTED: 3,
  START_FAIL: 4,
  LOG: 5,
  END: 6,
  ERROR: 7,
  LOADING: 8,
  HEARTBEAT: 9,
  RELAUNCH: 10,
} as const;

/** The domains' indexes in tags (the order in which the kernel settles them). */
export const DOMAIN_INDEX = { cpu: 0, memory: 1, io: 2, placement: 3 } as const;

/** The largest integer written as a varint; larger ones take the float64 form. */
const SMALL = 0x40000000;

/** The last batch array seen, and its words (the kernel reuses its array from batch to batch). */
let cachedNums: Float64Array | null = null;
let cachedWords: Int32Array = new Int32Array(0);
const textEncoder = new TextEncoder();

/**
 * The fingerprint of a batch: its first `length` numbers, bit for bit, and the JSON of `objs`.
 *
 * @example
 * ```ts
 * import { batchFingerprint } from "./_replay_codec.ts";
 *
 * const a = batchFingerprint(new Float64Array([1, 0, 1, 3]), 4, []);
 * console.assert(a === batchFingerprint(new Float64Array([1, 0, 1, 3, 99]), 4, []));
 * console.assert(a !== batchFingerprint(new Float64Array([1, 0, 1, 4]), 4, []));
 * ```
 *
 * @param nums The batch's numbers.
 * @param length How many of them are the batch's.
 * @param objs The batch's objects.
 * @returns An unsigned 32-bit hash.
 */
export function batchFingerprint(
  nums: Float64Array,
  length: number,
  objs: readonly unknown[],
): number {
  let words = cachedWords;
  // The same array has the same words: no typed array changes its buffer or its length.
  if (nums !== cachedNums) {
    words = new Int32Array(nums.buffer, nums.byteOffset, nums.length * 2);
    cachedNums = nums;
    cachedWords = words;
  }
  let h = hashWords(words, length * 2, 0x811c9dc5 ^ length);
  if (objs.length > 0) {
    const bytes = textEncoder.encode(JSON.stringify(objs));
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    h = Math.imul(h ^ bytes.length, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes `count` words (two per number) into `h`. A function of its own: the first batch of a run
 * is long (every VM's arrival), and with feedback from the first call (the tasks'
 * `--no-lazy-feedback-allocation`) V8 compiles its loop on the stack, mid-call. Code compiled so
 * early has no feedback for what follows the loop, and V8 enters it again at each later batch's
 * loop: in one function with the rest of the fingerprint, that code was thrown out at each of
 * hundreds of batches (`--trace-deopt`). Here nothing follows the loop but the return.
 */
function hashWords(words: Int32Array, count: number, h: number): number {
  // A number's two words in one step: the high word (sign, exponent, the top of the fraction)
  // rotated over the low one, whose bits are all zero for most numbers (integers, halves).
  for (let i = 0; i < count; i += 2) {
    const high = words[i + 1]!;
    h = Math.imul(h ^ words[i]! ^ ((high << 13) | (high >>> 19)), 0x01000193);
  }
  return h;
}

/** Whether a number takes the varint form. */
export function isSmall(value: number): boolean {
  return (value | 0) === value && value >= -SMALL && value < SMALL &&
    (value !== 0 || 1 / value > 0);
}

/**
 * The varint a small number is written as: its zigzag code plus one (so that a lone 0 byte is
 * free to announce a float64).
 */
export function smallCode(value: number): number {
  return (((value << 1) ^ (value >> 31)) >>> 0) + 1;
}

/** Writes `value` (an unsigned integer below 2^35) as a varint at `head` in a ring; the next head. */
function putVarint(ring: Uint8Array, mask: number, head: number, value: number): number {
  while (value >= 0x80) {
    ring[head++ & mask] = (value & 0x7f) | 0x80;
    value = value >= 0x80000000 ? Math.floor(value / 128) : value >>> 7;
  }
  ring[head++ & mask] = value;
  return head;
}

/** The reason a stream is refused, and what was wrong. */
export class StreamError extends Error {
  /** `bad-frame` (not a record) or `message-too-large` (over the reply cap). */
  readonly reason: "bad-frame" | "message-too-large";

  /**
   * Creates the error.
   *
   * @param reason What was wrong.
   * @param message What happened, for people.
   */
  constructor(reason: "bad-frame" | "message-too-large", message: string) {
    super(message);
    this.name = "StreamError";
    this.reason = reason;
  }
}

/** Thrown by a {@linkcode RecordReader} that ran out of buffered bytes mid-record. */
export const NEED_MORE: unique symbol = Symbol("need more bytes");

/** One record, decoded (numbers go to the caller's buffer). */
export interface DecodedRecord {
  /** `RECORD.*`. */
  kind: number;
  /** The domain's index. */
  domain: number;
  /** For `REPLY` and `FAIL`: the fingerprint of the batch answered. */
  fingerprint: number;
  /** For `REPLY` and `FAIL`: the length of the batch answered. */
  batchLength: number;
  /** For `REPLY`: how many numbers were decoded into the caller's buffer. */
  length: number;
  /** JSON or text; empty when there is none. */
  text: string;
}

const decoder = new TextDecoder();

/**
 * Decodes records from a byte buffer the caller fills. Reading past the buffered bytes throws
 * {@linkcode NEED_MORE}; the caller then buffers more and calls again from the same record.
 */
export class RecordReader {
  /** The bytes; `start` is the first unread one, `end` one past the last buffered. */
  buffer: Uint8Array = new Uint8Array(1 << 20);
  /** See `buffer`. */
  start = 0;
  /** See `buffer`. */
  end = 0;
  #at = 0;
  #maxBytes: number;
  #scratch = new Uint8Array(8);
  #scratchFloat = new Float64Array(this.#scratch.buffer);

  /** @param maxBytes The largest reply (numbers as float64 plus JSON) or text accepted. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Room for at least `bytes` more bytes after `end` (compacting or growing the buffer). */
  reserve(bytes: number): Uint8Array {
    if (this.buffer.length - this.end < bytes) {
      const unread = this.end - this.start;
      if (unread + bytes <= this.buffer.length) {
        this.buffer.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(unread + bytes, this.buffer.length * 2));
        grown.set(this.buffer.subarray(this.start, this.end));
        this.buffer = grown;
      }
      this.start = 0;
      this.end = unread;
    }
    return this.buffer.subarray(this.end);
  }

  /**
   * Decodes the next record, its numbers into `into` (grown when too small: the record's `nums`
   * says which array holds them). Consumes the record only when it is whole.
   *
   * @throws {NEED_MORE} When the record is not all buffered yet.
   * @throws {StreamError} When the bytes are not a record or exceed the cap.
   */
  next(into: { nums: Float64Array }): DecodedRecord {
    this.#at = this.start;
    const tag = this.#byte();
    const kind = tag & 15, domain = tag >>> 4;
    let fingerprint = 0, batchLength = 0, length = 0, text = "";
    switch (kind) {
      case RECORD.REPLY: {
        fingerprint = this.#u32();
        batchLength = this.#varint();
        length = this.#varint();
        const jsonBytes = this.#varint();
        if (length * 8 + jsonBytes > this.#maxBytes) {
          throw new StreamError(
            "message-too-large",
            `Policy reply is ${length * 8 + jsonBytes} bytes; the limit is ${this.#maxBytes} bytes`,
          );
        }
        if (into.nums.length < length) into.nums = new Float64Array(Math.max(length, 64));
        const nums = into.nums, buffer = this.buffer, end = this.end;
        let at = this.#at;
        for (let i = 0; i < length; i++) {
          if (at >= end) throw NEED_MORE;
          const first = buffer[at]!;
          // Most numbers are small integers of one byte: decoded here, without a call.
          if (first !== 0 && first < 0x80) {
            const zigzag = first - 1;
            nums[i] = (zigzag >>> 1) ^ -(zigzag & 1);
            at++;
          } else {
            this.#at = at;
            nums[i] = this.#number();
            at = this.#at;
          }
        }
        this.#at = at;
        text = this.#text(jsonBytes);
        break;
      }
      case RECORD.FAIL:
        fingerprint = this.#u32();
        batchLength = this.#varint();
        text = this.#text(this.#capped(this.#varint()));
        break;
      case RECORD.STARTED:
      case RECORD.START_FAIL:
      case RECORD.LOG:
      case RECORD.ERROR:
      case RECORD.RELAUNCH:
        text = this.#text(this.#capped(this.#varint()));
        break;
      case RECORD.END:
      case RECORD.LOADING:
      case RECORD.HEARTBEAT:
        break;
      default:
        throw this.#bad(tag);
    }
    if (domain > 3) throw this.#bad(tag);
    this.start = this.#at;
    if (this.start === this.end) this.start = this.end = 0;
    return { kind, domain, fingerprint, batchLength, length, text };
  }

  #bad(tag: number): StreamError {
    const preview = decoder.decode(
      this.buffer.subarray(this.start, Math.min(this.end, this.start + 80)),
    );
    return new StreamError(
      "bad-frame",
      `The policy process wrote something other than a replay record (tag ${tag}): ${
        JSON.stringify(preview)
      }`,
    );
  }

  #capped(bytes: number): number {
    if (bytes > this.#maxBytes) {
      throw new StreamError(
        "message-too-large",
        `Policy message is ${bytes} bytes; the limit is ${this.#maxBytes} bytes`,
      );
    }
    return bytes;
  }

  #byte(): number {
    if (this.#at >= this.end) throw NEED_MORE;
    return this.buffer[this.#at++]!;
  }

  #u32(): number {
    if (this.#at + 4 > this.end) throw NEED_MORE;
    const b = this.buffer, i = this.#at;
    this.#at += 4;
    return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  }

  #varint(): number {
    let value = 0, scale = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.#byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new StreamError("bad-frame", "The policy process wrote a malformed length");
  }

  #number(): number {
    const first = this.#byte();
    if (first === 0) {
      if (this.#at + 8 > this.end) throw NEED_MORE;
      this.#scratch.set(this.buffer.subarray(this.#at, this.#at + 8));
      this.#at += 8;
      return this.#scratchFloat[0]!;
    }
    let code = first & 0x7f;
    if (first >= 0x80) {
      this.#at--;
      code = this.#varint();
    }
    const zigzag = code - 1;
    return (zigzag >>> 1) ^ -(zigzag & 1);
  }

  #text(bytes: number): string {
    if (bytes === 0) return "";
    if (this.#at + bytes > this.end) throw NEED_MORE;
    const text = decoder.decode(this.buffer.subarray(this.#at, this.#at + bytes));
    this.#at += bytes;
    return text;
  }
}

/** Slots of the control array a {@linkcode RecordWriter} shares with its flushing thread. */
export const RING = {
  /** Bytes committed by the writer (an int32 that wraps). */
  HEAD: 0,
  /** Bytes the flushing thread has written out (wraps too). */
  TAIL: 1,
  /** Set to 1 (and notified) to have the thread flush now rather than at its next tick. */
  WAKE: 2,
  /** 1 while the writer waits for room: the thread then notifies `TAIL` after each write. */
  WAITING: 3,
  /** Set by the thread when writing failed (the kernel is gone). */
  BROKEN: 4,
  /**
   * 1 while a policy's code runs (a hook, its load): the thread writes heartbeats only while it
   * is 0, so that the kernel's deadline counts the time spent in the policy, not in the kernel.
   */
  IN_POLICY: 5,
  /** How often the thread writes what is committed, in ms (0 until the run says: 1). */
  FLUSH_MS: 6,
} as const;

/** Slots in the control array. */
export const RING_SLOTS = 7;

// Captured before any policy code runs: a policy that replaces them breaks only its own realm's
// copies, and this writer keeps working (what it writes is checked by the kernel anyway).
const atomicsLoad = Atomics.load, atomicsStore = Atomics.store;
const atomicsWait = Atomics.wait, atomicsNotify = Atomics.notify;
// The sandbox's clocks read the simulated time once a policy is loaded; waits need the real one.
const realNow = performance.now.bind(performance);

/**
 * Writes records into a ring of shared memory that another thread flushes to the kernel (see
 * `_kernel_child.ts`). Bytes are stored one by one through a mask, with no method call a policy
 * could replace; a record becomes visible to the flushing thread once {@linkcode RecordWriter.commit}
 * is called.
 */
export class RecordWriter {
  #ring: Uint8Array;
  #mask: number;
  #ctl: Int32Array;
  /** Bytes written so far (wrapping int32), committed or not. */
  #head = 0;
  /** Where the flushing thread was last seen. */
  #tail = 0;
  #scratch = new Uint8Array(8);
  #scratchFloat = new Float64Array(this.#scratch.buffer);
  #encoder = new TextEncoder();
  #encode = TextEncoder.prototype.encode;
  #apply = Reflect.apply;
  /** Called when the ring stays full because the thread cannot write (the kernel is gone). */
  #broken: () => never;

  /**
   * @param ring Shared bytes; the size is a power of two.
   * @param ctl The control array ({@linkcode RING}).
   * @param broken Called when the flushing thread reports that the kernel is gone.
   */
  constructor(ring: Uint8Array, ctl: Int32Array, broken: () => never) {
    this.#ring = ring;
    this.#mask = ring.length - 1;
    this.#ctl = ctl;
    this.#broken = broken;
  }

  /**
   * An answer: the batch's fingerprint and length, the reply's numbers and objects' JSON. Written
   * byte by byte into the ring through local variables (one is written per batch, hundreds of
   * thousands per run): no call per byte.
   */
  reply(
    domain: number,
    fingerprint: number,
    batchLength: number,
    nums: Float64Array,
    length: number,
    json: string,
  ): void {
    const text = json === "" ? null : this.#utf8(json);
    const ring = this.#ring, mask = this.#mask, scratch = this.#scratch;
    this.#room(16 + Math.min(length, 4096) * 9);
    let head = this.#head;
    ring[head++ & mask] = RECORD.REPLY | (domain << 4);
    ring[head++ & mask] = fingerprint & 0xff;
    ring[head++ & mask] = (fingerprint >>> 8) & 0xff;
    ring[head++ & mask] = (fingerprint >>> 16) & 0xff;
    ring[head++ & mask] = fingerprint >>> 24;
    head = putVarint(ring, mask, head, batchLength);
    head = putVarint(ring, mask, head, length);
    head = putVarint(ring, mask, head, text === null ? 0 : text.length);
    for (let i = 0; i < length; i++) {
      if ((i & 4095) === 4095) {
        this.#head = head | 0;
        this.#room(4096 * 9);
      }
      const value = nums[i]!;
      if (isSmall(value)) {
        head = putVarint(ring, mask, head, smallCode(value));
      } else {
        ring[head++ & mask] = 0;
        this.#scratchFloat[0] = value;
        for (let k = 0; k < 8; k++) ring[head++ & mask] = scratch[k]!;
      }
    }
    this.#head = head | 0;
    if (text !== null) this.#bytes(text);
    this.commit();
  }

  /** A failure `{ kind, reason, message }` (as JSON) answering a batch. */
  fail(domain: number, fingerprint: number, batchLength: number, json: string): void {
    const text = this.#utf8(json);
    this.#room(16);
    this.#byte(RECORD.FAIL | (domain << 4));
    this.#u32(fingerprint);
    this.#varint(batchLength);
    this.#varint(text.length);
    this.#bytes(text);
    this.commit();
  }

  /** A record of text: `STARTED`, `START_FAIL`, `LOG` or `ERROR`. */
  text(kind: number, domain: number, content: string): void {
    const text = this.#utf8(content);
    this.#room(8);
    this.#byte(kind | (domain << 4));
    this.#varint(text.length);
    this.#bytes(text);
    this.commit();
  }

  /** A record with no body: `END` (the run ended) or `LOADING` (a policy is about to load). */
  mark(kind: number, domain: number): void {
    this.#room(1);
    this.#byte(kind | (domain << 4));
    this.commit();
  }

  /** Marks the start of a call into the policy (plain store: the thread only samples it). */
  enter(): void {
    this.#ctl[RING.IN_POLICY] = 1;
  }

  /** Marks the end of a call into the policy. */
  leave(): void {
    this.#ctl[RING.IN_POLICY] = 0;
  }

  /** Makes everything written so far visible to the flushing thread. */
  commit(): void {
    atomicsStore(this.#ctl, RING.HEAD, this.#head);
  }

  /** Asks the thread to flush now, and waits until it has written everything (or `timeoutMs`). */
  flush(timeoutMs: number): boolean {
    this.commit();
    const until = realNow() + timeoutMs;
    while (atomicsLoad(this.#ctl, RING.TAIL) !== this.#head) {
      if (atomicsLoad(this.#ctl, RING.BROKEN) !== 0) return false;
      const left = until - realNow();
      if (left <= 0) return false;
      this.#wake();
      atomicsStore(this.#ctl, RING.WAITING, 1);
      const tail = atomicsLoad(this.#ctl, RING.TAIL);
      if (tail !== this.#head) atomicsWait(this.#ctl, RING.TAIL, tail, Math.min(left, 10));
    }
    return true;
  }

  #wake(): void {
    atomicsStore(this.#ctl, RING.WAKE, 1);
    atomicsNotify(this.#ctl, RING.WAKE);
  }

  #utf8(text: string): Uint8Array {
    return this.#apply(this.#encode, this.#encoder, [text]) as Uint8Array;
  }

  /** Waits until `bytes` bytes are free (at most half the ring: callers ask in pieces). */
  #room(bytes: number): void {
    const size = this.#ring.length;
    const need = Math.min(bytes, size >>> 1);
    if (size - ((this.#head - this.#tail) | 0) >= need) return;
    this.commit();
    for (;;) {
      this.#tail = atomicsLoad(this.#ctl, RING.TAIL);
      if (size - ((this.#head - this.#tail) | 0) >= need) {
        atomicsStore(this.#ctl, RING.WAITING, 0);
        return;
      }
      if (atomicsLoad(this.#ctl, RING.BROKEN) !== 0) this.#broken();
      atomicsStore(this.#ctl, RING.WAITING, 1);
      this.#wake();
      atomicsWait(this.#ctl, RING.TAIL, this.#tail, 10);
    }
  }

  #byte(value: number): void {
    this.#ring[this.#head & this.#mask] = value;
    this.#head = (this.#head + 1) | 0;
  }

  #u32(value: number): void {
    this.#byte(value & 0xff);
    this.#byte((value >>> 8) & 0xff);
    this.#byte((value >>> 16) & 0xff);
    this.#byte(value >>> 24);
  }

  #varint(value: number): void {
    this.#head = putVarint(this.#ring, this.#mask, this.#head, value) | 0;
  }

  #bytes(bytes: Uint8Array): void {
    const chunk = this.#ring.length >>> 1;
    for (let at = 0; at < bytes.length; at += chunk) {
      const end = Math.min(bytes.length, at + chunk);
      this.#room(end - at);
      for (let i = at; i < end; i++) this.#byte(bytes[i]!);
    }
  }
}
