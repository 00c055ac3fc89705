/**
 * A buffer of UTF-8 that JSON text is written into piece by piece: constant fragments encoded
 * once, integers and times as digits, short ASCII strings. A trace writes millions of events;
 * building a string for each and encoding it cost several times the run it traced.
 *
 * The hot writers are free functions on `(buffer, offset)` that return the offset after what they
 * wrote ({@linkcode put}, {@linkcode putInteger}, {@linkcode putMicros}): an event is written
 * with the buffer and offset in locals, after {@linkcode JsonBytes.begin} made room for it.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The bytes of an ASCII (or any) constant, encoded once. */
export function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Room an event may take at most before {@linkcode JsonBytes.room} is needed. */
export const EVENT_ROOM = 1 << 18;
const CHUNK = 1 << 22;

/**
 * UTF-8 being written, in chunks of 4 MiB: `buffer` up to `length` is the current one. A full
 * chunk goes to the sink when there is one (a file being written; the buffer is then reused),
 * else to `done`. Call {@linkcode JsonBytes.begin} before each event, so that an event lies in
 * one chunk (and can be taken back).
 */
export class JsonBytes {
  /** The current chunk; valid up to `length`. */
  buffer: Uint8Array = new Uint8Array(0);
  /** How many bytes of the current chunk are written. */
  length = 0;
  /** The chunks filled before the current one, each up to its end (none with a sink). */
  readonly done: Uint8Array[] = [];
  /** How many bytes the chunks before the current one hold (given to the sink or in `done`). */
  doneBytes = 0;
  /** Where full chunks go, if anywhere: a file being written. */
  readonly #sink: ((bytes: Uint8Array) => void) | undefined;

  /** @param sink Where full chunks go (else they are kept, in `done`). */
  constructor(sink?: (bytes: Uint8Array) => void) {
    this.#sink = sink;
  }

  /** How many bytes are written in all. */
  get total(): number {
    return this.doneBytes + this.length;
  }

  /**
   * Makes sure the current chunk has {@linkcode EVENT_ROOM} bytes free, moving on to a fresh one
   * if not; returns the offset the next event starts at.
   */
  begin(): number {
    if (this.buffer.length - this.length >= EVENT_ROOM) return this.length;
    this.flush();
    if (this.buffer.length < CHUNK || this.#sink === undefined) {
      this.buffer = new Uint8Array(CHUNK);
    }
    return 0;
  }

  /** Hands what the current chunk holds to the sink (or to `done`) and empties it. */
  flush(): void {
    if (this.length === 0) return;
    const full = this.buffer.subarray(0, this.length);
    if (this.#sink !== undefined) this.#sink(full);
    else this.done.push(full);
    this.doneBytes += this.length;
    this.length = 0;
  }

  /** Every byte written and not given to the sink, chunk by chunk. */
  *chunks(): Generator<Uint8Array> {
    yield* this.done;
    if (this.length > 0) yield this.buffer.subarray(0, this.length);
  }

  /** Makes room for `n` more bytes (growing the chunk: only an event larger than usual does). */
  room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = Math.max(this.buffer.length * 2, 1 << 16);
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  /** Writes bytes (a constant made with {@linkcode bytesOf}). */
  raw(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) this.room(bytes.length);
    this.length = put(this.buffer, this.length, bytes);
  }

  /** Writes a string as it is (no quotes, no escaping): ASCII byte by byte, else encoded. */
  text(text: string): void {
    const length = text.length;
    this.room(3 * length);
    const buffer = this.buffer, start = this.length;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 127) {
        this.length = start + encoder.encodeInto(text, buffer.subarray(start)).written;
        return;
      }
      buffer[start + i] = code;
    }
    this.length = start + length;
  }

  /** Writes a number as JSON writes it. */
  number(value: number): void {
    this.room(32);
    this.length = putNumber(this.buffer, this.length, value);
  }

  /** Writes a time in ns as µs with up to three decimals (ns precision), as JSON. */
  micros(ns: number): void {
    this.room(32);
    this.length = putMicros(this.buffer, this.length, ns);
  }
}

/**
 * Copies `bytes` into `buffer` at `at` (which has room); returns the offset after them. Short
 * pieces are copied byte by byte: `Uint8Array.prototype.set` costs a call into the runtime
 * (about 14 ns) that dwarfs copying a few bytes.
 */
export function put(buffer: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 16) {
    buffer.set(bytes, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) buffer[at + i] = bytes[i]!;
  return at + n;
}

/** `"00"` to `"99"`: integers are written two digits at a time. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10), PAIRS[2 * i + 1] = 48 + i % 10;
}

/** How many digits an integer from 0 to 2^31 - 1 has. */
function width(value: number): number {
  if (value < 100_000) {
    return value < 100 ? (value < 10 ? 1 : 2) : value < 1_000 ? 3 : value < 10_000 ? 4 : 5;
  }
  return value < 10_000_000
    ? (value < 1_000_000 ? 6 : 7)
    : value < 100_000_000
    ? 8
    : value < 1_000_000_000
    ? 9
    : 10;
}

/**
 * Writes the last digits of `value` (an integer from 0 to 2^31 - 1) backwards from `end`, two at
 * a time, `digits` of them (leading zeros where `value` has fewer).
 */
function digitsBefore(buffer: Uint8Array, end: number, value: number, digits: number): void {
  let p = end;
  const stop = end - digits;
  // Integer division by a constant (`| 0`) is a multiplication; a division of doubles is not.
  while (p - stop >= 2) {
    const next = (value / 100) | 0, pair = (value - 100 * next) << 1;
    buffer[--p] = PAIRS[pair + 1]!;
    buffer[--p] = PAIRS[pair]!;
    value = next;
  }
  if (p > stop) buffer[--p] = 48 + value;
}

/** Writes a non-negative safe integer's digits at `at` (which has room); returns the offset after. */
export function putInteger(buffer: Uint8Array, at: number, value: number): number {
  if (value < 2_147_483_648) {
    const small = value | 0, end = at + width(small);
    digitsBefore(buffer, end, small, end - at);
    return end;
  }
  // Above 2^31: the digits above the last nine, then those nine.
  const high = Math.floor(value / 1e9) | 0, end = at + width(high) + 9;
  digitsBefore(buffer, end - 9, high, end - 9 - at);
  digitsBefore(buffer, end, (value - 1e9 * high) | 0, 9);
  return end;
}

/** Writes any number as JSON writes it at `at` (32 bytes of room); returns the offset after. */
export function putNumber(buffer: Uint8Array, at: number, value: number): number {
  if (value >= 0 && Number.isSafeInteger(value)) return putInteger(buffer, at, value);
  if (value < 0 && Number.isSafeInteger(value)) {
    buffer[at] = 45; // "-"
    return putInteger(buffer, at + 1, -value);
  }
  const text = Number.isFinite(value) ? String(value) : "null";
  for (let i = 0; i < text.length; i++) buffer[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * Writes a time in ns as µs with up to three decimals, trailing zeros left out (as JSON writes
 * `ns / 1000`), at `at` (32 bytes of room); returns the offset after.
 */
export function putMicros(buffer: Uint8Array, at: number, ns: number): number {
  if (!(ns >= 0 && Number.isSafeInteger(ns))) return putNumber(buffer, at, ns / 1000);
  const whole = Math.floor(ns / 1000);
  let p = putInteger(buffer, at, whole);
  let rest = (ns - 1000 * whole) | 0;
  if (rest === 0) return p;
  buffer[p++] = 46; // "."
  const hundreds = (rest / 100) | 0;
  buffer[p++] = 48 + hundreds;
  rest -= 100 * hundreds;
  if (rest === 0) return p;
  const tens = (rest / 10) | 0;
  buffer[p++] = 48 + tens;
  rest -= 10 * tens;
  if (rest === 0) return p;
  buffer[p++] = 48 + rest;
  return p;
}

/**
 * Writes `hundredths / 100` (a non-negative safe integer of hundredths) as JSON writes that
 * number, trailing zeros left out, at `at` (32 bytes of room); returns the offset after. A
 * percentage with two decimals is written without making a string of it.
 */
export function putHundredths(buffer: Uint8Array, at: number, hundredths: number): number {
  const whole = Math.floor(hundredths / 100);
  const p = putInteger(buffer, at, whole);
  const rest = hundredths - 100 * whole;
  if (rest === 0) return p;
  buffer[p] = 46; // "."
  const tens = Math.floor(rest / 10), ones = rest - 10 * tens;
  buffer[p + 1] = 48 + tens;
  if (ones === 0) return p + 2;
  buffer[p + 2] = 48 + ones;
  return p + 3;
}
