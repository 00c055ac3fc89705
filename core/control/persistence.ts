/**
 * Crash-safe state of a live kernel: an append-only audit log of acknowledged mutations (JSONL,
 * fsynced before the acknowledgement) and a periodic checkpoint (written to a temporary file,
 * fsynced, then renamed over the old one).
 *
 * The kernel is deterministic, so its state is not serialised: the state *is* the workload, the
 * seed, the options and the ordered mutations with the simulated time each was applied at. The
 * checkpoint records how far the clock had gone (and the decision-log hash at that point, to check
 * the replay); `--resume` rebuilds the kernel and replays the log up to there.
 *
 * Layout of a state directory:
 * - `audit.jsonl`: line 1 is the {@linkcode AuditHeader}, then one {@linkcode AuditEntry} a line;
 * - `checkpoint.json`: the last {@linkcode Checkpoint};
 * - `starts.json`: how the last starts went ({@linkcode StartRecord}), so that `--resume` never
 *   replays a policy swap into a crash loop.
 *
 * @module
 */

import { join } from "node:path";
import type { Domain } from "../protocol/definition.ts";
import type { Isolation } from "../protocol/runtime.ts";

/** The schema tag of the audit log's first line. */
export const AUDIT_SCHEMA = "hyperhook.audit/v1";
/** The schema tag of checkpoints. */
export const CHECKPOINT_SCHEMA = "hyperhook.checkpoint/v1";
/** The schema tag of the start record. */
export const STARTS_SCHEMA = "hyperhook.starts/v1";

/** The first line of an audit log: what the kernel was built from. */
export interface AuditHeader {
  /** Always `hyperhook.audit/v1`. */
  schema: typeof AUDIT_SCHEMA;
  /** The workload as JSON, before validation (durations still strings). */
  workload: unknown;
  /** Where the workload came from (a path), for messages. */
  source: string;
  /** The folder relative trace paths of the workload are resolved against. */
  baseDir: string;
  /** Simulation options that change what the kernel does. */
  options: {
    /** The seed override, if any. */
    seed?: number;
    /** Where policies run, if forced. */
    isolation?: Isolation;
    /** The watchdog timeout in ns, if set. */
    stallNs?: number;
    /** Policies chosen on the command line. */
    policies?: Partial<Record<Domain, { use: string; config?: Record<string, unknown> }>>;
    /** The speed the clock started at (later changes are entries). */
    speed?: number | "max";
    /** Whether the clock started paused. */
    paused?: boolean;
  };
  /** When the log was started (ISO 8601). */
  startedAt: string;
}

/** One acknowledged mutation. */
export interface AuditEntry {
  /** 1, 2, 3, … in the order the mutations were acknowledged. */
  seq: number;
  /** The simulated time it was applied at (ns). */
  atNs: number;
  /** Wall-clock time of the acknowledgement (ISO 8601). */
  at: string;
  /** What was done: `vm.patch`, `vm.add`, `vm.remove`, `policy.swap`, `sim.pause`, … */
  op: string;
  /** The target: a VM id or a domain, when the operation has one. */
  target?: string;
  /** The validated request body as received (durations still strings). */
  body?: unknown;
  /** Facts recorded at the time, checked on replay (the sha256 of a swapped-in policy). */
  note?: Record<string, unknown>;
}

/** A checkpoint: how far the kernel had gone, and how to check a replay got there. */
export interface Checkpoint {
  /** Always `hyperhook.checkpoint/v1`. */
  schema: typeof CHECKPOINT_SCHEMA;
  /** The last audit entry applied before the checkpoint (0: none). */
  seq: number;
  /** The simulated time (ns). */
  nowNs: number;
  /** The decision-log hash at `nowNs`: a faithful replay reproduces it. */
  eventsHash: string;
  /**
   * The version of the decision log's encoding `eventsHash` hashes (`LOG_ENCODING` of
   * `core/engine/decision_log.ts`); absent in checkpoints written before it was recorded, which
   * hashed encoding 1 or 2. A replay's hash is compared only with one of its own encoding.
   */
  logEncoding?: number;
  /** How many decisions were logged by then. */
  decisions: number;
  /** Simulated seconds per wall-clock second; `"max"` for as fast as possible. */
  speed: number | "max";
  /** Whether the clock was paused. */
  paused: boolean;
  /** When it was written (ISO 8601). */
  savedAt: string;
}

/**
 * How the server's last starts went: written when a start begins, when it has stayed up long
 * enough to count as stable, when a swap has run that long, and at a clean stop.
 */
export interface StartRecord {
  /** Always `hyperhook.starts/v1`. */
  schema: typeof STARTS_SCHEMA;
  /**
   * Starts in a row (the running one included) that neither stayed up the stable time nor
   * stopped cleanly: those that died soon after they began.
   */
  unstable: number;
  /**
   * The last good point: every policy swap at or before this audit entry ran for the stable time
   * without the server dying (0: none yet).
   */
  goodSeq: number;
}

/** What a state directory holds, read back for `--resume`. */
export interface SavedState {
  /** The audit log's header. */
  header: AuditHeader;
  /** Every complete entry, in order. */
  entries: AuditEntry[];
  /** The last checkpoint, if one was written. */
  checkpoint: Checkpoint | undefined;
}

/** A state directory that cannot be used (missing, or in a shape not understood). */
export class StateError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was wrong and what was expected.
   */
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

const encoder = new TextEncoder();

/**
 * A state directory: appends to the audit log with an fsync each, writes checkpoints atomically.
 * Calls must not overlap (the live kernel makes them one at a time).
 *
 * @example
 * ```ts ignore
 * import { StateStore } from "./persistence.ts";
 * const store = await StateStore.create("out/state", header);
 * await store.append({ seq: 1, atNs: 0, at: new Date().toISOString(), op: "sim.pause" });
 * store.close();
 * ```
 */
export class StateStore {
  /** The directory. */
  readonly dir: string;
  #log: Deno.FsFile;

  /**
   * Use {@linkcode StateStore.create} or {@linkcode StateStore.open}.
   *
   * @param dir The state directory.
   * @param log The audit log, open for appending.
   */
  constructor(dir: string, log: Deno.FsFile) {
    this.dir = dir;
    this.#log = log;
  }

  /** The audit log's path. */
  get logPath(): string {
    return join(this.dir, "audit.jsonl");
  }

  /** The checkpoint's path. */
  get checkpointPath(): string {
    return join(this.dir, "checkpoint.json");
  }

  /** The start record's path. */
  get startsPath(): string {
    return join(this.dir, "starts.json");
  }

  /** Reads the start record, or undefined when there is none (a state directory of an older server). */
  async readStarts(): Promise<StartRecord | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.startsPath);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    const record = parseLine(text, this.startsPath) as Partial<StartRecord>;
    if (
      record.schema !== STARTS_SCHEMA || !Number.isSafeInteger(record.unstable) ||
      !Number.isSafeInteger(record.goodSeq)
    ) {
      throw new StateError(`--resume: ${this.startsPath} is not a ${STARTS_SCHEMA}`);
    }
    return record as StartRecord;
  }

  /** Writes the start record atomically. */
  async writeStarts(record: StartRecord): Promise<void> {
    await this.#replace(this.startsPath, JSON.stringify(record) + "\n");
  }

  /**
   * Starts a new state directory with `header` as the log's first line.
   *
   * @throws {StateError} When the directory already holds a log (resume it, or use another).
   */
  static async create(dir: string, header: AuditHeader): Promise<StateStore> {
    const path = join(dir, "audit.jsonl");
    let log: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true });
      log = await Deno.open(path, { write: true, createNew: true });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists && (await isDirectory(dir))) {
        throw new StateError(
          `State directory ${dir} already holds an audit log: pass --resume to carry on from it, or choose an empty directory`,
        );
      }
      throw new StateError(
        `--state-dir ${dir}: cannot keep state there (${
          (error as Error).message
        }); expected a directory this process can write`,
      );
    }
    const store = new StateStore(dir, log);
    await store.#write(JSON.stringify(header) + "\n");
    await syncDir(dir);
    return store;
  }

  /**
   * Opens an existing state directory for resuming: reads it back and drops a torn last line
   * (a write the crash interrupted, never acknowledged).
   *
   * @throws {StateError} When there is no log, or its header is not an audit header.
   */
  static async open(dir: string): Promise<{ store: StateStore; saved: SavedState }> {
    const path = join(dir, "audit.jsonl");
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new StateError(`--resume: ${dir} holds no audit log (audit.jsonl)`);
      }
      throw new StateError(
        `--resume: cannot read ${path} (${
          (error as Error).message
        }); expected --state-dir to name the directory of an earlier run`,
      );
    }
    const complete = bytes.lastIndexOf(10) + 1;
    const lines = new TextDecoder().decode(bytes.subarray(0, complete)).split("\n");
    lines.pop();
    const header = parseLine(lines[0], `${path}:1`) as AuditHeader | undefined;
    if (header?.schema !== AUDIT_SCHEMA) {
      throw new StateError(`--resume: ${path} does not start with a ${AUDIT_SCHEMA} header`);
    }
    const entries: AuditEntry[] = [];
    for (let i = 1; i < lines.length; i++) {
      const entry = parseLine(lines[i], `${path}:${i + 1}`) as AuditEntry;
      if (entry.seq !== entries.length + 1 || typeof entry.atNs !== "number") {
        throw new StateError(`--resume: ${path}:${i + 1}: expected entry ${entries.length + 1}`);
      }
      entries.push(entry);
    }
    if (complete < bytes.length) await Deno.truncate(path, complete);
    let checkpoint: Checkpoint | undefined;
    try {
      const text = await Deno.readTextFile(join(dir, "checkpoint.json"));
      checkpoint = parseLine(text, join(dir, "checkpoint.json")) as Checkpoint;
      if (checkpoint.schema !== CHECKPOINT_SCHEMA) {
        throw new StateError(`--resume: ${dir}/checkpoint.json is not a ${CHECKPOINT_SCHEMA}`);
      }
      const encoding: unknown = checkpoint.logEncoding;
      if (encoding !== undefined && !(Number.isSafeInteger(encoding) && (encoding as number) > 0)) {
        throw new StateError(
          `--resume: ${dir}/checkpoint.json: logEncoding is ${
            JSON.stringify(encoding)
          }; expected a positive integer (the decision log's encoding version)`,
        );
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const log = await Deno.open(path, { write: true, append: true });
    return { store: new StateStore(dir, log), saved: { header, entries, checkpoint } };
  }

  /** Appends one entry and waits until it is on disk. */
  async append(entry: AuditEntry): Promise<void> {
    await this.#write(JSON.stringify(entry) + "\n");
  }

  async #write(line: string): Promise<void> {
    const bytes = encoder.encode(line);
    let written = 0;
    while (written < bytes.length) written += await this.#log.write(bytes.subarray(written));
    await this.#log.syncData();
  }

  /** Writes a checkpoint atomically: a temporary file, fsync, rename, fsync of the directory. */
  async checkpoint(checkpoint: Checkpoint): Promise<void> {
    await this.#replace(this.checkpointPath, JSON.stringify(checkpoint, null, 2) + "\n");
  }

  /** Replaces a file atomically: a temporary file, fsync, rename, fsync of the directory. */
  async #replace(path: string, text: string): Promise<void> {
    const temporary = `${path}.tmp`;
    const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
    try {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, path);
    await syncDir(this.dir);
  }

  /** Closes the log file. */
  close(): void {
    try {
      this.#log.close();
    } catch {
      // Already closed.
    }
  }
}

function parseLine(line: string | undefined, where: string): unknown {
  try {
    const value = JSON.parse(line ?? "");
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch {
    // Reported below.
  }
  throw new StateError(`--resume: ${where}: expected a JSON object`);
}

async function syncDir(dir: string): Promise<void> {
  // A rename or a new file is durable only once its directory is.
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the data itself is synced.
  } finally {
    handle?.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
