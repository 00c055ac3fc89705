/**
 * The kernel's side of the `process` sandbox's framing (the child's side is in
 * `_policy_host.ts`): frames are a 24-byte header of six little-endian u32 (magic, type, seq,
 * number count, JSON byte count, 0), the numbers as raw float64 bytes, then UTF-8 JSON.
 *
 * @module
 */

import { FRAME_HEADER_BYTES, FRAME_MAGIC } from "./_policy_host.ts";

/** One decoded frame. `nums` is a fresh copy, safe to keep. */
export interface Frame {
  /** The frame type (`FRAME_*`). */
  type: number;
  /** The sequence number of the request this frame belongs to. */
  seq: number;
  /** The numbers. */
  nums: Float64Array;
  /** The JSON text; empty when there is none. */
  json: string;
}

/** Why a frame could not be read. */
export class FrameError extends Error {
  /** `bad-frame` or `message-too-large`. */
  readonly reason: "bad-frame" | "message-too-large";

  /**
   * Creates the error.
   *
   * @param reason What was wrong.
   * @param message What happened, for people.
   */
  constructor(reason: "bad-frame" | "message-too-large", message: string) {
    super(message);
    this.name = "FrameError";
    this.reason = reason;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  // The child reads and writes frames in the machine's byte order; both ends share the machine.
  throw new Error("The process sandbox needs a little-endian machine");
}

/** Encodes one frame; `nums` contributes its first `count` entries. */
export function encodeFrame(
  type: number,
  seq: number,
  nums: Float64Array | null,
  count: number,
  json: string,
): Uint8Array {
  const jsonBytes = json === "" ? new Uint8Array(0) : encoder.encode(json);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + count * 8 + jsonBytes.length);
  const words = new Uint32Array(frame.buffer, 0, 6);
  words[0] = FRAME_MAGIC;
  words[1] = type;
  words[2] = seq;
  words[3] = count;
  words[4] = jsonBytes.length;
  if (nums !== null && count > 0) {
    frame.set(new Uint8Array(nums.buffer, nums.byteOffset, count * 8), FRAME_HEADER_BYTES);
  }
  frame.set(jsonBytes, FRAME_HEADER_BYTES + count * 8);
  return frame;
}

/** Something to read bytes from with blocking reads (a `Deno.FsFile` on a pipe). */
export interface SyncSource {
  /** Reads into `buffer`; returns how many bytes, or null at the end. */
  readSync(buffer: Uint8Array): number | null;
}

/** Reads frames from a byte stream, refusing any whose payload exceeds a cap. */
export class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
  #byob: boolean;
  #maxPayloadBytes: (type: number) => number;
  #buffer = new Uint8Array(1 << 16);
  #start = 0;
  #end = 0;

  /**
   * Reads from `reader` (and holds its lock until {@linkcode FrameReader.cancel}). A BYOB reader
   * (`stream.getReader({ mode: "byob" })`, for a child's stdout) reads straight into the frame
   * buffer: no chunk is allocated per read, which makes a round trip several times cheaper.
   *
   * @param reader Where the bytes come from.
   * @param maxPayloadBytes The largest payload (numbers plus JSON) accepted, by frame type.
   */
  constructor(
    reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader,
    maxPayloadBytes: (type: number) => number,
  ) {
    this.#reader = reader;
    this.#byob = reader instanceof ReadableStreamBYOBReader;
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  /**
   * Reads the next frame.
   *
   * @returns The frame, or `null` when the stream ended before a new frame began.
   * @throws {FrameError} When the bytes are not a frame, end mid-frame, or exceed the cap.
   */
  async read(): Promise<Frame | null> {
    if (!await this.#fill(FRAME_HEADER_BYTES)) return this.#ended();
    const total = this.#frameBytes();
    if (!await this.#fill(total)) return this.#ended();
    return this.#take(total);
  }

  /**
   * Reads the next frame with blocking reads from `source` instead of the stream (the two can
   * take turns: what one buffered, the other reads first).
   *
   * @param source A synchronous byte source, such as a `Deno.FsFile` on a pipe.
   * @returns The frame, or `null` when the source ended before a new frame began.
   * @throws {FrameError} When the bytes are not a frame, end mid-frame, or exceed the cap.
   */
  readSync(source: SyncSource): Frame | null {
    if (!this.#fillSync(source, FRAME_HEADER_BYTES)) return this.#ended();
    const total = this.#frameBytes();
    if (!this.#fillSync(source, total)) return this.#ended();
    return this.#take(total);
  }

  /** What the end of the bytes means: no more frames, or a frame cut short. */
  #ended(): null {
    if (this.#end === this.#start) return null;
    throw new FrameError("bad-frame", "The policy process ended in the middle of a frame");
  }

  /** Checks the buffered header and returns the whole frame's size. */
  #frameBytes(): number {
    const header = new DataView(this.#buffer.buffer, this.#start, FRAME_HEADER_BYTES);
    if (header.getUint32(0, true) !== FRAME_MAGIC) {
      const preview = decoder.decode(this.#buffer.subarray(this.#start, this.#end).slice(0, 80));
      throw new FrameError(
        "bad-frame",
        `The policy process wrote something other than a protocol frame: ${
          JSON.stringify(preview)
        }`,
      );
    }
    const type = header.getUint32(4, true);
    const payload = header.getUint32(12, true) * 8 + header.getUint32(16, true);
    const limit = this.#maxPayloadBytes(type);
    if (payload > limit) {
      throw new FrameError(
        "message-too-large",
        `Policy reply is ${payload} bytes; the limit is ${limit} bytes`,
      );
    }
    return FRAME_HEADER_BYTES + payload;
  }

  /** Decodes the buffered frame of `total` bytes and consumes it. */
  #take(total: number): Frame {
    const header = new DataView(this.#buffer.buffer, this.#start, FRAME_HEADER_BYTES);
    const type = header.getUint32(4, true);
    const seq = header.getUint32(8, true);
    const count = header.getUint32(12, true);
    const jsonBytes = header.getUint32(16, true);
    const numsStart = this.#start + FRAME_HEADER_BYTES;
    const nums = new Float64Array(count);
    new Uint8Array(nums.buffer).set(this.#buffer.subarray(numsStart, numsStart + count * 8));
    const json = jsonBytes === 0
      ? ""
      : decoder.decode(this.#buffer.subarray(numsStart + count * 8, this.#start + total));
    this.#start += total;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { type, seq, nums, json };
  }

  /** Buffers at least `bytes` unread bytes with blocking reads; false when the source ends. */
  #fillSync(source: SyncSource, bytes: number): boolean {
    while (this.#end - this.#start < bytes) {
      this.#reserve(bytes - (this.#end - this.#start));
      const count = source.readSync(this.#buffer.subarray(this.#end));
      if (count === null) return false;
      this.#end += count;
    }
    return true;
  }

  /** Buffers at least `bytes` unread bytes; false when the stream ends first. */
  async #fill(bytes: number): Promise<boolean> {
    while (this.#end - this.#start < bytes) {
      if (!this.#byob) {
        const { value, done } = await (this.#reader as ReadableStreamDefaultReader<Uint8Array>)
          .read();
        if (done) return false;
        this.#append(value);
        continue;
      }
      this.#reserve(bytes - (this.#end - this.#start));
      const free = new Uint8Array(this.#buffer.buffer, this.#end, this.#buffer.length - this.#end);
      const { value, done } = await (this.#reader as ReadableStreamBYOBReader).read(free);
      // The buffer was transferred to the stream and comes back as a new view of the same bytes.
      if (value !== undefined) this.#buffer = new Uint8Array(value.buffer);
      if (done) return false;
      this.#end += value!.length;
    }
    return true;
  }

  /** Makes room for at least `bytes` more bytes after the unread ones. */
  #reserve(bytes: number): void {
    if (this.#buffer.length - this.#end >= bytes) return;
    const unread = this.#end - this.#start;
    if (unread + bytes <= this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(Math.max(unread + bytes, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    }
    this.#start = 0;
    this.#end = unread;
  }

  #append(chunk: Uint8Array): void {
    const unread = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buffer.length) {
      const needed = unread + chunk.length;
      const target = needed > this.#buffer.length
        ? new Uint8Array(Math.max(needed, this.#buffer.length * 2))
        : this.#buffer;
      if (target === this.#buffer) target.copyWithin(0, this.#start, this.#end);
      else target.set(this.#buffer.subarray(this.#start, this.#end), 0);
      this.#buffer = target;
      this.#start = 0;
      this.#end = unread;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Stops reading and releases the stream. */
  async cancel(): Promise<void> {
    try {
      await this.#reader.cancel();
      this.#reader.releaseLock();
    } catch {
      // Already closed, errored or released: nothing left to release.
    }
  }
}
