/**
 * The decision log: every decision of a run, in order, in a canonical binary form, hashed.
 *
 * Each record is six float64 values `(domain, kind, atNs, a, b, c)`, little-endian. The sha256 of
 * the whole log is the run's `eventsHash`: two runs made the same decisions exactly when their
 * hashes agree. Records are hashed in 64 KiB chunks, so logging costs a few stores per decision.
 *
 * A log that ends short is hashed by `_sha256.ts`; `node:crypto`'s native hash is loaded only for
 * a long log (or a peek), since loading it starts Deno's Node compatibility layer, which costs a
 * short run more than its whole log takes to hash.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import { ThreadHash } from "./_hash_thread.ts";
import { Sha256 } from "./_sha256.ts";

const RECORD = 6;
const CHUNK_RECORDS = 1365;
/** A log dropped while it held the hash thread lets it go when collected. */
const dropped = new FinalizationRegistry<ThreadHash>((hash) => hash.discard());

/** A log is hashed on the hash thread once it is this long (about 175,000 decisions). */
const OFFLOAD_BYTES = 8 << 20;

/** Codes of the decision kinds logged, per domain. */
export const LOG = {
  cpu: 1,
  memory: 2,
  io: 3,
  kernel: 4,
  placement: 5,
} as const;

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
  /** The hash on this thread, or on the hash thread; neither while the chunks are kept. */
  #local: Hash | null = null;
  #remote: ThreadHash | null = null;
  /** Chunks kept until the log is long enough for the hash thread, or ends. */
  #kept: Uint8Array[] = [];
  #keptBytes = 0;
  /** Where records are written: a buffer of the log's own, or a slot of the hash thread's ring. */
  #buffer: Float64Array<ArrayBufferLike> = new Float64Array(RECORD * CHUNK_RECORDS);
  #bytes: Uint8Array<ArrayBufferLike> = new Uint8Array(this.#buffer.buffer);
  #used = 0;
  #count = 0;
  #digest: string | undefined;
  #sink: ((line: string) => void) | undefined;

  /** @param sink Receives one text line per record, for `--log` (slow; off by default). */
  constructor(sink?: (line: string) => void) {
    this.#sink = sink;
  }

  /** How many records were logged. */
  get count(): number {
    return this.#count;
  }

  /** Appends one record. */
  record(domain: number, kind: number, atNs: number, a: number, b: number, c: number): void {
    const buffer = this.#buffer;
    let i = this.#used;
    buffer[i++] = domain;
    buffer[i++] = kind;
    buffer[i++] = atNs;
    buffer[i++] = a;
    buffer[i++] = b;
    buffer[i++] = c;
    this.#used = i;
    this.#count++;
    if (this.#sink !== undefined) this.#sink(`${atNs} ${domain} ${kind} ${a} ${b} ${c}`);
    if (i === buffer.length) this.#flush();
  }

  /** The sha256 of everything logged, in hex. Ends the log. */
  digest(): string {
    if (this.#digest === undefined) {
      this.#flush(true);
      if (this.#remote !== null) this.#digest = this.#remote.digest();
      else if (this.#local !== null) this.#digest = this.#local.digest("hex");
      else {
        const hash = new Sha256();
        for (const chunk of this.#kept.splice(0)) hash.update(chunk);
        this.#digest = hash.digest();
      }
      this.#release();
      this.#local = null;
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
    return this.#remote?.peek() ?? this.#hashHere().copy().digest("hex");
  }

  /** Lets the hash thread go, if this log held it (a log dropped unfinished). */
  close(): void {
    this.#remote?.discard();
    this.#release();
  }

  /** Forgets the hash thread (its ring is another log's now): records go to a buffer of our own. */
  #release(): void {
    if (this.#remote === null) return;
    dropped.unregister(this);
    this.#remote = null;
    this.#writeTo(new Float64Array(RECORD * CHUNK_RECORDS));
  }

  /**
   * Hands the records written so far to the hash. Past the first few MiB (at once, if the hash
   * thread is free already) they go to the thread, which then lends the log the next slot of its
   * ring to write into: no copy. A log that ends asks for no slot after its last chunk.
   */
  #flush(ending = false): void {
    if (this.#used === 0) return;
    const length = this.#used * 8;
    this.#used = 0;
    if (this.#remote !== null) {
      this.#remote.commit(length);
      if (!ending) this.#writeTo(this.#remote.slot());
      return;
    }
    const bytes = this.#bytes.subarray(0, length);
    if (this.#local !== null) return void this.#local.update(bytes);
    this.#kept.push(bytes.slice());
    this.#keptBytes += length;
    if (this.#keptBytes < OFFLOAD_BYTES && !(this.#kept.length === 1 && ThreadHash.ready)) return;
    this.#remote = this.#acquire();
    if (this.#remote === null) return void this.#hashHere();
    for (const chunk of this.#kept.splice(0)) this.#remote.update(chunk);
    if (!ending) this.#writeTo(this.#remote.slot());
  }

  /** Writes the next records into `buffer`. */
  #writeTo(buffer: Float64Array): void {
    this.#buffer = buffer.subarray(0, RECORD * CHUNK_RECORDS);
    this.#bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, this.#buffer.byteLength);
  }

  #acquire(): ThreadHash | null {
    const remote = ThreadHash.acquire();
    if (remote !== null) dropped.register(this, remote, this);
    return remote;
  }

  /** Hashes on this thread from now on (the chunks kept first). */
  #hashHere(): Hash {
    if (this.#local === null) {
      this.#local = nodeCrypto().createHash("sha256");
      for (const chunk of this.#kept.splice(0)) this.#local.update(chunk);
    }
    return this.#local;
  }
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
