/**
 * A live kernel: a simulation whose clock is paced to wall-clock time times a speed factor (or
 * runs as fast as it can), with the mutations of the control API (VM parameters, new and removed
 * VMs, policy swaps, pause, resume, step, speed), an event feed for SSE, and crash-safe state.
 *
 * Everything that touches the kernel runs through one queue ({@linkcode LiveKernel.exclusive}),
 * so no request runs while the kernel waits for a sandboxed policy's reply. Reads that must be
 * fast (`GET /v1/state`) are served from a snapshot the pacing loop refreshes inside that queue.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatDuration, parseDuration } from "../engine/duration.ts";
import { PolicyConfigError } from "../kernel/kernel.ts";
import type { Incident, LoadedPolicy, PolicyInfo } from "../kernel/slot.ts";
import { loadPolicy, PolicyReferenceError } from "../simulation/loader.ts";
import type { VmParams } from "../protocol/payloads.ts";
import type { Domain } from "../protocol/definition.ts";
import { PolicyFailure } from "../protocol/runtime.ts";
import { defaultCacheDir } from "../bundle/cache.ts";
import { planPolicy, type PolicyPlan, PolicyRuleError } from "./_policy_rules.ts";
import { bound } from "./_redact.ts";
import {
  createSimulation,
  normaliseSched,
  type Simulation,
  type SimulationFigures,
} from "../simulation/mod.ts";
import type { CpuFigures, CpuVmFigures } from "../cpu/figures.ts";
import { parseWorkload, WorkloadError } from "../workload/load.ts";
import { readTraceText, resolveDataPath, TraceFileError } from "../workload/trace_file.ts";
import {
  AUDIT_SCHEMA,
  type AuditEntry,
  type AuditHeader,
  type Checkpoint,
  CHECKPOINT_SCHEMA,
  type StartRecord,
  STARTS_SCHEMA,
  StateStore,
} from "./persistence.ts";
import {
  type PolicyRequest,
  type SpeedRequest,
  type StepRequest,
  validateVm,
  type VmPatchRequest,
} from "./schemas.ts";
import type { VmWorkload } from "../workload/types.ts";

/** An error the control API answers with: an HTTP status, a code and a one-line message. */
export class ControlError extends Error {
  /** The HTTP status (400, 401, 404, 409, 413 or 503). */
  readonly status: 400 | 401 | 404 | 409 | 413 | 503;
  /** A short machine-readable code such as `not_found`. */
  readonly code: string;

  /**
   * Makes the error a route answers with.
   *
   * @param status The HTTP status.
   * @param code A short machine-readable code.
   * @param message What was wrong and what was expected.
   */
  constructor(status: 400 | 401 | 404 | 409 | 413 | 503, code: string, message: string) {
    super(message);
    this.name = "ControlError";
    this.status = status;
    this.code = code;
  }
}

/** What a live kernel is built from; also the first line of its audit log. */
export interface LiveSetup {
  /** The workload as parsed JSON (durations still strings). */
  workload: unknown;
  /** Where it came from, for messages. */
  source: string;
  /** Relative trace paths are resolved against this folder. */
  baseDir: string;
  /** Seed, isolation, watchdog and policy overrides. */
  options: AuditHeader["options"];
}

/** Options of a live kernel. */
export interface LiveOptions {
  /** Simulated seconds per wall-clock second (default 1); `Infinity` runs as fast as possible. */
  speed?: number;
  /** Start paused. */
  paused?: boolean;
  /** Keep crash-safe state (audit log, checkpoints) in this folder. */
  stateDir?: string;
  /** Wall-clock time between checkpoints (default 5000 ms). */
  checkpointMs?: number;
  /** Wall-clock time between SSE samples (default 250 ms). */
  sampleMs?: number;
  /** Called at each incident (the CLI prints a line). */
  onIncident?: (incident: Incident) => void;
  /** Called with warnings (a replay that diverged, for instance). */
  onWarning?: (message: string) => void;
  /**
   * The folder trace files named through the API must lie in (`serve --data-dir`); without one,
   * `POST /v1/vms` refuses traces. The workload's own traces are read wherever they are.
   */
  dataDir?: string;
  /** The largest trace file read, in bytes (default 256 MiB, as `readTraceText`). */
  maxTraceBytes?: number;
  /**
   * How long (wall-clock ms) a start must stay up to count as stable, and a policy swap to run
   * before it counts as good (default 10000). With `stateDir`, a `--resume` after
   * {@linkcode CRASH_LOOP_STARTS} starts in a row that died sooner replays no policy swap after
   * the last good point (see docs/live_control.md).
   */
  stableMs?: number;
}

/**
 * Starts in a row that died before they were stable, after which `--resume` replays no policy
 * swap after the last good point; twice as many, and it replays no policy swap at all.
 */
export const CRASH_LOOP_STARTS = 2;

/** Someone listening to a live kernel's events (an SSE client). */
export interface LiveSubscriber {
  /** Receives one event. */
  send(event: string, data: unknown): void;
  /** The kernel is shutting down: end the stream. */
  close(): void;
}

/** A VM in the live state. */
export interface LiveVm {
  /** Its id. */
  id: string;
  /** Its index (stable; never reused). */
  index: number;
  /** How many vCPUs. */
  vcpus: number;
  /** vCPUs by status (`running`, `ready`, `blocked`, `new`, `done`). */
  status: Record<string, number>;
  /** Weight, cap, priority and policy-specific parameters. */
  params: { weight: number; cap: number; priority: number; sched: Record<string, unknown> };
  /** Whether it has arrived. */
  arrived: boolean;
  /** When it finished, or null. */
  finishNs: number | null;
  /** When it was removed, or null. */
  removedNs: number | null;
  /** CPU figures so far. */
  cpu: {
    runNs: number;
    waitNs: number;
    switches: number;
    share: number;
    recentShare: number;
    latencyNs: { p50: number; p99: number; max: number };
  };
  /** Memory figures (refs, faults, resident frames, target), when it has memory activity. */
  memory?: Record<string, unknown>;
  /** I/O figures (requests, completed, bytes, latency), when the host has disks. */
  io?: Record<string, unknown>;
}

/** The state `GET /v1/state` answers with. */
export interface LiveState {
  /** The workload's name. */
  workload: string;
  /** The seed. */
  seed: number;
  /** Simulated time (ns). */
  nowNs: number;
  /** When the run stops, or null. */
  stopAtNs: number | null;
  /** Whether the run is over. */
  ended: boolean;
  /** Whether the clock is paused. */
  paused: boolean;
  /** Simulated seconds per wall-clock second, or `"max"`. */
  speed: number | "max";
  /** How far the clock is behind its pace (ns). */
  lagNs: number;
  /** Decisions logged so far. */
  decisions: number;
  /** Acknowledged mutations so far. */
  mutations: number;
  /** The policy in charge of each domain. */
  policies: Record<string, PolicyInfo & { underTest: boolean }>;
  /** The VMs (removed ones included, with `removedNs`). */
  vms: LiveVm[];
  /** The pCPUs. */
  pcpus: {
    index: number;
    vm: string | null;
    busyNs: number;
    utilization: number;
    recentUtilization: number;
  }[];
  /** Other domains' figures, when the kernel has them. */
  domains: Record<string, unknown>;
  /** Every incident so far. */
  incidents: Incident[];
  /** Where state is kept, or null. */
  stateDir: string | null;
  /** Wall-clock time of the snapshot (ms since the epoch). */
  takenAtMs: number;
}

/** A sample of cumulative counters, sent to SSE clients several times a second. */
export interface LiveSample {
  /** Simulated time (ns). */
  nowNs: number;
  /** Whether the clock is paused. */
  paused: boolean;
  /** Whether the run is over. */
  ended: boolean;
  /** Speed. */
  speed: number | "max";
  /** Per VM id: CPU time and wait so far (ns). */
  vms: Record<string, { runNs: number; waitNs: number }>;
  /** Busy time of each pCPU so far (ns). */
  pcpus: number[];
  /** How many incidents so far. */
  incidents: number;
  /** Other domains' counters (faults, I/O latency), when the kernel has them. */
  domains: Record<string, unknown>;
}

const RECENT_SAMPLES = 8;
/** Bounds on what the API may add, so no client can make the kernel crawl. */
const MAX_VMS = 4096, MAX_VCPUS = 16384;
/** The folder hyperhook runs from (its SDK files appear in bundler messages). */
const INSTALL_DIR = new URL("../..", import.meta.url).protocol === "file:"
  ? fileURLToPath(new URL("../..", import.meta.url))
  : undefined;
/** How long a start must stay up, and a swap run, to count as stable (wall-clock ms). */
const DEFAULT_STABLE_MS = 10_000;
/** What a policy posted as `source` is called in the state and the audit log. */
const POSTED_SOURCE = "posted source";
/** How much of a policy's own text (a message it threw at load or start) an answer quotes. */
const POLICY_TEXT_CHARS = 300;

/**
 * A simulation run live. Build one with {@linkcode LiveKernel.create} or
 * {@linkcode LiveKernel.resume}, call `start()`, and `close()` at the end.
 *
 * @example
 * ```ts ignore
 * import { LiveKernel } from "./live.ts";
 * const workload = JSON.parse(await Deno.readTextFile("examples/workloads/demo.json"));
 * const live = await LiveKernel.create({ workload, source: "demo", baseDir: ".", options: {} });
 * live.start();
 * await live.patchVm("web-1", { weight: 512 });
 * await live.close();
 * ```
 */
export class LiveKernel {
  /** The simulation. */
  readonly simulation: Simulation;
  /** What it was built from. */
  readonly setup: LiveSetup;
  #store: StateStore | undefined;
  #speed: number;
  #paused: boolean;
  #anchorWallMs = 0;
  #anchorSimNs = 0;
  #lagNs = 0;
  #chunkNs = 10_000_000;
  #seq = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #subscribers = new Set<LiveSubscriber>();
  #snapshotText = "";
  #snapshotBytes: Uint8Array<ArrayBuffer> | undefined;
  #snapshotAtMs = 0;
  #recent: { wallMs: number; nowNs: number; run: Map<string, number>; busy: number[] }[] = [];
  #lastSampleMs = 0;
  #lastCheckpointMs = 0;
  #checkpointed = { seq: -1, nowNs: -1 };
  #endAnnounced = false;
  #incidentsSent = 0;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #sourceDir: string | undefined;
  #options: LiveOptions;
  #storageBroken: string | undefined;
  #dataDir: string | undefined;
  /** How the last starts went (with a state directory): see {@linkcode CRASH_LOOP_STARTS}. */
  #starts: StartRecord | undefined;
  #startsWrite: Promise<void> = Promise.resolve();
  #startedMs: number | undefined;
  /** Swaps not yet good: their seq, and when they began to run (undefined: at `start()`). */
  #unproven: { seq: number; sinceMs: number | undefined }[] = [];

  /** Use {@linkcode LiveKernel.create} or {@linkcode LiveKernel.resume}. @internal */
  constructor(simulation: Simulation, setup: LiveSetup, options: LiveOptions) {
    this.simulation = simulation;
    this.setup = setup;
    this.#options = options;
    this.#speed = options.speed ?? 1;
    this.#paused = options.paused ?? false;
  }

  /**
   * Builds a live kernel from a workload (not yet running: call `start()`).
   *
   * @throws {WorkloadError} When the workload is invalid.
   * @throws {import("./persistence.ts").StateError} When `stateDir` already holds a log.
   */
  static async create(setup: LiveSetup, options: LiveOptions = {}): Promise<LiveKernel> {
    const live = await LiveKernel.#build(setup, options);
    if (options.stateDir !== undefined) {
      try {
        live.#store = await StateStore.create(options.stateDir, {
          schema: AUDIT_SCHEMA,
          workload: setup.workload,
          source: setup.source,
          baseDir: setup.baseDir,
          options: {
            ...setup.options,
            speed: encodeSpeed(live.#speed),
            paused: live.#paused,
          },
          startedAt: new Date().toISOString(),
        });
        live.#starts = { schema: STARTS_SCHEMA, unstable: 1, goodSeq: 0 };
        await live.#store.writeStarts(live.#starts);
      } catch (error) {
        live.#store?.close();
        await live.simulation.close();
        throw error;
      }
    }
    live.#refresh();
    return live;
  }

  /**
   * Rebuilds a live kernel from a state directory: the workload and options from the log's
   * header, then every acknowledged mutation replayed at the simulated time it was applied at,
   * then the clock run to the last checkpoint. The kernel is deterministic, so this is the state
   * the crashed server had (the checkpoint's decision hash is compared, and a mismatch reported
   * through `onWarning`). The clock's speed and pause come from the log; `options.speed` and
   * `options.paused`, when given, then change them (as logged mutations).
   *
   * A resume never replays a policy swap into a crash loop: after {@linkcode CRASH_LOOP_STARTS}
   * starts in a row that died before they were stable, the swaps after the last good point are
   * not replayed (twice as many: no swap is), which is said through `onWarning` and recorded in
   * the log as a `replay.skip` entry, so later resumes skip them too.
   *
   * @throws {import("./persistence.ts").StateError} When the folder holds no usable log.
   */
  static async resume(stateDir: string, options: LiveOptions = {}): Promise<LiveKernel> {
    const { store, saved } = await StateStore.open(stateDir);
    const { header, entries, checkpoint } = saved;
    // This start counts as unstable until it stays up long enough or stops cleanly; it is
    // recorded before anything runs, so a start that dies while replaying counts too.
    let skip: ReturnType<typeof swapsToSkip>;
    let starts: StartRecord;
    try {
      const last = await store.readStarts();
      skip = swapsToSkip(entries, last);
      starts = {
        schema: STARTS_SCHEMA,
        unstable: (last?.unstable ?? 0) + 1,
        goodSeq: last?.goodSeq ?? 0,
      };
      await store.writeStarts(starts);
    } catch (error) {
      store.close();
      throw error;
    }
    const setup: LiveSetup = {
      workload: header.workload,
      source: header.source,
      baseDir: header.baseDir,
      options: header.options,
    };
    let live: LiveKernel;
    try {
      live = await LiveKernel.#build(setup, {
        ...options,
        speed: decodeSpeed(header.options.speed),
        paused: header.options.paused,
      });
    } catch (error) {
      store.close();
      throw error;
    }
    live.#store = store;
    live.#starts = starts;
    const warn = options.onWarning ?? (() => {});
    const kernel = live.simulation;
    // A replay that skips swaps the checkpoint's run made cannot match its hash.
    let checked = checkpoint === undefined || skip.fresh.length > 0 ||
      checkpoint.seq < skip.lastSkipSeq;
    // Compares the decision hash once the replay stands where the checkpoint was taken.
    const check = () => {
      if (checked || checkpoint === undefined || kernel.nowNs !== checkpoint.nowNs) return;
      checked = true;
      const hash = kernel.peekHash();
      if (hash !== checkpoint.eventsHash) {
        warn(
          `Replay diverged: at ${
            formatDuration(checkpoint.nowNs)
          } the decision hash is ${hash}, the checkpoint says ${checkpoint.eventsHash}`,
        );
      }
    };
    try {
      await live.#replay(entries, checkpoint, check, warn, new Set([...skip.old, ...skip.fresh]));
      if (skip.fresh.length > 0) await live.#recordSkip(skip, starts, options.stableMs);
    } catch (error) {
      // Not a clean stop: this start still counts as unstable.
      live.#starts = undefined;
      await live.close();
      throw error;
    }
    // Replayed swaps not yet good become good once this start has run them long enough.
    for (const entry of entries) {
      if (entry.op === "policy.swap" && entry.seq > starts.goodSeq) {
        if (!skip.old.has(entry.seq) && !skip.fresh.includes(entry.seq)) {
          live.#unproven.push({ seq: entry.seq, sinceMs: undefined });
        }
      }
    }
    // Explicit options win over the saved clock, as logged mutations like any other.
    if (options.paused !== undefined && options.paused !== live.#paused) {
      await (options.paused ? live.pause() : live.resume());
    }
    if (options.speed !== undefined && options.speed !== live.#speed) {
      await live.setSpeed({ speed: encodeSpeed(options.speed) });
    }
    live.#refresh();
    return live;
  }

  /**
   * Applies logged mutations at their simulated times (but the swaps in `skip`), then runs to the
   * checkpoint.
   */
  async #replay(
    entries: AuditEntry[],
    checkpoint: Checkpoint | undefined,
    check: () => void,
    warn: (message: string) => void,
    skip: Set<number>,
  ): Promise<void> {
    const kernel = this.simulation;
    let checked = checkpoint === undefined;
    let target = checkpoint?.nowNs ?? 0;
    for (const entry of entries) {
      if (checkpoint !== undefined && entry.seq > checkpoint.seq && !checked) {
        await this.simulation.run(checkpoint.nowNs);
        check();
        checked = true;
      }
      await this.simulation.run(entry.atNs);
      try {
        if (!skip.has(entry.seq)) await this.#apply(entry, true);
      } catch (error) {
        // A swap the API's rules refuse (an older server accepted it) is reported, never run.
        const refused = error instanceof ControlError && error.code === "refused";
        warn(
          `Replay of mutation ${entry.seq} (${entry.op}) ${refused ? "refused" : "failed"}: ${
            (error as Error).message
          }${refused ? "; it is not run" : ""}`,
        );
      }
      this.#seq = entry.seq;
      const toNs = entry.note?.toNs;
      target = Math.max(target, entry.atNs, typeof toNs === "number" ? toNs : 0);
    }
    await this.simulation.run(target);
    check();
    this.#checkpointed = { seq: this.#seq, nowNs: kernel.nowNs };
  }

  /** Logs the swaps this resume skipped (a `replay.skip` entry), and says so. */
  async #recordSkip(
    skip: ReturnType<typeof swapsToSkip>,
    starts: StartRecord,
    stableMs = DEFAULT_STABLE_MS,
  ): Promise<void> {
    const which = skip.all
      ? "no policy swap is replayed"
      : `the policy swaps after the last good point (mutation ${starts.goodSeq}) are not replayed`;
    const reason = `${starts.unstable - 1} starts in a row died within ${
      formatDuration(stableMs * 1e6)
    }`;
    const entry: AuditEntry = {
      seq: this.#seq + 1,
      atNs: this.simulation.nowNs,
      at: new Date().toISOString(),
      op: "replay.skip",
      body: { seqs: skip.fresh, reason },
    };
    await this.#store!.append(entry);
    this.#seq = entry.seq;
    this.#options.onWarning?.(
      `Crash loop: ${reason}, so ${which}: mutations ${
        skip.fresh.join(", ")
      } are skipped (logged as mutation ${entry.seq}, replay.skip)`,
    );
  }

  static async #build(setup: LiveSetup, options: LiveOptions): Promise<LiveKernel> {
    let dataDir: string | undefined;
    if (options.dataDir !== undefined) {
      try {
        dataDir = Deno.realPathSync(options.dataDir);
        if (!Deno.statSync(dataDir).isDirectory) throw new Deno.errors.NotADirectory();
      } catch {
        throw new WorkloadError(
          `--data-dir ${options.dataDir}: expected an existing folder of trace files`,
        );
      }
    }
    const workload = parseWorkload(setup.workload, {
      source: setup.source,
      baseDir: setup.baseDir,
    });
    // Incidents can happen while the policies start, before the live kernel exists.
    const built: { live?: LiveKernel } = {};
    const simulation = await createSimulation(workload, {
      seed: setup.options.seed,
      isolation: setup.options.isolation,
      // Changes arrive here, live: a copy of the kernel in the sandbox would never see them.
      replay: false,
      stallNs: setup.options.stallNs,
      policies: setup.options.policies,
      readText: (path) => readTraceText(path, { maxBytes: options.maxTraceBytes }),
      onIncident: (incident) => {
        options.onIncident?.(incident);
        if (built.live !== undefined) built.live.#broadcast("incident", incident);
      },
    });
    built.live = new LiveKernel(simulation, setup, options);
    built.live.#dataDir = dataDir;
    return built.live;
  }

  /**
   * The server's folders an answer must not name, each with the label that replaces it: posted
   * source's temporary files, the state and data folders, the workload's folder, the bundle
   * cache, hyperhook's own folder, the working directory, the temporary and home folders.
   */
  serverPaths(): [path: string | undefined, label: string][] {
    const absolute = (path: string | undefined) => path === undefined ? undefined : resolve(path);
    return [
      [this.#sourceDir, "<temp>"],
      [absolute(this.#store?.dir), "<state-dir>"],
      [this.#dataDir, "<data-dir>"],
      [absolute(this.setup.baseDir), "<workload-dir>"],
      [absolute(defaultCacheDir()), "<cache>"],
      [INSTALL_DIR, "<hyperhook>"],
      [Deno.cwd(), "<server-dir>"],
      [absolute(grantedEnv("TMPDIR") ?? "/tmp"), "<temp>"],
      [absolute(grantedEnv("HOME")), "<home>"],
    ];
  }

  /** Whether the clock is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Simulated seconds per wall-clock second (`Infinity`: as fast as possible). */
  get speed(): number {
    return this.#speed;
  }

  /** Acknowledged mutations so far. */
  get mutations(): number {
    return this.#seq;
  }

  /** How many SSE clients are listening. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /**
   * Runs `task` when nothing else touches the kernel, and returns its result. Every access to the
   * kernel goes through here.
   */
  exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Starts the pacing loop. */
  start(): void {
    if (this.#loop !== undefined || this.#closed) return;
    this.#startedMs = performance.now();
    for (const swap of this.#unproven) swap.sinceMs ??= this.#startedMs;
    this.#reanchor();
    this.#loop = this.#run();
  }

  #reanchor(): void {
    this.#anchorWallMs = performance.now();
    this.#anchorSimNs = this.simulation.nowNs;
    this.#lagNs = 0;
  }

  async #run(): Promise<void> {
    const kernel = this.simulation;
    while (!this.#closed) {
      if (this.#paused || kernel.ended) {
        await this.exclusive(() => this.#housekeeping());
        await this.#sleep(this.#options.sampleMs ?? 250);
        continue;
      }
      const started = performance.now();
      const paced = this.#speed === Infinity
        ? Infinity
        : this.#anchorSimNs + (started - this.#anchorWallMs) * 1e6 * this.#speed;
      const limit = Math.floor(Math.min(paced, kernel.nowNs + this.#chunkNs));
      let limited = false;
      if (limit > kernel.nowNs) {
        try {
          await this.exclusive(async () => {
            if (this.#paused || this.#closed) return;
            await this.simulation.run(limit);
            this.#housekeeping();
          });
        } catch (error) {
          // A fault of the kernel itself (not a policy's: those are incidents). Stop the clock and
          // keep serving, so the state can still be read and the server stopped cleanly.
          this.#paused = true;
          this.#options.onWarning?.(
            `The kernel failed at ${kernel.nowNs} ns and the clock is paused: ${
              (error as Error)?.stack ?? error
            }`,
          );
          continue;
        }
        const took = performance.now() - started;
        limited = limit < paced;
        // Keep each slice of kernel work short (a few ms), so requests wait little for the queue:
        // a backlog (the process was descheduled, or the speed is high) is worked off in slices.
        if (took > 4) this.#chunkNs = Math.max(10_000, Math.floor(this.#chunkNs / 2));
        else if (took < 1 && limited) this.#chunkNs = Math.min(60e9, this.#chunkNs * 2);
      } else {
        await this.exclusive(() => this.#housekeeping());
      }
      if (this.#speed !== Infinity) {
        this.#lagNs = Math.max(0, Math.floor(paced - kernel.nowNs));
        // More than a second of wall time behind: drop the backlog rather than race to catch up.
        if (this.#lagNs > this.#speed * 1e9) this.#reanchor();
      }
      if (limited) await this.#sleep(0);
      else await this.#sleep(10);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        done();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        done();
      };
    });
  }

  /** Inside the queue: refresh the snapshot, send samples and news, checkpoint when due. */
  #housekeeping(): Promise<void> | void {
    const wallMs = performance.now();
    const kernel = this.simulation;
    if (wallMs - this.#snapshotAtMs >= 50) this.#refresh();
    if (wallMs - this.#lastSampleMs >= (this.#options.sampleMs ?? 250)) {
      this.#lastSampleMs = wallMs;
      if (this.#subscribers.size > 0) this.#broadcast("sample", this.#sample());
    }
    if (kernel.ended && !this.#endAnnounced) {
      this.#endAnnounced = true;
      this.#refresh();
      this.#broadcast("ended", { nowNs: kernel.nowNs });
    }
    const guard = this.#guardStarts(wallMs);
    if (wallMs - this.#lastCheckpointMs >= (this.#options.checkpointMs ?? 5000)) {
      this.#lastCheckpointMs = wallMs;
      return guard === undefined ? this.#checkpoint() : Promise.all([guard, this.#checkpoint()])
        .then(() => {});
    }
    return guard;
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

  /** Writes a checkpoint if anything changed since the last one (call inside the queue). */
  async #checkpoint(): Promise<void> {
    const store = this.#store, kernel = this.simulation;
    if (store === undefined || this.#storageBroken !== undefined) return;
    if (this.#checkpointed.seq === this.#seq && this.#checkpointed.nowNs === kernel.nowNs) return;
    const checkpoint: Checkpoint = {
      schema: CHECKPOINT_SCHEMA,
      seq: this.#seq,
      nowNs: kernel.nowNs,
      eventsHash: kernel.peekHash(),
      decisions: kernel.decisions,
      speed: encodeSpeed(this.#speed),
      paused: this.#paused,
      savedAt: new Date().toISOString(),
    };
    try {
      await store.checkpoint(checkpoint);
      this.#checkpointed = { seq: checkpoint.seq, nowNs: checkpoint.nowNs };
    } catch (error) {
      this.#options.onWarning?.(`Checkpoint failed: ${(error as Error).message}`);
    }
  }

  /** The live state, as JSON text (a snapshot at most 50 ms old; no kernel access). */
  stateText(): string {
    return this.#snapshotText;
  }

  /** The same snapshot as UTF-8 bytes, encoded once per refresh (the hot read of the API). */
  stateBytes(): Uint8Array<ArrayBuffer> {
    return this.#snapshotBytes ??= new TextEncoder().encode(this.#snapshotText);
  }

  /** The live state (parsed from the snapshot). */
  state(): LiveState {
    return JSON.parse(this.#snapshotText);
  }

  #refresh(): void {
    const wallMs = performance.now();
    this.#snapshotAtMs = wallMs;
    this.#snapshotText = JSON.stringify(this.#buildState(wallMs));
    this.#snapshotBytes = undefined;
  }

  #buildState(wallMs: number): LiveState {
    const simulation = this.simulation, kernel = simulation;
    const now = kernel.nowNs;
    const figures = simulation.figures(), cpu = figures.cpu;
    const run = runNow(cpu);
    const busy = busyNow(cpu);
    const recent = this.#recentBase(wallMs, now, run, busy);
    const pcpus = busy.length;
    const capacity = now * pcpus;
    const recentSpan = now - recent.nowNs;
    const policies: LiveState["policies"] = {};
    for (const { domain, info, underTest } of simulation.policies()) {
      policies[domain] = { ...info, underTest };
    }
    const { memory, io } = figures;
    const vms = cpu.vms.map((vm): LiveVm => {
      const runNs = run.get(vm.id) ?? 0;
      const before = recent.run.get(vm.id) ?? 0;
      const latency = vm.latency;
      const memoryFigures = memory?.vms[vm.index], ioFigures = io?.vms[vm.index];
      return {
        id: vm.id,
        index: vm.index,
        vcpus: vm.vcpus,
        status: vm.status,
        params: {
          weight: vm.params.weight,
          cap: vm.params.cap,
          priority: vm.params.priority,
          sched: vm.params.sched,
        },
        arrived: vm.arrived,
        finishNs: vm.finishNs,
        removedNs: vm.removedNs,
        cpu: {
          runNs,
          waitNs: vm.waitNs + vm.waitingNs,
          switches: vm.switches,
          share: capacity === 0 ? 0 : runNs / capacity,
          recentShare: recentSpan <= 0 ? 0 : (runNs - before) / (recentSpan * pcpus),
          latencyNs: {
            p50: latency.quantile(0.5),
            p99: latency.quantile(0.99),
            max: latency.max,
          },
        },
        ...(memoryFigures === undefined ? {} : { memory: memoryFigures }),
        ...(ioFigures === undefined ? {} : { io: ioFigures }),
      };
    });
    return {
      workload: simulation.workload.name,
      seed: simulation.workload.seed,
      nowNs: now,
      stopAtNs: kernel.stopAtNs ?? null,
      ended: kernel.ended,
      paused: this.#paused,
      speed: encodeSpeed(this.#speed),
      lagNs: this.#lagNs,
      decisions: kernel.decisions,
      mutations: this.#seq,
      policies,
      vms,
      pcpus: busy.map((busyNs, i) => ({
        index: i,
        vm: cpu.running[i]!,
        busyNs,
        utilization: now === 0 ? 0 : busyNs / now,
        recentUtilization: recentSpan <= 0 ? 0 : (busyNs - (recent.busy[i] ?? 0)) / recentSpan,
      })),
      domains: domainFigures(figures),
      incidents: [...kernel.incidents],
      stateDir: this.#store?.dir ?? null,
      takenAtMs: Date.now(),
    };
  }

  /** The oldest recent sample (about two seconds back), and records the current one. */
  #recentBase(
    wallMs: number,
    nowNs: number,
    run: Map<string, number>,
    busy: number[],
  ): { nowNs: number; run: Map<string, number>; busy: number[] } {
    const recent = this.#recent;
    const last = recent[recent.length - 1];
    if (last === undefined || wallMs - last.wallMs >= 250 || nowNs < last.nowNs) {
      if (last !== undefined && nowNs < last.nowNs) recent.length = 0;
      recent.push({ wallMs, nowNs, run, busy });
      if (recent.length > RECENT_SAMPLES) recent.shift();
    }
    return recent[0]!;
  }

  #sample(): LiveSample {
    const kernel = this.simulation, figures = kernel.figures(), cpu = figures.cpu;
    const vms: LiveSample["vms"] = {};
    for (const vm of cpu.vms) {
      if (vm.removedNs === null) {
        vms[vm.id] = { runNs: vm.runNs + vm.runningNs, waitNs: vm.waitNs + vm.waitingNs };
      }
    }
    return {
      nowNs: kernel.nowNs,
      paused: this.#paused,
      ended: kernel.ended,
      speed: encodeSpeed(this.#speed),
      vms,
      pcpus: busyNow(cpu),
      incidents: kernel.incidents.length,
      domains: domainFigures(figures),
    };
  }

  /** Adds an SSE client; returns the function that removes it. */
  subscribe(subscriber: LiveSubscriber): () => void {
    this.#subscribers.add(subscriber);
    subscriber.send("hello", this.state());
    return () => this.#subscribers.delete(subscriber);
  }

  #broadcast(event: string, data: unknown): void {
    if (event === "incident") this.#incidentsSent++;
    for (const subscriber of this.#subscribers) {
      try {
        subscriber.send(event, data);
      } catch {
        this.#subscribers.delete(subscriber);
      }
    }
  }

  // --- Mutations -------------------------------------------------------------------------------

  /** Changes a VM's parameters. */
  patchVm(id: string, patch: VmPatchRequest): Promise<LiveVm> {
    return this.#mutate({ op: "vm.patch", target: id, body: patch });
  }

  /**
   * Adds a VM: `vm` is a workload `vms[]` item as JSON (validated here; `cpu.arrive` counts from
   * now).
   *
   * @throws {import("./schemas.ts").InvalidBody} When `vm` is not a valid VM.
   */
  addVm(vm: unknown): Promise<LiveVm> {
    const id = validateVm(vm, this.#rawHost()).id;
    return this.#mutate({ op: "vm.add", target: id, body: vm });
  }

  /** Removes a VM. */
  removeVm(id: string): Promise<{ id: string; removedNs: number }> {
    return this.#mutate({ op: "vm.remove", target: id });
  }

  /** Hands a domain to another policy without a gap; the old one stays if the new one fails. */
  swapPolicy(
    domain: string,
    request: PolicyRequest,
  ): Promise<{ domain: string; policy: PolicyInfo }> {
    return this.#mutate({ op: "policy.swap", target: domain, body: request });
  }

  /** Pauses the clock. */
  pause(): Promise<SimStatus> {
    return this.#mutate({ op: "sim.pause" });
  }

  /** Resumes the clock. */
  resume(): Promise<SimStatus> {
    return this.#mutate({ op: "sim.resume" });
  }

  /** Advances a paused clock by `by`, or to the next simulated instant with events. */
  step(request: StepRequest): Promise<SimStatus> {
    return this.#mutate({ op: "sim.step", body: request });
  }

  /** Changes the speed. */
  setSpeed(request: SpeedRequest): Promise<SimStatus> {
    return this.#mutate({ op: "sim.speed", body: request });
  }

  // deno-lint-ignore no-explicit-any
  #mutate(request: { op: string; target?: string; body?: unknown }): Promise<any> {
    return this.exclusive(async () => {
      if (this.#closed) throw new ControlError(409, "closing", "The server is shutting down");
      if (this.#storageBroken !== undefined) {
        throw new ControlError(
          503,
          "storage",
          `The audit log cannot be written (${this.#storageBroken}); mutations are refused`,
        );
      }
      const kernel = this.simulation;
      const entry: AuditEntry = {
        seq: this.#seq + 1,
        atNs: kernel.nowNs,
        at: "",
        op: request.op,
        ...(request.target === undefined ? {} : { target: request.target }),
        ...(request.body === undefined ? {} : { body: request.body }),
      };
      const result = await this.#apply(entry, false);
      entry.at = new Date().toISOString();
      if (this.#store !== undefined) {
        try {
          await this.#store.append(entry);
        } catch (error) {
          this.#storageBroken = (error as Error).message;
          throw new ControlError(
            503,
            "storage",
            `Applied but not recorded: the audit log cannot be written (${this.#storageBroken})`,
          );
        }
      }
      this.#seq = entry.seq;
      if (entry.op === "policy.swap" && this.#starts !== undefined) {
        // Before `start()` nothing runs yet: the swap's time begins with the clock's loop.
        const sinceMs = this.#startedMs === undefined ? undefined : performance.now();
        this.#unproven.push({ seq: entry.seq, sinceMs });
      }
      this.#refresh();
      this.#broadcast("change", { seq: entry.seq, atNs: entry.atNs, op: entry.op, result });
      return result;
    });
  }

  /**
   * Applies one mutation to the kernel (live, or replayed from the log). Checks come first: a
   * mutation that throws changed nothing. Sets `entry.note` with what replay checks.
   */
  async #apply(entry: AuditEntry, replaying: boolean): Promise<unknown> {
    const kernel = this.simulation;
    const mutatesKernel = entry.op.startsWith("vm.") || entry.op === "policy.swap" ||
      entry.op === "sim.step";
    if (mutatesKernel && kernel.ended) {
      throw new ControlError(
        409,
        "ended",
        `The simulation ended at ${formatDuration(kernel.nowNs)}; it takes no more changes`,
      );
    }
    switch (entry.op) {
      case "vm.patch":
        return this.#patch(entry.target!, entry.body as VmPatchRequest);
      case "vm.add":
        return this.#add(validateVm(entry.body, this.#rawHost()));
      case "vm.remove": {
        const vm = this.#findVm(entry.target!);
        kernel.removeVm(vm.index);
        return { id: vm.id, removedNs: kernel.nowNs };
      }
      case "policy.swap":
        return await this.#swap(entry, replaying);
      case "replay.skip":
        // Written by a resume that broke a crash loop (never by a request): the swaps it names
        // are skipped by every later replay, so it changes nothing when met.
        if (!replaying) break;
        return entry.body;
      case "sim.pause":
        this.#paused = true;
        return this.#status();
      case "sim.resume":
        this.#paused = false;
        this.#reanchor();
        this.#wake?.();
        return this.#status();
      case "sim.speed": {
        this.#speed = decodeSpeed((entry.body as SpeedRequest).speed)!;
        this.#reanchor();
        return this.#status();
      }
      case "sim.step": {
        if (!this.#paused && !replaying) {
          throw new ControlError(409, "running", "Step needs a paused clock: pause it first");
        }
        const by = parseDuration((entry.body as StepRequest | undefined)?.by);
        let toNs = by !== undefined ? kernel.nowNs + by : kernel.nextEventNs();
        if (kernel.stopAtNs !== undefined) toNs = Math.min(toNs, kernel.stopAtNs);
        if (!Number.isFinite(toNs)) {
          throw new ControlError(409, "idle", "Nothing is left to happen: no event is queued");
        }
        entry.note = { toNs };
        if (!replaying) {
          // In slices, yielding between them, so reads are served during a long step.
          while (kernel.nowNs < toNs && !kernel.ended) {
            await this.simulation.run(Math.min(toNs, kernel.nowNs + Math.max(this.#chunkNs, 1e6)));
            await new Promise((done) => setTimeout(done, 0));
          }
        }
        this.#reanchor();
        return this.#status();
      }
    }
    throw new ControlError(400, "bad_request", `Unknown operation ${entry.op}`);
  }

  #status(): SimStatus {
    const kernel = this.simulation;
    return {
      nowNs: kernel.nowNs,
      paused: this.#paused,
      speed: encodeSpeed(this.#speed),
      ended: kernel.ended,
    };
  }

  /** The host as the workload file gave it (JSON, durations as strings). */
  #rawHost(): unknown {
    return (this.setup.workload as { host?: unknown }).host;
  }

  /** The figures of the VM named `id`, which is in the kernel and not removed. */
  #findVm(id: string): CpuVmFigures {
    const index = this.simulation.vmIndex(id);
    const vm = index === undefined ? undefined : this.simulation.figures().cpu.vms[index];
    if (vm === undefined || vm.removedNs !== null) {
      throw new ControlError(404, "not_found", `No VM "${id}" in this kernel`);
    }
    return vm;
  }

  #liveVm(id: string): LiveVm {
    this.#refresh();
    return this.state().vms.find((vm) => vm.id === id)!;
  }

  #patch(id: string, patch: VmPatchRequest): LiveVm {
    const vm = this.#findVm(id), simulation = this.simulation;
    const { memory, io } = simulation.figures();
    // Every check before any change: a refused patch changes nothing.
    if (patch.memory !== undefined) {
      if (memory === undefined) throw noDomain("memory");
      if (memory.vms[vm.index] === undefined) {
        throw new ControlError(
          409,
          "no_memory",
          `VM "${id}" has no memory activity (no "memory" section), so it has no target to set`,
        );
      }
      const target = patch.memory.target, frames = memory.host.frames;
      if (target !== undefined && target > frames) {
        throw new ControlError(
          400,
          "invalid",
          `Body: memory.target: expected at most the host's ${frames} frames, got ${target}`,
        );
      }
    }
    if (patch.io !== undefined && io === undefined) throw noDomain("io");
    const set: Partial<Omit<VmParams, "index">> = {};
    if (patch.weight !== undefined) set.weight = patch.weight;
    if (patch.cap !== undefined) set.cap = patch.cap;
    if (patch.priority !== undefined) set.priority = patch.priority;
    if (patch.sched !== undefined) {
      set.sched = { ...vm.params.sched, ...normaliseSched(patch.sched) };
    }
    simulation.setVmParams(vm.index, {
      cpu: Object.keys(set).length > 0 ? set : undefined,
      memory: patch.memory?.target === undefined ? undefined : { target: patch.memory.target },
      io: patch.io,
    });
    return this.#liveVm(id);
  }

  #add(spec: VmWorkload): LiveVm {
    const simulation = this.simulation, figures = simulation.figures();
    const vcpus = figures.cpu.vms.reduce((sum, vm) => sum + vm.vcpus, 0);
    if (figures.cpu.vms.length >= MAX_VMS || vcpus + spec.vcpus > MAX_VCPUS) {
      throw new ControlError(
        409,
        "too_large",
        `This kernel holds at most ${MAX_VMS} VMs and ${MAX_VCPUS} vCPUs (removed ones count)`,
      );
    }
    if (simulation.vmIndex(spec.id) !== undefined) {
      throw new ControlError(
        409,
        "conflict",
        `A VM "${spec.id}" exists or existed in this kernel: VM ids are never reused`,
      );
    }
    if (spec.memory !== undefined && figures.memory === undefined) throw noDomain("memory");
    if (spec.io !== undefined && figures.io === undefined) throw noDomain("io");
    // Every check, trace reads included, before any domain changes: a refused VM leaves no trace
    // (its id is not taken, its index not used, and nothing is logged).
    simulation.addVm(spec, {
      place: "body",
      memoryPlace: "memory",
      readText: (path) => this.#readClientTrace(path),
      refuse: (refusal) => {
        if (refusal.field === "cpu") {
          return new ControlError(400, "invalid", `Body: cpu: ${withoutContent(refusal.error)}`);
        }
        if (refusal.field === "stopAt") {
          return new ControlError(
            400,
            "invalid",
            "Body: cpu: this VM runs forever, and the workload has no stopAt to end the run",
          );
        }
        const message = withoutContent(refusal.error).replace(/^Workload: body\./, "");
        return new ControlError(400, "invalid", `Body: ${message.replace(/^Workload: /, "io: ")}`);
      },
    });
    return this.#liveVm(spec.id);
  }

  /**
   * Reads a trace file a client named (`POST /v1/vms`): only inside the data folder, a regular
   * file within the size limit. Messages name the path as the client sent it.
   */
  #readClientTrace(path: string): string {
    try {
      return readTraceText(resolveDataPath(this.#dataDir, path), {
        maxBytes: this.#options.maxTraceBytes,
      });
    } catch (error) {
      if (error instanceof TraceFileError) throw new TraceFileError(path, error.reason);
      throw error;
    }
  }

  async #swap(
    entry: AuditEntry,
    replaying: boolean,
  ): Promise<{ domain: string; policy: PolicyInfo }> {
    const name = entry.target as Domain, request = entry.body as PolicyRequest;
    const kernel = this.simulation;
    const inCharge = () => kernel.policies().find((policy) => policy.domain === name);
    const domain = inCharge();
    if (domain === undefined) {
      throw new ControlError(
        409,
        "no_domain",
        `This kernel has no ${name} domain (the workload's host defines none)`,
      );
    }
    let plan;
    try {
      plan = planPolicy(name, request, this.setup.options.isolation);
    } catch (error) {
      if (error instanceof PolicyRuleError) {
        throw new ControlError(400, "refused", `Body: ${error.message}`);
      }
      throw error;
    }
    const loaded = await this.#load(name, request, plan);
    const old = domain.info.name;
    try {
      await kernel.swap(name, loaded);
    } catch (error) {
      if (error instanceof PolicyConfigError) {
        throw new ControlError(400, "invalid_config", `${error.message}; ${old} keeps running`);
      }
      const reason = error instanceof PolicyFailure ? `${error.kind}/${error.reason}: ` : "";
      throw new ControlError(
        409,
        "policy_failed",
        `The new ${name} policy failed to start (${reason}${
          bound(String((error as Error)?.message), POLICY_TEXT_CHARS)
        }); ${old} keeps running`,
      );
    }
    const info = inCharge()!.info;
    this.simulation.requested[name] = { ...info, ejected: false, restarts: 0 };
    if (replaying && typeof entry.note?.sha256 === "string" && entry.note.sha256 !== info.sha256) {
      this.#options.onWarning?.(
        `Replay of mutation ${entry.seq}: policy ${info.reference} has changed since (sha256 ${info.sha256}, was ${entry.note.sha256})`,
      );
    }
    entry.note = { sha256: info.sha256 };
    return { domain: name, policy: info };
  }

  /**
   * Loads a policy the rules allowed. Posted source is written to a file of its own (the bundler
   * reads modules from files), bundled as untrusted code, and the file removed at once: nothing
   * the client could name stays behind, and the policy's reference is `posted source`.
   */
  async #load(name: Domain, request: PolicyRequest, plan: PolicyPlan): Promise<LoadedPolicy> {
    const options = {
      isolation: plan.isolation,
      config: request.config,
      untrusted: plan.untrusted,
    };
    let folder: string | undefined;
    try {
      if (plan.use !== undefined) return await loadPolicy(name, plan.use, options);
      this.#sourceDir ??= await Deno.makeTempDir({ prefix: "hyperhook-sources-" });
      folder = await Deno.makeTempDir({ dir: this.#sourceDir });
      const path = join(folder, "policy.ts");
      await Deno.writeTextFile(path, request.source!);
      const loaded = await loadPolicy(name, path, options);
      loaded.info = { ...loaded.info, name: POSTED_SOURCE, reference: POSTED_SOURCE };
      return loaded;
    } catch (error) {
      const message = error instanceof PolicyReferenceError
        ? error.message
        : `Policy: ${(error as Error)?.message}`;
      throw new ControlError(400, "invalid_policy", bound(message, POLICY_TEXT_CHARS));
    } finally {
      if (folder !== undefined) await Deno.remove(folder, { recursive: true }).catch(() => {});
    }
  }

  /**
   * Stops the clock and the loop, writes a final checkpoint, ends SSE streams and stops every
   * policy runtime. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#wake?.();
      await this.#loop;
      await this.exclusive(async () => {
        this.#refresh();
        await this.#checkpoint();
        // A clean stop: the next start begins with no unstable one behind it.
        if (this.#starts !== undefined && this.#storageBroken === undefined) {
          this.#starts.unstable = 0;
          await this.#writeStarts();
        }
      });
      for (const subscriber of this.#subscribers) {
        try {
          subscriber.close();
        } catch {
          // Already gone.
        }
      }
      this.#subscribers.clear();
      await this.simulation.close();
      this.#store?.close();
      if (this.#sourceDir !== undefined) {
        await Deno.remove(this.#sourceDir, { recursive: true }).catch(() => {});
      }
    })();
    return this.#closing;
  }
}

/** What the `sim` operations answer. */
export interface SimStatus {
  /** Simulated time (ns). */
  nowNs: number;
  /** Whether the clock is paused. */
  paused: boolean;
  /** Speed (`"max"`: as fast as possible). */
  speed: number | "max";
  /** Whether the run is over. */
  ended: boolean;
}

/**
 * The swaps a resume skips: those earlier resumes skipped (`replay.skip` entries), and, after
 * {@linkcode CRASH_LOOP_STARTS} unstable starts in a row, those after the last good point (after
 * twice as many, every swap).
 */
function swapsToSkip(
  entries: AuditEntry[],
  last: StartRecord | undefined,
): { old: Set<number>; fresh: number[]; lastSkipSeq: number; all: boolean } {
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

/**
 * A trace reader's message without the text it quotes: a client names a file to read, and the
 * answer must not become a way to read files through the server.
 */
/** CPU time of every VM so far, including the runs going on now, by VM id. */
function runNow(cpu: CpuFigures): Map<string, number> {
  return new Map(cpu.vms.map((vm) => [vm.id, vm.runNs + vm.runningNs]));
}

/** Busy time of every pCPU so far, including the runs going on now. */
function busyNow(cpu: CpuFigures): number[] {
  return cpu.busyNs.map((busy, i) => busy + cpu.runningNs[i]!);
}

/** Host figures of the memory and I/O domains (faults; requests, latency, disks). */
function domainFigures(figures: SimulationFigures): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (figures.memory !== undefined) out.memory = figures.memory.host;
  if (figures.io !== undefined) out.io = figures.io.live();
  return out;
}

function withoutContent(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/, got "[\s\S]*$/, "");
}

/** An environment variable, when reading it is already allowed (it must never prompt). */
function grantedEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function noDomain(name: "memory" | "io"): ControlError {
  return new ControlError(
    409,
    "no_domain",
    `This kernel has no ${name} domain (the workload's host defines no ${
      name === "memory" ? "memory" : "disks"
    })`,
  );
}

function encodeSpeed(speed: number): number | "max" {
  return speed === Infinity ? "max" : speed;
}

function decodeSpeed(speed: number | "max" | undefined): number | undefined {
  return speed === undefined ? undefined : speed === "max" ? Infinity : speed;
}

export { WorkloadError };
