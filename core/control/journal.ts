/**
 * A live kernel's books, with a state directory (`serve --state-dir`): the audit log of every
 * acknowledged mutation, the checkpoints (the simulated time, the decision hash), and the start
 * record that tells a crash loop from a crash. Without a state directory a journal keeps nothing
 * and every call is cheap.
 *
 * A resume replays the log; after {@linkcode CRASH_LOOP_STARTS} starts in a row that died before
 * they were stable, it skips the policy swaps after the last good point ({@linkcode swapsToSkip}).
 *
 * @module
 */

import { LOG_ENCODING } from "../engine/decision_log.ts";
import { formatDuration } from "../engine/duration.ts";
import type { Simulation } from "../simulation/mod.ts";
import { ControlError } from "./errors.ts";
import {
  type AuditEntry,
  type AuditHeader,
  type Checkpoint,
  CHECKPOINT_SCHEMA,
  type SavedState,
  type StartRecord,
  STARTS_SCHEMA,
  StateStore,
} from "./persistence.ts";

/**
 * Starts in a row that died before they were stable, after which `--resume` replays no policy
 * swap after the last good point; twice as many, and it replays no policy swap at all.
 */
export const CRASH_LOOP_STARTS = 2;

/** How long a start must stay up, and a swap run, to count as stable (wall-clock ms). */
const DEFAULT_STABLE_MS = 10_000;

/** Options of a {@linkcode Journal}. */
export interface JournalOptions {
  /** Wall-clock time between checkpoints (default 5000 ms). */
  checkpointMs?: number;
  /** How long a start must stay up, and a swap run, to count as stable (default 10000 ms). */
  stableMs?: number;
  /** Called with warnings (a checkpoint or start record not written). */
  onWarning?: (message: string) => void;
}

/** What a checkpoint records, read when one is due. */
export interface CheckpointSource {
  /** The last acknowledged mutation. */
  seq: number;
  /** The simulation (its time, decisions and decision hash). */
  simulation: Pick<Simulation, "nowNs" | "decisions" | "peekHash">;
  /** The clock's speed, as written. */
  speed: number | "max";
  /** Whether the clock is paused. */
  paused: boolean;
}

/** The swaps a resume skips (see {@linkcode swapsToSkip}). */
export interface SkippedSwaps {
  /** Those earlier resumes skipped (`replay.skip` entries). */
  old: Set<number>;
  /** Those this resume skips, newly. */
  fresh: number[];
  /** The seq of the last `replay.skip` entry (0: none). */
  lastSkipSeq: number;
  /** Whether every swap is skipped. */
  all: boolean;
}

/**
 * The audit log, checkpoints and start record of a live kernel.
 *
 * @example
 * ```ts
 * import { Journal } from "./journal.ts";
 *
 * // Without a state directory: nothing is kept, nothing is refused.
 * const journal = new Journal();
 * journal.refuseIfBroken();
 * await journal.append({ seq: 1, atNs: 0, at: "", op: "sim.pause" });
 * console.assert(journal.dir === undefined);
 * ```
 */
export class Journal {
  #store: StateStore | undefined;
  #starts: StartRecord | undefined;
  #options: JournalOptions;
  #startsWrite: Promise<void> = Promise.resolve();
  #startedMs: number | undefined;
  /** Swaps not yet good: their seq, and when they began to run (undefined: at `started()`). */
  #unproven: { seq: number; sinceMs: number | undefined }[] = [];
  #checkpointed = { seq: -1, nowNs: -1 };
  #lastCheckpointMs = 0;
  #broken: string | undefined;

  /**
   * A journal over an open store (see {@linkcode Journal.create} and {@linkcode Journal.open}),
   * or over none.
   *
   * @param options Checkpoint period, stability, warnings.
   * @param store The open state directory, if any.
   * @param starts The start record of this start, if any.
   */
  constructor(options: JournalOptions = {}, store?: StateStore, starts?: StartRecord) {
    this.#options = options;
    this.#store = store;
    this.#starts = starts;
  }

  /**
   * Starts the books of a new live kernel in an empty state directory.
   *
   * @param stateDir The folder.
   * @param header The log's first line (the workload and options).
   * @param options Checkpoint period, stability, warnings.
   * @throws {import("./persistence.ts").StateError} When the folder already holds a log.
   */
  static async create(
    stateDir: string,
    header: AuditHeader,
    options: JournalOptions = {},
  ): Promise<Journal> {
    let store: StateStore | undefined;
    try {
      store = await StateStore.create(stateDir, header);
      const starts: StartRecord = { schema: STARTS_SCHEMA, unstable: 1, goodSeq: 0 };
      await store.writeStarts(starts);
      return new Journal(options, store, starts);
    } catch (error) {
      store?.close();
      throw error;
    }
  }

  /**
   * Opens the books of a live kernel to resume: what was saved, and the swaps to skip. This start
   * counts as unstable until it stays up long enough or stops cleanly; it is recorded before
   * anything runs, so a start that dies while replaying counts too.
   *
   * @param stateDir The folder.
   * @param options Checkpoint period, stability, warnings.
   * @throws {import("./persistence.ts").StateError} When the folder holds no usable log.
   */
  static async open(
    stateDir: string,
    options: JournalOptions = {},
  ): Promise<{ journal: Journal; saved: SavedState; skip: SkippedSwaps }> {
    const { store, saved } = await StateStore.open(stateDir);
    try {
      const last = await store.readStarts();
      const skip = swapsToSkip(saved.entries, last);
      const starts: StartRecord = {
        schema: STARTS_SCHEMA,
        unstable: (last?.unstable ?? 0) + 1,
        goodSeq: last?.goodSeq ?? 0,
      };
      await store.writeStarts(starts);
      return { journal: new Journal(options, store, starts), saved, skip };
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** The state directory, if any. */
  get dir(): string | undefined {
    return this.#store?.dir;
  }

  /** The last good point: swaps up to it were stable. */
  get goodSeq(): number {
    return this.#starts?.goodSeq ?? 0;
  }

  /**
   * Refuses a mutation while the audit log cannot be written.
   *
   * @throws {ControlError} 503 `storage`.
   */
  refuseIfBroken(): void {
    if (this.#broken !== undefined) {
      throw new ControlError(
        503,
        "storage",
        `The audit log cannot be written (${this.#broken}); mutations are refused`,
      );
    }
  }

  /**
   * Appends an applied mutation to the audit log; a failure breaks the log for good.
   *
   * @param entry The mutation.
   * @throws {ControlError} 503 `storage` when it cannot be written.
   */
  async append(entry: AuditEntry): Promise<void> {
    if (this.#store === undefined) return;
    try {
      await this.#store.append(entry);
    } catch (error) {
      this.#broken = (error as Error).message;
      throw new ControlError(
        503,
        "storage",
        `Applied but not recorded: the audit log cannot be written (${this.#broken})`,
      );
    }
  }

  /**
   * A policy swap was acknowledged: it becomes good once it has run long enough.
   *
   * @param seq Its seq.
   */
  swapped(seq: number): void {
    if (this.#starts === undefined) return;
    // Before `started()` nothing runs yet: the swap's time begins with the clock's loop.
    const sinceMs = this.#startedMs === undefined ? undefined : performance.now();
    this.#unproven.push({ seq, sinceMs });
  }

  /**
   * After a resume's replay: the replayed swaps not yet good (and not skipped) become good once
   * this start has run them long enough, and the checkpoint stands where the replay did.
   *
   * @param entries The replayed log.
   * @param skip The swaps skipped.
   * @param at The last seq and simulated time replayed.
   * @param rewrite Whether the checkpoint must be written again even if nothing changes (its hash
   *   is of another decision-log encoding: the next one is of this server's).
   */
  replayed(
    entries: AuditEntry[],
    skip: SkippedSwaps,
    at: { seq: number; nowNs: number },
    rewrite = false,
  ): void {
    this.#checkpointed = rewrite ? { seq: -1, nowNs: -1 } : { seq: at.seq, nowNs: at.nowNs };
    for (const entry of entries) {
      if (entry.op === "policy.swap" && entry.seq > this.goodSeq) {
        if (!skip.old.has(entry.seq) && !skip.fresh.includes(entry.seq)) {
          this.#unproven.push({ seq: entry.seq, sinceMs: undefined });
        }
      }
    }
  }

  /**
   * Logs the swaps this resume skipped (a `replay.skip` entry), and says so.
   *
   * @param skip The swaps skipped.
   * @param at The entry's seq and simulated time.
   */
  async recordSkip(skip: SkippedSwaps, at: { seq: number; atNs: number }): Promise<void> {
    const starts = this.#starts!, stableMs = this.#options.stableMs ?? DEFAULT_STABLE_MS;
    const which = skip.all
      ? "no policy swap is replayed"
      : `the policy swaps after the last good point (mutation ${starts.goodSeq}) are not replayed`;
    const reason = `${starts.unstable - 1} starts in a row died within ${
      formatDuration(stableMs * 1e6)
    }`;
    const entry: AuditEntry = {
      seq: at.seq,
      atNs: at.atNs,
      at: new Date().toISOString(),
      op: "replay.skip",
      body: { seqs: skip.fresh, reason },
    };
    await this.#store!.append(entry);
    this.#options.onWarning?.(
      `Crash loop: ${reason}, so ${which}: mutations ${
        skip.fresh.join(", ")
      } are skipped (logged as mutation ${entry.seq}, replay.skip)`,
    );
  }

  /** The clock's loop started: stability is counted from now. */
  started(): void {
    this.#startedMs = performance.now();
    for (const swap of this.#unproven) swap.sinceMs ??= this.#startedMs;
  }

  /**
   * Between slices of kernel work (inside the queue): keeps the start record, and writes a
   * checkpoint when one is due.
   *
   * @param wallMs The wall-clock time now.
   * @param source What the checkpoint records.
   * @returns The writes, if any was due.
   */
  housekeeping(wallMs: number, source: CheckpointSource): Promise<void> | undefined {
    const guard = this.#guardStarts(wallMs);
    if (wallMs - this.#lastCheckpointMs >= (this.#options.checkpointMs ?? 5000)) {
      this.#lastCheckpointMs = wallMs;
      return guard === undefined
        ? this.checkpoint(source)
        : Promise.all([guard, this.checkpoint(source)]).then(() => {});
    }
    return guard;
  }

  /**
   * Writes a checkpoint if anything changed since the last one (call inside the queue).
   *
   * @param source What the checkpoint records.
   */
  async checkpoint(source: CheckpointSource): Promise<void> {
    const store = this.#store, simulation = source.simulation;
    if (store === undefined || this.#broken !== undefined) return;
    const nowNs = simulation.nowNs;
    if (this.#checkpointed.seq === source.seq && this.#checkpointed.nowNs === nowNs) return;
    const checkpoint: Checkpoint = {
      schema: CHECKPOINT_SCHEMA,
      seq: source.seq,
      nowNs,
      eventsHash: simulation.peekHash(),
      logEncoding: LOG_ENCODING,
      decisions: simulation.decisions,
      speed: source.speed,
      paused: source.paused,
      savedAt: new Date().toISOString(),
    };
    try {
      await store.checkpoint(checkpoint);
      this.#checkpointed = { seq: checkpoint.seq, nowNs: checkpoint.nowNs };
    } catch (error) {
      this.#options.onWarning?.(`Checkpoint failed: ${(error as Error).message}`);
    }
  }

  /**
   * A clean stop (inside the queue): a last checkpoint, and the next start begins with no
   * unstable one behind it.
   *
   * @param source What the checkpoint records.
   */
  async stopCleanly(source: CheckpointSource): Promise<void> {
    await this.checkpoint(source);
    if (this.#starts !== undefined && this.#broken === undefined) {
      this.#starts.unstable = 0;
      await this.#writeStarts();
    }
  }

  /** This start failed (a resume that could not replay): it still counts as unstable. */
  abandon(): void {
    this.#starts = undefined;
  }

  /** Closes the audit log. */
  close(): void {
    this.#store?.close();
  }

  /**
   * Keeps the start record: this start is stable once it has run `stableMs`, and a swap good once
   * it has run that long. Returns the write, if one was due.
   */
  #guardStarts(wallMs: number): Promise<void> | undefined {
    const starts = this.#starts, started = this.#startedMs;
    if (starts === undefined || started === undefined) return undefined;
    const stableMs = this.#options.stableMs ?? DEFAULT_STABLE_MS;
    let changed = false;
    if (starts.unstable > 0 && wallMs - started >= stableMs) {
      starts.unstable = 0;
      changed = true;
    }
    const unproven = this.#unproven;
    while (unproven.length > 0 && wallMs - (unproven[0]!.sinceMs ?? wallMs) >= stableMs) {
      starts.goodSeq = Math.max(starts.goodSeq, unproven.shift()!.seq);
      changed = true;
    }
    return changed ? this.#writeStarts() : undefined;
  }

  /** Writes the start record (one write at a time, each of the record as it then is). */
  #writeStarts(): Promise<void> {
    const store = this.#store, starts = this.#starts;
    if (store === undefined || starts === undefined) return Promise.resolve();
    this.#startsWrite = this.#startsWrite.then(() => store.writeStarts({ ...starts })).catch(
      (error) => this.#options.onWarning?.(`Start record not written: ${(error as Error).message}`),
    );
    return this.#startsWrite;
  }
}

/** How a replay's decision hash compares with the checkpoint's (see {@linkcode compareReplayHash}). */
export type ReplayHashCheck =
  | { status: "matched" }
  | { status: "diverged" | "other-encoding"; message: string };

/**
 * Compares the decision hash a replay reached at the checkpoint's time with the checkpoint's.
 * Only hashes of one encoding of the decision log can be compared: a checkpoint of another
 * encoding (a state directory of an older or newer server) is not compared, and says so; one that
 * names no encoding (written before checkpoints recorded it, in encoding 1 or 2) matches when its
 * hash does, and is otherwise taken for encoding 1, not for a divergence.
 *
 * @example
 * ```ts
 * import { compareReplayHash } from "./journal.ts";
 *
 * const checkpoint = { nowNs: 5e6, eventsHash: "ab", logEncoding: 1 };
 * const check = compareReplayHash(checkpoint, "cd", "state/checkpoint.json");
 * console.assert(check.status === "other-encoding");
 * ```
 *
 * @param checkpoint The checkpoint's time, hash and encoding.
 * @param hash The replay's decision hash at `checkpoint.nowNs`, in this server's encoding.
 * @param where The checkpoint's path, for messages.
 * @returns Matched, diverged, or not comparable, with the line to warn.
 */
export function compareReplayHash(
  checkpoint: Pick<Checkpoint, "nowNs" | "eventsHash" | "logEncoding">,
  hash: string,
  where: string,
): ReplayHashCheck {
  const encoding = checkpoint.logEncoding, at = formatDuration(checkpoint.nowNs);
  if (encoding === undefined || encoding === LOG_ENCODING) {
    if (hash === checkpoint.eventsHash) return { status: "matched" };
    if (encoding === LOG_ENCODING) {
      return {
        status: "diverged",
        message:
          `Replay diverged: at ${at} the decision hash is ${hash}, the checkpoint says ${checkpoint.eventsHash}`,
      };
    }
  }
  const theirs = encoding === undefined
    ? "names no decision-log encoding (written before checkpoints recorded one: encoding 1)"
    : `holds a decision hash of log encoding ${encoding}`;
  return {
    status: "other-encoding",
    message:
      `Replay not checked: ${where} ${theirs}, and this server hashes encoding ${LOG_ENCODING}, so the replay to ${at} is not compared with it; the next checkpoint is in encoding ${LOG_ENCODING}`,
  };
}

/**
 * The swaps a resume skips: those earlier resumes skipped (`replay.skip` entries), and, after
 * {@linkcode CRASH_LOOP_STARTS} unstable starts in a row, those after the last good point (after
 * twice as many, every swap).
 *
 * @example
 * ```ts
 * import { swapsToSkip } from "./journal.ts";
 *
 * const entries = [1, 2, 3].map((seq) => ({ seq, atNs: 0, at: "", op: "policy.swap" }));
 * const skip = swapsToSkip(entries, { schema: "hyperhook.starts/v1", unstable: 2, goodSeq: 1 });
 * console.assert(skip.fresh.join() === "2,3" && !skip.all);
 * ```
 *
 * @param entries The audit log's entries.
 * @param last The start record the last start left, if any.
 * @returns The swaps to skip, old and new.
 */
export function swapsToSkip(entries: AuditEntry[], last: StartRecord | undefined): SkippedSwaps {
  const old = new Set<number>();
  let lastSkipSeq = 0;
  for (const entry of entries) {
    if (entry.op !== "replay.skip") continue;
    const seqs = (entry.body as { seqs?: unknown } | undefined)?.seqs;
    if (Array.isArray(seqs)) { for (const seq of seqs) if (typeof seq === "number") old.add(seq); }
    lastSkipSeq = entry.seq;
  }
  const unstable = last?.unstable ?? 0;
  if (unstable < CRASH_LOOP_STARTS) return { old, fresh: [], lastSkipSeq, all: false };
  const all = unstable >= 2 * CRASH_LOOP_STARTS;
  const from = all ? 0 : last!.goodSeq;
  const fresh = entries
    .filter((entry) => entry.op === "policy.swap" && entry.seq > from && !old.has(entry.seq))
    .map((entry) => entry.seq);
  return { old, fresh, lastSkipSeq, all };
}
