/**
 * The decision log: every decision of a run, in order, in a canonical binary form, hashed.
 *
 * The sha256 of the whole log is the run's `eventsHash`: two runs made the same decisions exactly
 * when their hashes agree. The form is version 2 of the encoding ({@linkcode LOG_ENCODING}, which
 * reports state beside the hash): about 9 bytes a record, where version 1 took six float64 (48).
 *
 * - A record `(domain, kind, atNs, a, b, c)` is a header, then the time, then `a`, `b` and `c`.
 * - The header is one byte, `16 * domain + kind`, for a domain of 1 to 15 and a kind of 0 to 15
 *   (all the kernel logs); otherwise a 0 byte, then `domain` and `kind` as values.
 * - The time is the varint of `4d` (or `-4d - 2` when `d < 0`), where `d` is `atNs` minus the
 *   previous record's `atNs` (0 before the first), when both are integers below 2^50 in
 *   magnitude; otherwise the byte 7 and `atNs` as 8 bytes (below).
 * - A value `v` that is an integer below 2^50 in magnitude (-0 is 0) is the varint of `4v` (or
 *   `-4v - 2`), an even number. Any other is odd: the byte 1 for +Infinity, 3 for -Infinity,
 *   5 for NaN, or 7 followed by `v` as an IEEE 754 double, little-endian.
 * - A varint is unsigned LEB128: seven bits a byte, low bits first, the high bit set on every byte
 *   but the last.
 *
 * Each record has exactly one encoding, computed with integer arithmetic exact below 2^53, so the
 * log and its hash are the same on every machine and under every isolation.
 *
 * Chunks of 64 KiB are kept until the log passes 4 MiB, then hashed by `node:crypto` as they fill;
 * a log that ends shorter is hashed by `_sha256.ts`. Loading `node:crypto` starts Deno's Node
 * compatibility layer, which costs a short run more than hashing its whole log in TypeScript.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import { Sha256 } from "./_sha256.ts";
import { DOUBLE } from "./double_fields.ts";

/** The version of the log's encoding; reports state it beside `eventsHash` (1: six float64). */
export const LOG_ENCODING = 2;

const CHUNK = 1 << 16;
/** The longest record: a 0 header, then six values of 9 bytes. */
const MAX_RECORD = 1 + 6 * 9;
/** Past this many bytes, the log is hashed natively as it grows. */
const NATIVE_BYTES = 4 << 20;
const LIMIT = 2 ** 50;

/** Codes of the decision kinds logged, per domain. */
export const LOG = {
  cpu: 1,
  memory: 2,
  io: 3,
  kernel: 4,
  placement: 5,
} as const;

/** Sees one record of the decision log: `(domain, kind, atNs, a, b, c)`, as `record` takes it. */
export type RecordObserver = (
  domain: number,
  kind: number,
  atNs: number,
  a: number,
  b: number,
  c: number,
) => void;

/**
 * An append-only, hashed log of decisions.
 *
 * @example
 * ```ts
 * import { DecisionLog } from "./decision_log.ts";
 * const log = new DecisionLog();
 * log.record(1, 1, 0, 3, 0, 10_000_000);
 * console.assert(log.digest().length === 64);
 * ```
 */
export class DecisionLog {
  /** The native hash, once the log is long; until then the chunks are kept. */
  #hash: Hash | null = null;
  #kept: Uint8Array[] = [];
  #keptBytes = 0;
  /** The chunk being filled: its first `#used` bytes are written. */
  #bytes = new Uint8Array(CHUNK + MAX_RECORD);
  #used = 0;
  /**
   * The chunk is flushed once this many bytes are in it: at once for the first record, so that the
   * flush has run (and has type feedback) before the kernel's loop, `record` inlined, is optimized;
   * code optimized before a path first runs is thrown away when it does. The hash is of the bytes
   * alone, however they are chunked.
   */
  #flushAt = 1;
  /** The previous record's time, and whether it is an integer below 2^50 in magnitude. */
  #lastNs = DOUBLE;
  #lastExact = true;
  #count = 0;
  #digest: string | undefined;
  /** Who sees each record as it is logged; undefined (the usual case) costs one test a record. */
  #observer: RecordObserver | undefined;

  /** @param sink Receives one text line per record, `atNs domain kind a b c` (slow; off by default). */
  constructor(sink?: (line: string) => void) {
    this.#lastNs = 0; // a double from the start (`double_fields.ts`)
    if (sink !== undefined) {
      this.#observer = (domain, kind, atNs, a, b, c) =>
        sink(`${atNs} ${domain} ${kind} ${a} ${b} ${c}`);
    }
  }

  /**
   * Calls `observer` with every record logged from now on, after the observers already there
   * (`--trace`, `--log` and `diff` watch a run this way; without one, logging pays nothing more).
   *
   * @example
   * ```ts
   * import { DecisionLog } from "./decision_log.ts";
   * const log = new DecisionLog();
   * const seen: number[] = [];
   * log.observe((_domain, _kind, atNs) => void seen.push(atNs));
   * log.record(1, 1, 5, 3, 0, 10);
   * console.assert(seen[0] === 5);
   * ```
   */
  observe(observer: RecordObserver): void {
    const before = this.#observer;
    this.#observer = before === undefined ? observer : (domain, kind, atNs, a, b, c) => {
      before(domain, kind, atNs, a, b, c);
      observer(domain, kind, atNs, a, b, c);
    };
  }

  /** How many records were logged. */
  get count(): number {
    return this.#count;
  }

  /** Appends one record. */
  record(domain: number, kind: number, atNs: number, a: number, b: number, c: number): void {
    const bytes = this.#bytes;
    let i = this.#used;
    if ((domain | 0) === domain && domain >= 1 && domain <= 15 && (kind & 15) === kind) {
      bytes[i++] = (domain << 4) | kind;
    } else {
      bytes[i++] = 0;
      i = putValue(bytes, i, domain);
      i = putValue(bytes, i, kind);
    }
    const exact = Number.isInteger(atNs) && atNs < LIMIT && atNs > -LIMIT;
    if (exact && this.#lastExact) i = putInteger(bytes, i, atNs - this.#lastNs);
    else {
      bytes[i++] = 7;
      i = putDouble(bytes, i, atNs);
    }
    this.#lastNs = atNs;
    this.#lastExact = exact;
    i = putValue(bytes, i, a);
    i = putValue(bytes, i, b);
    i = putValue(bytes, i, c);
    this.#used = i;
    this.#count++;
    if (this.#observer !== undefined) this.#observer(domain, kind, atNs, a, b, c);
    if (i >= this.#flushAt) this.#flush();
  }

  /** The sha256 of everything logged, in hex. Ends the log. */
  digest(): string {
    if (this.#digest === undefined) {
      this.#flush();
      if (this.#hash !== null) this.#digest = this.#hash.digest("hex");
      else {
        const hash = new Sha256();
        for (const chunk of this.#kept) hash.update(chunk);
        this.#digest = hash.digest();
      }
      this.#hash = null;
      this.#kept = [];
    }
    return this.#digest;
  }

  /**
   * The sha256 of everything logged so far, in hex, without ending the log: a live kernel
   * checkpoints it, and a replay compares it.
   */
  peek(): string {
    if (this.#digest !== undefined) return this.#digest;
    this.#flush();
    if (this.#hash !== null) return this.#hash.copy().digest("hex");
    const hash = new Sha256();
    for (const chunk of this.#kept) hash.update(chunk);
    return hash.digest();
  }

  /**
   * Does nothing: the log holds no thread or file to let go. A closed log still answers `peek`
   * and `digest` (a live kernel that closed reads its hash last).
   */
  close(): void {}

  /** Hands the bytes written so far to the hash, or keeps them while the log is short. */
  #flush(): void {
    this.#flushAt = CHUNK;
    if (this.#used === 0) return;
    const bytes = this.#bytes.subarray(0, this.#used);
    this.#used = 0;
    if (this.#hash !== null) return void this.#hash.update(bytes);
    this.#kept.push(bytes.slice());
    this.#keptBytes += bytes.length;
    if (this.#keptBytes < NATIVE_BYTES) return;
    this.#hash = nodeCrypto().createHash("sha256");
    for (const chunk of this.#kept) this.#hash.update(chunk);
    this.#kept = [];
  }
}

/** Writes the value `v`. */
function putValue(bytes: Uint8Array, i: number, v: number): number {
  if ((v | 0) === v || (Number.isInteger(v) && v < LIMIT && v > -LIMIT)) {
    return putInteger(bytes, i, v);
  }
  if (v === Infinity) bytes[i++] = 1;
  else if (v === -Infinity) bytes[i++] = 3;
  else if (v !== v) bytes[i++] = 5;
  else {
    bytes[i++] = 7;
    i = putDouble(bytes, i, v);
  }
  return i;
}

/** Writes the varint of `4v` (`v >= 0`) or `-4v - 2`, for an integer `v` below 2^51 in magnitude. */
function putInteger(bytes: Uint8Array, i: number, v: number): number {
  let u = v >= 0 ? v * 4 : -v * 4 - 2;
  if (u < 0x80000000) {
    while (u >= 0x80) {
      bytes[i++] = (u & 0x7f) | 0x80;
      u >>>= 7;
    }
    bytes[i++] = u;
    return i;
  }
  while (u >= 0x80) {
    bytes[i++] = (u % 0x80) | 0x80;
    u = Math.floor(u / 0x80);
  }
  bytes[i++] = u;
  return i;
}

const double = new DataView(new ArrayBuffer(8));

/** Writes `v` as an IEEE 754 double, little-endian; any NaN as 0x7FF8000000000000. */
function putDouble(bytes: Uint8Array, i: number, v: number): number {
  double.setFloat64(0, v, true);
  if (v !== v) double.setUint32(0, 0, true), double.setUint32(4, 0x7ff80000, true);
  for (let k = 0; k < 8; k++) bytes[i++] = double.getUint8(k);
  return i;
}

/**
 * `node:crypto`, loaded when first asked for: `process` is a global of Deno 2, and touching it
 * starts the Node compatibility layer.
 */
function nodeCrypto(): typeof import("node:crypto") {
  const process = (globalThis as unknown as {
    process: { getBuiltinModule(id: "node:crypto"): typeof import("node:crypto") };
  }).process;
  return process.getBuiltinModule("node:crypto");
}
