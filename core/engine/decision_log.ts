/**
 * The decision log: every decision of a run, in order, in a canonical binary form, hashed.
 *
 * Each record is six float64 values `(domain, kind, atNs, a, b, c)`, little-endian. The sha256 of
 * the whole log is the run's `eventsHash`: two runs made the same decisions exactly when their
 * hashes agree. Records are hashed in 64 KiB chunks, so logging costs a few stores per decision.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

const RECORD = 6;
const CHUNK_RECORDS = 1365;

/** Codes of the decision kinds logged, per domain. */
export const LOG = {
  cpu: 1,
  memory: 2,
  io: 3,
  kernel: 4,
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
  #hash: Hash = createHash("sha256");
  #buffer = new Float64Array(RECORD * CHUNK_RECORDS);
  #bytes = new Uint8Array(this.#buffer.buffer);
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
      this.#flush();
      this.#digest = this.#hash.digest("hex");
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
    return this.#hash.copy().digest("hex");
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#hash.update(this.#bytes.subarray(0, this.#used * 8));
    this.#used = 0;
  }
}
