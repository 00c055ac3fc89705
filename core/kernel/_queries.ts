/**
 * The queries a domain put in its policy's batch, and the reading of their answers: written once
 * for every domain. A domain records each query as it writes it ({@linkcode Queries.add}), then,
 * when the reply comes, walks the answers in order, each checked for its shape:
 *
 * ```ts ignore
 * for (let q = queries.start(reply); q >= 0; q = queries.next()) {
 *   switch (queries.kind[q]) { ... queries.values, queries.arg[q], queries.reader ... }
 * }
 * ```
 *
 * The loop stays in the domain, so that each domain's answers are applied by its own code, with
 * no call through a shared function in between (the CPU domain does this at every dispatch).
 *
 * @module
 */

import { DOUBLE } from "../engine/double_fields.ts";
import { type Reply, ReplyReader } from "../protocol/batch.ts";
import { invalidDecision } from "../protocol/runtime.ts";
import type { PolicySlot } from "./slot.ts";

/** A domain's queries of the current batch, and the reader of their answers. */
export class Queries {
  /** The opcode of each query, in batch order. */
  readonly kind: number[] = [];
  /** The argument that names what each query is about (a pCPU, a vCPU, a VM, a disk). */
  readonly arg: number[] = [];
  /** A second number some queries keep (how many frames a reclaim asked for). */
  readonly extra: number[] = [];
  /** The reader of the reply, positioned in the current answer. */
  readonly reader: ReplyReader = new ReplyReader();
  /** How many values the current answer holds. */
  values = DOUBLE;
  #slot: PolicySlot;
  #count = 0;
  #asked = 0;
  #at = 0;

  /** @param slot The domain's policy slot, whose batch the queries go in. */
  constructor(slot: PolicySlot) {
    this.#slot = slot;
    this.values = 0; // a double from the start (`double_fields.ts`): read from a `Float64Array`
  }

  /**
   * Records a query just written into the batch.
   *
   * @param kind Its opcode.
   * @param arg What it is about.
   * @param extra A second number to keep (default 0).
   */
  add(kind: number, arg: number, extra = 0): void {
    const q = this.#count++;
    this.kind[q] = kind;
    this.arg[q] = arg;
    this.extra[q] = extra;
    this.#slot.writer.queries++;
  }

  /** Forgets the queries not answered (a new policy takes over). */
  clear(): void {
    this.#count = 0;
  }

  /**
   * Starts reading a reply to the queries recorded, which it forgets.
   *
   * @param reply The policy's reply.
   * @returns The position of the first query, or -1 when none was asked.
   * @throws {import("../protocol/runtime.ts").PolicyFailure} Of kind `invalid`
   *   (`malformed-reply`) when the reply has no well-formed first answer.
   */
  start(reply: Reply): number {
    this.#asked = this.#count;
    this.#count = 0;
    this.reader.reset(reply);
    this.#at = -1;
    return this.next();
  }

  /**
   * Moves to the next answer; `values` then says how many values it holds.
   *
   * @returns The position of its query, or -1 after the last.
   * @throws {import("../protocol/runtime.ts").PolicyFailure} Of kind `invalid`
   *   (`malformed-reply`) when the reply has no well-formed next answer.
   */
  next(): number {
    if (++this.#at >= this.#asked) return -1;
    try {
      this.values = this.reader.begin();
    } catch (error) {
      throw invalidDecision("malformed-reply", (error as Error).message);
    }
    return this.#at;
  }
}
