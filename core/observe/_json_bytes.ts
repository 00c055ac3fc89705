/**
 * A growing buffer of UTF-8 that JSON text is written into piece by piece: constant fragments,
 * integers and times as digits, short ASCII strings. A trace writes hundreds of thousands of
 * events; building a string for each and encoding it cost several times the run it traced.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The bytes of an ASCII (or any) constant, encoded once. */
export function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Room an event may take at most in a chunk before it moves on to a new one. */
const EVENT_ROOM = 1 << 18;
const CHUNK = 1 << 22;

/**
 * UTF-8 being written, in chunks of 4 MiB: `buffer` up to `length` is the current one, `done` the
 * full ones before it. A chunk is never copied to grow; call {@linkcode JsonBytes.begin} before
 * each event, so that an event lies in one chunk (and can be taken back).
 */
export class JsonBytes {
  /** The current chunk; valid up to `length`. */
  buffer: Uint8Array = new Uint8Array(1 << 16);
  /** How many bytes of the current chunk are written. */
  length = 0;
  /** The chunks filled before the current one, each up to its end. */
  readonly done: Uint8Array[] = [];
  /** How many bytes the chunks in `done` hold. */
  doneBytes = 0;
  #digits = new Uint8Array(24);

  /** How many bytes are written in all. */
  get total(): number {
    return this.doneBytes + this.length;
  }

  /** Moves on to a fresh chunk when the current one has little room left; returns the offset. */
  begin(): number {
    if (this.buffer.length - this.length >= EVENT_ROOM) return this.length;
    if (this.length > 0) {
      this.done.push(this.buffer.subarray(0, this.length));
      this.doneBytes += this.length;
    }
    this.buffer = new Uint8Array(Math.max(CHUNK, this.buffer.length));
    this.length = 0;
    return 0;
  }

  /** Every byte written, chunk by chunk, without the last `trim` bytes. */
  *chunks(trim = 0): Generator<Uint8Array> {
    let left = this.total - trim;
    for (const chunk of [...this.done, this.buffer.subarray(0, this.length)]) {
      if (left <= 0) return;
      yield chunk.length <= left ? chunk : chunk.subarray(0, left);
      left -= chunk.length;
    }
  }

  /** Makes room for `n` more bytes (growing the chunk: only an event larger than usual does). */
  room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  /** Writes bytes (a constant made with {@linkcode bytesOf}). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.length + n > this.buffer.length) this.room(n);
    this.buffer.set(bytes, this.length);
    this.length += n;
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

  /** Writes a number as JSON writes it (integers digit by digit; others as `String`). */
  number(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.text(Number.isFinite(value) ? String(value) : "null");
      return;
    }
    if (this.length + 24 > this.buffer.length) this.room(24);
    const buffer = this.buffer;
    if (value < 0) buffer[this.length++] = 45, value = -value;
    const digits = this.#digits;
    let n = 0;
    do {
      const next = Math.floor(value / 10);
      digits[n++] = 48 + value - 10 * next;
      value = next;
    } while (value > 0);
    while (n > 0) buffer[this.length++] = digits[--n]!;
  }

  /** Writes a time in ns as µs with up to three decimals (ns precision), as JSON. */
  micros(ns: number): void {
    if (!Number.isSafeInteger(ns) || ns < 0) {
      this.text(Number.isFinite(ns) ? String(ns / 1000) : "null");
      return;
    }
    const whole = Math.floor(ns / 1000);
    let rest = ns - 1000 * whole;
    this.number(whole);
    if (rest === 0) return;
    if (this.length + 4 > this.buffer.length) this.room(4);
    const buffer = this.buffer;
    buffer[this.length++] = 46; // "."
    let scale = 100;
    while (rest > 0) {
      const digit = Math.floor(rest / scale);
      buffer[this.length++] = 48 + digit;
      rest -= digit * scale;
      scale /= 10;
    }
  }
}
