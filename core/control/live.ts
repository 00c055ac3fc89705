/**
 * A live kernel: a simulation whose clock is paced to wall-clock time times a speed factor (or
 * runs as fast as it can), with the mutations of the control API (VM parameters, new and removed
 * VMs, policy swaps, pause, resume, step, speed), an event feed for SSE, and crash-safe state.
 *
 * This file is the facade the HTTP app and `serve` use; each job has a file of its own: the pacing
 * (`clock.ts`), the state snapshots and the SSE feed (`state.ts`), the VM and policy changes
 * (`mutations.ts`), the audit log, checkpoints and crash-loop guard (`journal.ts`), and the
 * errors the API answers with (`errors.ts`).
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
import type { Incident, PolicyInfo } from "../kernel/slot.ts";
import { defaultCacheDir } from "../bundle/cache.ts";
import { createSimulation, type Simulation } from "../simulation/mod.ts";
import { parseWorkload, WorkloadError } from "../workload/load.ts";
import { readTraceText } from "../workload/trace_file.ts";
import { decodeSpeed, encodeSpeed, LiveClock } from "./clock.ts";
import { ControlError } from "./errors.ts";
import {
  type CheckpointSource,
  compareReplayHash,
  Journal,
  type ReplayHashCheck,
  type SkippedSwaps,
} from "./journal.ts";
import { Mutations } from "./mutations.ts";
import { AUDIT_SCHEMA, type AuditEntry, type AuditHeader, type Checkpoint } from "./persistence.ts";
import {
  type PolicyRequest,
  type SpeedRequest,
  type StepRequest,
  validateVm,
  type VmPatchRequest,
} from "./schemas.ts";
import {
  LiveFeed,
  LiveSnapshots,
  type LiveState,
  type LiveSubscriber,
  type LiveVm,
  type StateContext,
} from "./state.ts";

export { ControlError } from "./errors.ts";
export { CRASH_LOOP_STARTS } from "./journal.ts";
export type { LiveSample, LiveState, LiveSubscriber, LiveVm } from "./state.ts";

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
  /**
   * Called with the simulation once it is built, before its policies start (`serve --trace`,
   * `--log`: see `SimulateOptions.observe`).
   */
  observe?: (simulation: Simulation) => void;
}

/** The folder hyperhook runs from (its SDK files appear in bundler messages). */
const INSTALL_DIR = new URL("../..", import.meta.url).protocol === "file:"
  ? fileURLToPath(new URL("../..", import.meta.url))
  : undefined;

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
  #options: LiveOptions;
  #clock: LiveClock;
  #snapshots: LiveSnapshots;
  #feed = new LiveFeed();
  #mutations: Mutations;
  #journal: Journal;
  #seq = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #lastSampleMs = 0;
  #endAnnounced = false;
  #closing: Promise<void> | undefined;
  #closed = false;
  #started = false;
  #dataDir: string | undefined;
  /**
   * What `resume` replayed: the logged changes applied, the swaps skipped, where the replay ended,
   * and whether the decision hash matched the checkpoint's (`unchecked` without one to compare,
   * `other-encoding` when the checkpoint's hash is of another decision-log encoding).
   */
  resumed:
    | {
      changes: number;
      skipped: number;
      atNs: number;
      hash: "matched" | "diverged" | "other-encoding" | "unchecked";
    }
    | undefined;

  /** Use {@linkcode LiveKernel.create} or {@linkcode LiveKernel.resume}. @internal */
  constructor(simulation: Simulation, setup: LiveSetup, options: LiveOptions) {
    this.simulation = simulation;
    this.setup = setup;
    this.#options = options;
    this.#clock = new LiveClock({
      speed: options.speed,
      paused: options.paused,
      idleMs: options.sampleMs,
    });
    this.#snapshots = new LiveSnapshots(simulation);
    this.#journal = new Journal(options);
    this.#dataDir = options.dataDir;
    this.#mutations = new Mutations(simulation, {
      isolation: setup.options.isolation,
      dataDir: options.dataDir,
      maxTraceBytes: options.maxTraceBytes,
      onWarning: options.onWarning,
    });
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
        live.#journal = await Journal.create(options.stateDir, {
          schema: AUDIT_SCHEMA,
          workload: setup.workload,
          source: setup.source,
          baseDir: setup.baseDir,
          options: {
            ...setup.options,
            speed: encodeSpeed(live.#clock.speed),
            paused: live.#clock.paused,
          },
          startedAt: new Date().toISOString(),
        }, options);
      } catch (error) {
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
    const { journal, saved, skip } = await Journal.open(stateDir, options);
    const { header, entries, checkpoint } = saved;
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
      journal.close();
      throw error;
    }
    live.#journal = journal;
    const warn = options.onWarning ?? (() => {});
    const simulation = live.simulation;
    // A replay that skips swaps the checkpoint's run made cannot match its hash.
    let checked = checkpoint === undefined || skip.fresh.length > 0 ||
      checkpoint.seq < skip.lastSkipSeq;
    let hashCheck: ReplayHashCheck["status"] | undefined;
    // Compares the decision hash once the replay stands where the checkpoint was taken.
    const check = () => {
      if (checked || checkpoint === undefined || simulation.nowNs !== checkpoint.nowNs) return;
      checked = true;
      const result = compareReplayHash(
        checkpoint,
        simulation.peekHash(),
        join(stateDir, "checkpoint.json"),
      );
      hashCheck = result.status;
      if (result.status !== "matched") warn(result.message);
    };
    try {
      await live.#replay(entries, checkpoint, check, warn, new Set([...skip.old, ...skip.fresh]));
      if (skip.fresh.length > 0) {
        await journal.recordSkip(skip, { seq: live.#seq + 1, atNs: simulation.nowNs });
        live.#seq++;
      }
      const skipped = new Set([...skip.old, ...skip.fresh]).size;
      live.resumed = {
        changes: entries.filter((entry) =>
          !skip.old.has(entry.seq) && !skip.fresh.includes(entry.seq)
        )
          .length,
        skipped,
        atNs: simulation.nowNs,
        hash: hashCheck ?? "unchecked",
      };
    } catch (error) {
      // Not a clean stop: this start still counts as unstable.
      journal.abandon();
      await live.close();
      throw error;
    }
    live.#replayed(entries, skip, hashCheck === "other-encoding");
    // Explicit options win over the saved clock, as logged mutations like any other.
    if (options.paused !== undefined && options.paused !== live.#clock.paused) {
      await (options.paused ? live.pause() : live.resume());
    }
    if (options.speed !== undefined && options.speed !== live.#clock.speed) {
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
    const simulation = this.simulation;
    let checked = checkpoint === undefined;
    let target = checkpoint?.nowNs ?? 0;
    for (const entry of entries) {
      if (checkpoint !== undefined && entry.seq > checkpoint.seq && !checked) {
        await simulation.run(checkpoint.nowNs);
        check();
        checked = true;
      }
      await simulation.run(entry.atNs);
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
    await simulation.run(target);
    check();
  }

  /** After a resume's replay: where the books stand (`rewrite`: the checkpoint is due again). */
  #replayed(entries: AuditEntry[], skip: SkippedSwaps, rewrite: boolean): void {
    this.#journal.replayed(
      entries,
      skip,
      { seq: this.#seq, nowNs: this.simulation.nowNs },
      rewrite,
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
      observe: options.observe,
      onIncident: (incident) => {
        options.onIncident?.(incident);
        if (built.live !== undefined) built.live.#feed.broadcast("incident", incident);
      },
    });
    built.live = new LiveKernel(simulation, setup, { ...options, dataDir });
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
      [this.#mutations.sourceDir, "<temp>"],
      [absolute(this.#journal.dir), "<state-dir>"],
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
    return this.#clock.paused;
  }

  /** Simulated seconds per wall-clock second (`Infinity`: as fast as possible). */
  get speed(): number {
    return this.#clock.speed;
  }

  /** Acknowledged mutations so far. */
  get mutations(): number {
    return this.#seq;
  }

  /** How many SSE clients are listening. */
  get subscribers(): number {
    return this.#feed.size;
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
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#journal.started();
    this.#clock.start({
      simulation: this.simulation,
      exclusive: (task) => this.exclusive(task),
      housekeeping: () => this.#housekeeping(),
      onWarning: this.#options.onWarning,
    });
  }

  /** Inside the queue: refresh the snapshot, send samples and news, checkpoint when due. */
  #housekeeping(): Promise<void> | void {
    const wallMs = performance.now();
    if (this.#snapshots.ageMs(wallMs) >= 50) this.#refresh();
    if (wallMs - this.#lastSampleMs >= (this.#options.sampleMs ?? 250)) {
      this.#lastSampleMs = wallMs;
      // Sampled with no subscriber too: a dashboard opened later starts with the history.
      this.#feed.broadcast("sample", this.#snapshots.sample(this.#view()));
    }
    if (this.simulation.ended && !this.#endAnnounced) {
      this.#endAnnounced = true;
      this.#refresh();
      this.#feed.broadcast("ended", { nowNs: this.simulation.nowNs });
    }
    return this.#journal.housekeeping(wallMs, this.#checkpointSource());
  }

  #checkpointSource(): CheckpointSource {
    const clock = this.#clock;
    return {
      seq: this.#seq,
      simulation: this.simulation,
      speed: encodeSpeed(clock.speed),
      paused: clock.paused,
    };
  }

  /** The clock and books as the state shows them. */
  #view(): StateContext {
    const clock = this.#clock;
    return {
      paused: clock.paused,
      speed: encodeSpeed(clock.speed),
      lagNs: clock.lagNs,
      mutations: this.#seq,
      stateDir: this.#journal.dir ?? null,
    };
  }

  /** The live state, as JSON text (a snapshot at most 50 ms old; no kernel access). */
  stateText(): string {
    return this.#snapshots.text;
  }

  /** The same snapshot as UTF-8 bytes, encoded once per refresh (the hot read of the API). */
  stateBytes(): Uint8Array<ArrayBuffer> {
    return this.#snapshots.bytes();
  }

  /** The live state (parsed from the snapshot). */
  state(): LiveState {
    return this.#snapshots.state();
  }

  #refresh(): void {
    this.#snapshots.refresh(this.#view());
  }

  /** Adds an SSE client; returns the function that removes it. */
  subscribe(subscriber: LiveSubscriber): () => void {
    const leave = this.#feed.subscribe(subscriber);
    subscriber.send("hello", { ...this.state(), history: this.#feed.history() });
    return leave;
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
      this.#journal.refuseIfBroken();
      const entry: AuditEntry = {
        seq: this.#seq + 1,
        atNs: this.simulation.nowNs,
        at: "",
        op: request.op,
        ...(request.target === undefined ? {} : { target: request.target }),
        ...(request.body === undefined ? {} : { body: request.body }),
      };
      const result = await this.#apply(entry, false);
      entry.at = new Date().toISOString();
      await this.#journal.append(entry);
      this.#seq = entry.seq;
      if (entry.op === "policy.swap") this.#journal.swapped(entry.seq);
      this.#refresh();
      this.#feed.broadcast("change", { seq: entry.seq, atNs: entry.atNs, op: entry.op, result });
      return result;
    });
  }

  /**
   * Applies one mutation to the kernel (live, or replayed from the log). Checks come first: a
   * mutation that throws changed nothing. Sets `entry.note` with what replay checks.
   */
  async #apply(entry: AuditEntry, replaying: boolean): Promise<unknown> {
    const simulation = this.simulation, clock = this.#clock, mutations = this.#mutations;
    const mutatesKernel = entry.op.startsWith("vm.") || entry.op === "policy.swap" ||
      entry.op === "sim.step";
    if (mutatesKernel && simulation.ended) {
      throw new ControlError(
        409,
        "ended",
        `The simulation ended at ${formatDuration(simulation.nowNs)}; it takes no more changes`,
      );
    }
    switch (entry.op) {
      case "vm.patch":
        mutations.patchVm(entry.target!, entry.body as VmPatchRequest);
        return this.#liveVm(entry.target!);
      case "vm.add": {
        const spec = validateVm(entry.body, this.#rawHost());
        mutations.addVm(spec);
        return this.#liveVm(spec.id);
      }
      case "vm.remove":
        return mutations.removeVm(entry.target!);
      case "policy.swap":
        return await mutations.swap(entry, replaying);
      case "replay.skip":
        // Written by a resume that broke a crash loop (never by a request): the swaps it names
        // are skipped by every later replay, so it changes nothing when met.
        if (!replaying) break;
        return entry.body;
      case "sim.pause":
        clock.paused = true;
        return this.#status();
      case "sim.resume":
        clock.paused = false;
        clock.reanchor(simulation.nowNs);
        clock.wake();
        return this.#status();
      case "sim.speed": {
        clock.speed = decodeSpeed((entry.body as SpeedRequest).speed)!;
        clock.reanchor(simulation.nowNs);
        return this.#status();
      }
      case "sim.step": {
        if (!clock.paused && !replaying) {
          throw new ControlError(409, "running", "Step needs a paused clock: pause it first");
        }
        const by = parseDuration((entry.body as StepRequest | undefined)?.by);
        let toNs = by !== undefined ? simulation.nowNs + by : simulation.nextEventNs();
        if (simulation.stopAtNs !== undefined) toNs = Math.min(toNs, simulation.stopAtNs);
        if (!Number.isFinite(toNs)) {
          throw new ControlError(409, "idle", "Nothing is left to happen: no event is queued");
        }
        entry.note = { toNs };
        if (!replaying) {
          // In slices, yielding between them, so reads are served during a long step.
          while (simulation.nowNs < toNs && !simulation.ended) {
            await simulation.run(
              Math.min(toNs, simulation.nowNs + Math.max(clock.chunkNs, 1e6)),
            );
            await new Promise((done) => setTimeout(done, 0));
          }
        }
        clock.reanchor(simulation.nowNs);
        return this.#status();
      }
    }
    throw new ControlError(400, "bad_request", `Unknown operation ${entry.op}`);
  }

  #status(): SimStatus {
    return {
      nowNs: this.simulation.nowNs,
      paused: this.#clock.paused,
      speed: encodeSpeed(this.#clock.speed),
      ended: this.simulation.ended,
    };
  }

  /** The host as the workload file gave it (JSON, durations as strings). */
  #rawHost(): unknown {
    return (this.setup.workload as { host?: unknown }).host;
  }

  #liveVm(id: string): LiveVm {
    this.#refresh();
    return this.state().vms.find((vm) => vm.id === id)!;
  }

  /**
   * Stops the clock and the loop, writes a final checkpoint, ends SSE streams and stops every
   * policy runtime. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await this.#clock.stop();
      await this.exclusive(async () => {
        this.#refresh();
        await this.#journal.stopCleanly(this.#checkpointSource());
      });
      this.#feed.closeAll();
      await this.simulation.close();
      this.#journal.close();
      await this.#mutations.close();
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

export { WorkloadError };
