/**
 * The `process` policy runtime: the policy runs in a child `deno run` with no permissions, a V8
 * heap cap and a private, empty module cache, and is killed with SIGKILL when it overruns a
 * deadline. This is the runtime that holds against hostile code.
 *
 * Transport: frames on the child's stdin and stdout (see {@linkcode PROCESS_BOOTSTRAP_JS}); the
 * child reads and writes synchronously. Once the policy has started, the kernel too waits for each
 * reply with a blocking read (on Linux, through a second handle on the child's pipes opened via
 * `/proc/<pid>/fd`), while a watchdog thread (`_watchdog.ts`) enforces the deadline and the memory
 * cap: a batch then costs two small syscalls and two context switches, and the kernel stays
 * synchronous, as with `none`. Where that is not possible (another OS, no permission to open
 * `/proc` or to kill, or `blockingReads: false`) batches go through the pipes' streams instead.
 *
 * What it protects against, and how:
 * - Endless loops and slow hooks: every exchange has a deadline, after which the child is killed
 *   with SIGKILL (kind `stall`). Unlike a Worker, a killed process stops using the CPU at once.
 * - Memory exhaustion: `--max-old-space-size` caps the child's heap; V8 then aborts the child
 *   only (kind `oom`, reason `heap`, recognised from the child's stderr). ArrayBuffers live
 *   outside that heap (a 64 MiB heap cap let a child fill 512 MiB of Float64Arrays), so the
 *   kernel (or its watchdog thread) also samples the child's resident memory every 100 ms (Linux
 *   `/proc`) and SIGKILLs it above `rssMiB` (kind `oom`, reason `rss`). The kernel's heap is
 *   untouched either way.
 * - Files, environment, network, subprocesses, FFI: the child has no permissions and
 *   `--no-prompt`, so every such call throws `NotCapable`. Signalling the kernel (`Deno.kill` of
 *   the parent's pid) needs `--allow-run`, which the child lacks; before the policy's code runs,
 *   the bootstrap also takes away `Deno.kill`, `Deno.exit`, signal and `unload` listeners and
 *   every way to start a thread (`Worker`, `node:worker_threads`), see `_policy_host.ts`.
 * - Outliving the kernel: the child SIGKILLs itself at the end of its stdin; and when the kernel
 *   dies (`kill -9`) while the policy spins or has listeners of its own, Linux SIGKILLs the child
 *   (started through `setpriv --pdeathsig KILL` where the kernel may run it), or else a watcher
 *   thread the child starts before the policy loads does so within ~100 ms.
 * - Burning CPU between batches: the child has nothing to do between batches; one that uses
 *   more than half a core over a second while idle is killed (kind `stall`, reason `idle-cpu`).
 * - Nondeterminism: `Math.random`, `crypto.getRandomValues` and `randomUUID` are seeded with
 *   the policy's seed, and the clocks (`Date`, `performance.now`, `Temporal.Now`) read the
 *   simulated time of the batch (`_determinism.ts`); the child runs with `TZ=UTC`.
 * - Fetching code: `--cached-only --no-remote --no-npm` and a private, empty `DENO_DIR` mean a
 *   dynamic `import("npm:…")`, `import("https:…")` or `import("jsr:…")` fails without touching the
 *   network or the kernel's module cache (with `--cached-only` alone a policy could still import
 *   any npm package already in the shared cache).
 * - Environment leaks: the child starts with an empty environment (plus `DENO_DIR`, `NO_COLOR`).
 * - Huge replies: the frame header is checked against `maxMessageBytes` before the payload is
 *   read; the child is killed (kind `invalid`, reason `message-too-large`).
 * - Breaking the framing: see {@linkcode PROCESS_BOOTSTRAP_JS}; anything that is not a frame ends
 *   the policy (kind `invalid`, reason `bad-frame`).
 *
 * - Output floods and terminal escapes: what the policy prints is capped per batch and per run,
 *   and stripped of terminal control sequences, as are incident messages (`protocol/text.ts`).
 *
 * What it does not protect against: CPU and memory the child uses within its deadline and caps;
 * a burst of off-heap memory faster than the 100 ms sampling (a cgroup would be exact, but needs
 * privileges); timing side channels.
 *
 * @module
 */

import { childExitFailure } from "./_child_exit.ts";
import { childDenoArgs, childEnv, trimCodeCache, writeChildFile } from "./_child_command.ts";
import { API_VERSION } from "../protocol/definition.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import type { StartMessage, StartResult } from "../protocol/definition.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import { sha256Hex } from "../bundle/sha256.ts";
import { encodeFrame, type Frame, FrameError, FrameReader } from "./_frames.ts";
import {
  checkStartResult,
  FRAME_BATCH,
  FRAME_FAIL,
  FRAME_LOAD,
  FRAME_LOG,
  FRAME_PART,
  FRAME_REPLY,
  FRAME_STARTED,
  PROCESS_BOOTSTRAP_JS,
} from "./_policy_host.ts";
import {
  createIdleCpuCheck,
  IDLE_CPU_LIMIT_MS,
  IDLE_CPU_WINDOW_MS,
  KILLED_BUSY,
  KILLED_DEADLINE,
  KILLED_NEVER,
  KILLED_RSS,
  newWatchdogWorker,
  processCpuMs,
  WATCH,
  WATCH_SLOTS,
} from "./_watchdog.ts";
import { OutputLimit } from "../protocol/text.ts";
import {
  type Isolation,
  PolicyFailure,
  type PolicyRuntime,
  type StreamedBatch,
} from "../protocol/runtime.ts";
import {
  type ResolvedSandboxOptions,
  resolveSandboxOptions,
  type SandboxOptions,
} from "./options.ts";

const STDERR_TAIL_CHARS = 16 * 1024;

/** The bootstrap files written so far in this process, by path. */
const bootstrapFiles = new Map<string, Promise<string>>();

/**
 * Writes the child's bootstrap script once into `cacheDir`, named by the hash of its source, and
 * returns its path. A file already there is reused only if its content is intact, so the framework
 * works the same from a checkout and as a remote module (where there is no file to point at).
 */
function ensureBootstrapFile(cacheDir: string): Promise<string> {
  const existing = bootstrapFiles.get(cacheDir);
  if (existing !== undefined) return existing;
  const writing = (async () => {
    const dir = `${cacheDir}/sandbox`;
    const path = `${dir}/bootstrap-${(await sha256Hex(PROCESS_BOOTSTRAP_JS)).slice(0, 16)}.js`;
    return await writeChildFile(path, PROCESS_BOOTSTRAP_JS, dir);
  })();
  bootstrapFiles.set(cacheDir, writing);
  writing.catch(() => bootstrapFiles.delete(cacheDir));
  return writing;
}

/** util-linux's `setpriv`, which can ask Linux to SIGKILL a process when its parent dies. */
const SETPRIV = "/usr/bin/setpriv";
let deathSignalProbe: Promise<boolean> | undefined;

/**
 * Whether children can be started through `setpriv --pdeathsig KILL`: Linux then SIGKILLs the
 * child the moment the kernel's thread that started it ends, whatever runs in the child. Tried
 * once per process (the kernel may run it, and it works here); otherwise the child watches its
 * parent from a thread of its own (see `PROCESS_BOOTSTRAP_JS`).
 */
function canSignalParentDeath(): Promise<boolean> {
  deathSignalProbe ??= (async () => {
    if (Deno.build.os !== "linux") return false;
    try {
      if (Deno.permissions.querySync({ name: "run", command: SETPRIV }).state !== "granted") {
        return false;
      }
      const probe = await new Deno.Command(SETPRIV, {
        args: ["--pdeathsig", "KILL", "--", SETPRIV, "--version"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      return probe.success;
    } catch {
      return false;
    }
  })();
  return deathSignalProbe;
}

/** Frames up to this size are written synchronously: a pipe always holds one page. */
const SYNC_WRITE_MAX_BYTES = 4096;

/**
 * Opens a second handle on one of the child's pipes through Linux's `/proc/<pid>/fd` (stdin for
 * writing, stdout for reading), when this process may (without prompting); undefined otherwise.
 */
function openPipe(pid: number, fd: 0 | 1): Deno.FsFile | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const path = `/proc/${pid}/fd/${fd}`;
  const name = fd === 0 ? "write" : "read";
  try {
    if (Deno.permissions.querySync({ name, path }).state !== "granted") return undefined;
    return Deno.openSync(path, fd === 0 ? { write: true } : { read: true });
  } catch {
    return undefined;
  }
}

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** What a frame from the child means: a reply, or a failure (and whether the child must go). */
type Outcome = Reply | { failure: PolicyFailure; kill: boolean };

/** Runs a policy bundle in a permission-less child process. */
export class ProcessRuntime implements PolicyRuntime {
  /** Always `process`. */
  readonly isolation: Isolation = "process";
  #bundle: PolicyBundle;
  #options: ResolvedSandboxOptions;
  #child: Deno.ChildProcess | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The child's stdin opened a second time, for synchronous writes (Linux). */
  #stdin: Deno.FsFile | undefined;
  /** The child's stdout opened a second time, for blocking reads (see `blockingReads`). */
  #stdout: Deno.FsFile | undefined;
  #reader: FrameReader | undefined;
  #stderrDone: Promise<void> = Promise.resolve();
  #stderrTail = "";
  #seq = 0;
  #started = false;
  #busy = false;
  #failure: PolicyFailure | undefined;
  #closing: Promise<void> | undefined;
  #memoryWatch: ReturnType<typeof setInterval> | undefined;
  /** The deadline timer of asynchronous exchanges, armed lazily (see `#armDeadline`). */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #deadlineFiresAt = Infinity;
  /** When the exchange in flight began (`performance.now()`), or 0; its limit, and what it is. */
  #waitingSince = 0;
  #waitingLimitMs = 0;
  #waitingFor = "";
  /** With blocking reads: the watchdog thread, the array shared with it, and its time origin. */
  #watchdog: Worker | undefined;
  #control: Int32Array | undefined;
  #controlBase = 0;
  /** Where policy output goes, capped. */
  #output: OutputLimit;
  /** Since when the child has had nothing to do (`performance.now()`), or 0 (asynchronous path). */
  #idleSince = 0;

  /**
   * Prepares the runtime; no process is spawned until {@linkcode ProcessRuntime.start}.
   *
   * @param bundle The policy bundle to host.
   * @param options Heap cap, deadlines, message cap, log sink, cache directory.
   */
  constructor(bundle: PolicyBundle, options: SandboxOptions = {}) {
    this.#bundle = bundle;
    this.#options = resolveSandboxOptions(options);
    this.#output = new OutputLimit(
      this.#options.log,
      this.#options.maxLogCharsPerBatch,
      this.#options.maxLogCharsPerRun,
    );
  }

  /** The child's process id while it runs (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether batches are exchanged with blocking reads (see `SandboxOptions.blockingReads`). */
  get blocking(): boolean {
    return this.#control !== undefined;
  }

  /**
   * Spawns the child, loads the bundle in it and starts the policy.
   *
   * @throws {PolicyFailure} `invalid` (not a policy, another protocol version), `error` (the
   *   module or `start` threw), `stall` (over `initDeadlineMs`), `crash` or `oom`.
   */
  async start(message: StartMessage): Promise<StartResult> {
    if (this.#started || this.#closing !== undefined) {
      throw new PolicyFailure("error", "restarted", "A policy runtime can be started only once");
    }
    this.#started = true;
    let bootstrap: string;
    try {
      bootstrap = await ensureBootstrapFile(this.#options.cacheDir);
    } catch (error) {
      throw this.#fail(
        new PolicyFailure("crash", "spawn", `Cannot write the sandbox bootstrap: ${error}`),
      );
    }
    const deathSignal = await canSignalParentDeath();
    try {
      this.#spawn(bootstrap, deathSignal);
    } catch (error) {
      throw this.#fail(new PolicyFailure("crash", "spawn", `Cannot start the sandbox: ${error}`));
    }
    const seq = ++this.#seq;
    const load = JSON.stringify({
      code: this.#bundle.code,
      start: message,
      apiVersion: API_VERSION,
    });
    const frame = await this.#exchange(
      encodeFrame(FRAME_LOAD, seq, null, 0, load),
      seq,
      this.#options.initDeadlineMs,
      "load and start",
    );
    if (frame.type === FRAME_FAIL) throw await this.#kill(this.#failureFrom(frame));
    if (frame.type !== FRAME_STARTED) throw await this.#kill(this.#badFrame(frame));
    let result: unknown;
    try {
      result = JSON.parse(frame.json);
    } catch {
      // Not JSON: the policy broke its own sandbox's encoder (JSON.stringify, for one).
    }
    try {
      result = checkStartResult(result);
    } catch (error) {
      throw await this.#kill(error as PolicyFailure);
    }
    await this.#goBlocking();
    return result as StartResult;
  }

  /**
   * Sends one batch to the child and returns its reply: synchronously with blocking reads, else
   * as a promise. A failure that ends the child comes as a rejected promise once it is reaped.
   *
   * @throws {PolicyFailure} `error` (a hook threw; the policy stays loaded), `invalid` (a bad or
   *   oversized reply), `stall` (over `batchDeadlineMs`), `crash` or `oom`.
   */
  handle(batch: Batch): Reply | Promise<Reply> {
    if (this.#failure !== undefined) throw this.#failure;
    if (!this.#started || this.#child === undefined) {
      throw new PolicyFailure("error", "not-started", "The policy was not started");
    }
    if (this.#busy) throw new Error("A batch is already in flight; send one batch at a time");
    const seq = ++this.#seq;
    this.#output.nextBatch();
    const bytes = this.#frameOfRest(FRAME_BATCH, seq, batch);
    if (this.#control !== undefined) return this.#handleBlocking(bytes, seq);
    return this.#exchange(bytes, seq, this.#options.batchDeadlineMs, "batch")
      .then((frame) => this.#settle(this.#outcomeOf(frame)));
  }

  /**
   * Writes the calls of `batch` from `batch.streamed` on as a part (notifications only), with
   * blocking reads only: the child handles them while the kernel goes on, so the batch's own round
   * trip carries little. A child that stops reading is killed by the watchdog's deadline; anything
   * that goes wrong shows in the batch's reply.
   */
  stream(batch: StreamedBatch): void {
    if (this.#control === undefined || this.#failure !== undefined || this.#busy) return;
    if (batch.length <= batch.streamed) return;
    this.#writeBlocking(this.#frameOfRest(FRAME_PART, this.#seq, batch), this.#seq);
    Atomics.store(this.#control, WATCH.DUE, 0);
    batch.streamed = batch.length;
    batch.streamedObjs = batch.objs.length;
  }

  /** A frame of the calls and objects of `batch` that `stream` did not send yet. */
  #frameOfRest(type: number, seq: number, batch: Batch): Uint8Array {
    const { streamed: from = 0, streamedObjs: fromObj = 0 } = batch as Partial<StreamedBatch>;
    const objs = batch.objs.length <= fromObj ? "" : JSON.stringify(batch.objs.slice(fromObj));
    const nums = from === 0 ? batch.nums : batch.nums.subarray(from);
    return encodeFrame(type, seq, nums, batch.length - from, objs);
  }

  /**
   * Writes a frame with blocking writes, the batch deadline armed first (and left armed): a child
   * that stops reading is killed and the write returns. A failed write is seen by the next read,
   * as the end of the child's output.
   */
  #writeBlocking(bytes: Uint8Array, seq: number): void {
    const control = this.#control!;
    Atomics.store(control, WATCH.IDLE_SINCE, 0);
    Atomics.store(control, WATCH.SEQ, seq);
    Atomics.store(
      control,
      WATCH.DUE,
      Date.now() - this.#controlBase + this.#options.batchDeadlineMs,
    );
    try {
      writeAllSync(this.#stdin!, bytes);
    } catch {
      // The child is gone: the read sees the end of its output and the failure says why.
    }
  }

  /** Kills the child (SIGKILL) and waits until it and its pipes are gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#failure ??= new PolicyFailure("unregistered", "closed", "The policy runtime is closed");
      await this.#reap();
    })();
    return this.#closing;
  }

  /**
   * Starts the child; with `deathSignal`, through `setpriv --pdeathsig KILL` (the child then
   * needs no watcher thread of its own, which costs it a Worker's start-up).
   */
  #spawn(bootstrap: string, deathSignal: boolean): void {
    const dir = bootstrap.slice(0, bootstrap.lastIndexOf("/"));
    trimCodeCache(dir);
    const deno = [
      Deno.execPath(),
      ...childDenoArgs(this.#options.heapMiB),
      bootstrap,
      String(this.#options.maxMessageBytes),
      String(this.#options.maxLogCharsPerBatch),
      deathSignal ? "pdeathsig" : "watch",
    ];
    const [program, ...args] = deathSignal ? [SETPRIV, "--pdeathsig", "KILL", "--", ...deno] : deno;
    const command = new Deno.Command(program!, {
      args,
      clearEnv: true,
      env: childEnv(dir),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const child = command.spawn();
    this.#child = child;
    this.#watchMemory(child.pid);
    this.#writer = child.stdin.getWriter();
    this.#stdin = openPipe(child.pid, 0);
    const maxReply = this.#options.maxMessageBytes;
    // Start results, failure reports and log chunks are small whatever the reply cap.
    const maxOther = Math.max(maxReply, 1 << 20);
    this.#reader = new FrameReader(
      child.stdout.getReader({ mode: "byob" }),
      (type) => type === FRAME_REPLY ? maxReply : maxOther,
    );
    this.#stderrDone = this.#pumpStderr(child.stderr);
  }

  /**
   * Switches to blocking reads once the policy has started, if allowed and possible: a second
   * handle on the child's stdout, and a watchdog thread to enforce deadlines and the memory cap
   * while the kernel's thread is blocked (see `_watchdog.ts`). Otherwise batches stay
   * asynchronous.
   */
  async #goBlocking(): Promise<void> {
    const child = this.#child!;
    if (!this.#options.blockingReads || this.#stdin === undefined) return;
    if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return;
    const stdout = openPipe(child.pid, 1);
    if (stdout === undefined) return;
    let watchdog: Worker;
    try {
      watchdog = newWatchdogWorker();
    } catch {
      stdout.close();
      return;
    }
    const control = new Int32Array(new SharedArrayBuffer(WATCH_SLOTS * 4));
    const base = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ready = await new Promise<boolean>((resolve) => {
      watchdog.onmessage = () => resolve(true);
      watchdog.onerror = (event) => {
        event.preventDefault();
        resolve(false);
      };
      timer = setTimeout(() => resolve(false), this.#options.initDeadlineMs);
      watchdog.postMessage({
        control,
        base,
        pid: child.pid,
        limitKiB: this.#options.rssMiB * 1024,
      });
    });
    clearTimeout(timer);
    if (!ready || this.#failure !== undefined) {
      watchdog.terminate();
      stdout.close();
      return;
    }
    watchdog.onmessage = null;
    Atomics.store(control, WATCH.IDLE_SINCE, Math.max(1, Date.now() - base));
    // The watchdog samples the child's memory and CPU time from now on.
    clearInterval(this.#memoryWatch);
    this.#watchdog = watchdog;
    this.#control = control;
    this.#controlBase = base;
    this.#stdout = stdout;
  }

  /**
   * One batch with blocking reads: the deadline goes to the watchdog first, so that a child that
   * stops reading or answering is killed and the blocked write or read returns.
   */
  #handleBlocking(bytes: Uint8Array, seq: number): Reply | Promise<Reply> {
    const control = this.#control!;
    let frame: Frame | null;
    try {
      this.#writeBlocking(bytes, seq);
      frame = this.#readBlocking();
    } catch (error) {
      Atomics.store(control, WATCH.DUE, 0);
      const killed = this.#killedByWatchdog();
      if (killed !== undefined) return this.#settle({ failure: killed, kill: true });
      return this.#frameErrorFailure(error).then((failure) =>
        this.#settle({ failure, kill: true })
      );
    }
    Atomics.store(control, WATCH.DUE, 0);
    Atomics.store(control, WATCH.IDLE_SINCE, Math.max(1, Date.now() - this.#controlBase));
    const killed = this.#killedByWatchdog();
    if (killed !== undefined) return this.#settle({ failure: killed, kill: true });
    if (frame === null) {
      return this.#deathFailure().then((failure) => this.#settle({ failure, kill: true }));
    }
    if (frame.seq !== seq) return this.#settle({ failure: this.#badFrame(frame), kill: true });
    return this.#settle(this.#outcomeOf(frame));
  }

  /** Reads the next frame that is not a log frame, with blocking reads. */
  #readBlocking(): Frame | null {
    for (;;) {
      const frame = this.#reader!.readSync(this.#stdout!);
      if (frame === null || frame.type !== FRAME_LOG) return frame;
      this.#log(frame.json);
    }
  }

  /** The failure the watchdog caused, if it killed the child. */
  #killedByWatchdog(): PolicyFailure | undefined {
    const reason = Atomics.load(this.#control!, WATCH.KILLED);
    if (reason === KILLED_DEADLINE) {
      return this.#fail(this.#stall("batch", this.#options.batchDeadlineMs));
    }
    if (reason === KILLED_RSS) {
      return this.#fail(this.#overMemory(Atomics.load(this.#control!, WATCH.RSS_KIB)));
    }
    if (reason === KILLED_BUSY) {
      return this.#fail(this.#busyWhileIdle(Atomics.load(this.#control!, WATCH.IDLE_CPU_MS)));
    }
    return undefined;
  }

  /**
   * Returns a reply, throws a failure that leaves the policy loaded, or kills the child and
   * returns a promise rejected with the failure once the child is reaped.
   */
  #settle(outcome: Outcome): Reply | Promise<never> {
    if (!("failure" in outcome)) return outcome;
    if (!outcome.kill) throw outcome.failure;
    return this.#kill(outcome.failure).then((failure) => {
      throw failure;
    });
  }

  /** What a frame answering a batch means. */
  #outcomeOf(frame: Frame): Outcome {
    if (frame.type === FRAME_FAIL) {
      const failure = this.#failureFrom(frame);
      return { failure, kill: failure.reason === "message-too-large" };
    }
    if (frame.type !== FRAME_REPLY) return { failure: this.#badFrame(frame), kill: true };
    let objs: unknown = [];
    try {
      if (frame.json !== "") objs = JSON.parse(frame.json);
    } catch {
      // Not JSON: the policy broke its own sandbox's encoder (JSON.stringify, for one).
    }
    if (!Array.isArray(objs)) return { failure: this.#badFrame(frame), kill: true };
    return { nums: frame.nums, length: frame.nums.length, objs };
  }

  /** Passes policy output to the log sink, cleaned and capped. */
  #log(text: string): void {
    this.#output.write(text);
  }

  /**
   * Samples the child's resident memory every 100 ms and kills it above `rssMiB`, and its CPU
   * time while it has nothing to do (see `createIdleCpuCheck`). Between batches the child is
   * blocked reading stdin, so its memory only grows while the kernel waits for it. (With
   * blocking reads the watchdog thread samples instead.)
   */
  #watchMemory(pid: number): void {
    const limitKiB = this.#options.rssMiB * 1024;
    const checkIdleCpu = createIdleCpuCheck(IDLE_CPU_WINDOW_MS, IDLE_CPU_LIMIT_MS);
    const timer = setInterval(() => {
      let status: string;
      try {
        status = Deno.readTextFileSync(`/proc/${pid}/status`);
      } catch {
        // No /proc (not Linux), or the child is gone: nothing to sample.
        clearInterval(timer);
        return;
      }
      const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      const idleSince = this.#idleSince;
      const busyMs = checkIdleCpu(
        performance.now(),
        idleSince,
        idleSince > 0 ? processCpuMs(pid) : -1,
      );
      if (rssKiB <= limitKiB && busyMs === 0) return;
      clearInterval(timer);
      this.#fail(rssKiB > limitKiB ? this.#overMemory(rssKiB) : this.#busyWhileIdle(busyMs));
      void this.#reap();
    }, 100);
    Deno.unrefTimer(timer);
    this.#memoryWatch = timer;
  }

  #busyWhileIdle(cpuMs: number): PolicyFailure {
    return new PolicyFailure(
      "stall",
      "idle-cpu",
      `Policy process used ${cpuMs} ms of CPU in ${IDLE_CPU_WINDOW_MS} ms while it had no batch ` +
        `to handle; the process was killed`,
    );
  }

  #overMemory(rssKiB: number): PolicyFailure {
    return new PolicyFailure(
      "oom",
      "rss",
      `Policy process used ${
        Math.round(rssKiB / 1024)
      } MiB of memory; the limit is ${this.#options.rssMiB} MiB`,
    );
  }

  #stall(what: string, deadlineMs: number): PolicyFailure {
    return new PolicyFailure(
      "stall",
      "deadline",
      `Policy did not finish its ${what} within ${deadlineMs} ms; the process was killed`,
    );
  }

  async #pumpStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
      this.#log(text);
    }
  }

  /**
   * Sends a frame and waits for the answer with a deadline (before blocking reads, and without
   * them). The deadline costs no timer per exchange: one lazily armed timer checks whichever
   * exchange is in flight when it fires, and kills the child when that one is overdue; the read
   * then ends and reports the stall.
   */
  async #exchange(
    bytes: Uint8Array,
    seq: number,
    deadlineMs: number,
    what: string,
  ): Promise<Frame> {
    const reader = this.#reader!;
    this.#busy = true;
    this.#idleSince = 0;
    this.#send(bytes);
    this.#waitingSince = performance.now();
    this.#waitingLimitMs = deadlineMs;
    this.#waitingFor = what;
    this.#armDeadline();
    try {
      let outcome: Frame | null;
      try {
        outcome = await reader.read();
        while (outcome !== null && outcome.type === FRAME_LOG) {
          this.#log(outcome.json);
          outcome = await reader.read();
        }
      } catch (error) {
        if (this.#failure !== undefined) throw await this.#kill(this.#failure);
        throw await this.#kill(await this.#frameErrorFailure(error));
      }
      // Killed meanwhile (deadline, memory): that is the story, whatever the read returned.
      if (this.#failure !== undefined) throw await this.#kill(this.#failure);
      if (outcome === null) throw await this.#kill(await this.#deathFailure());
      if (outcome.seq !== seq) throw await this.#kill(this.#badFrame(outcome));
      return outcome;
    } finally {
      this.#waitingSince = 0;
      this.#idleSince = performance.now();
      this.#busy = false;
    }
  }

  /** The failure behind an error reading frames: the child's death if it died, else the error. */
  async #frameErrorFailure(error: unknown): Promise<PolicyFailure> {
    if (error instanceof FrameError) {
      if (error.reason === "bad-frame" && await this.#exited()) return await this.#deathFailure();
      return new PolicyFailure("invalid", error.reason, error.message);
    }
    return new PolicyFailure("crash", "transport", String(error));
  }

  /**
   * Writes a frame to the child. Small frames (nearly every batch) are written synchronously
   * through a second handle on the child's stdin: the pipe is empty (the child read the last
   * frame before answering it) and holds at least one page, so the write cannot block. Larger
   * ones go through the stream, which does not block the kernel if the child stops reading.
   */
  #send(bytes: Uint8Array): void {
    if (this.#stdin !== undefined && bytes.length <= SYNC_WRITE_MAX_BYTES) {
      try {
        writeAllSync(this.#stdin, bytes);
      } catch {
        // The child is gone: the read side sees the end of the stream and reports why.
      }
      return;
    }
    // A write to a dead child fails; the read side then sees the end of the stream and reports why.
    this.#writer!.write(bytes).catch(() => {});
  }

  /** Makes sure the deadline timer fires by the end of the exchange in flight. */
  #armDeadline(): void {
    const due = this.#waitingSince + this.#waitingLimitMs;
    if (this.#deadlineFiresAt <= due) return;
    clearTimeout(this.#deadline);
    this.#deadlineFiresAt = due;
    this.#deadline = setTimeout(() => this.#checkDeadline(), Math.max(0, due - performance.now()));
    Deno.unrefTimer(this.#deadline);
  }

  #checkDeadline(): void {
    this.#deadline = undefined;
    this.#deadlineFiresAt = Infinity;
    // Nothing in flight: the next exchange arms the timer again.
    if (this.#waitingSince === 0) return;
    if (performance.now() < this.#waitingSince + this.#waitingLimitMs) return this.#armDeadline();
    this.#fail(this.#stall(this.#waitingFor, this.#waitingLimitMs));
    void this.#reap();
  }

  /** Whether the child has exited (waits a moment for a dying child to be reaped). */
  async #exited(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      this.#child!.status.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 200)),
    ]);
    clearTimeout(timer);
    return outcome;
  }

  /** Explains why the child ended on its own, from its exit status and stderr. */
  async #deathFailure(): Promise<PolicyFailure> {
    const status = await this.#child!.status;
    await this.#stderrDone;
    return childExitFailure(status, this.#stderrTail, this.#options.heapMiB);
  }

  #failureFrom(frame: Frame): PolicyFailure {
    let parsed: {
      kind?: unknown;
      reason?: unknown;
      message?: unknown;
      call?: unknown;
      stack?: unknown;
    } = {};
    try {
      parsed = JSON.parse(frame.json);
    } catch {
      return this.#badFrame(frame);
    }
    // The child may only report what it can know: a throw or a bad reply.
    const kind = parsed.kind === "error" ? "error" : "invalid";
    return new PolicyFailure(kind, String(parsed.reason), String(parsed.message))
      .at(parsed.call, parsed.stack);
  }

  #badFrame(frame: Frame): PolicyFailure {
    return new PolicyFailure(
      "invalid",
      "bad-frame",
      `The policy process sent an unexpected frame (type ${frame.type}, seq ${frame.seq})`,
    );
  }

  #fail(failure: PolicyFailure): PolicyFailure {
    this.#failure ??= failure;
    return failure;
  }

  /**
   * Records `failure`, kills the child and waits for it; returns the failure recorded first (a
   * deadline or the memory cap, if one ended the child before this failure was seen).
   */
  async #kill(failure: PolicyFailure): Promise<PolicyFailure> {
    this.#fail(failure);
    await this.#reap();
    return this.#failure!;
  }

  /** SIGKILLs the child if it still runs, then waits for its exit and releases its pipes. */
  async #reap(): Promise<void> {
    clearInterval(this.#memoryWatch);
    clearTimeout(this.#deadline);
    this.#deadlineFiresAt = Infinity;
    // The child's pid is free once it is reaped: the watchdog must not kill it after that.
    if (this.#control !== undefined) {
      Atomics.compareExchange(this.#control, WATCH.KILLED, 0, KILLED_NEVER);
    }
    this.#watchdog?.terminate();
    this.#watchdog = undefined;
    for (const file of [this.#stdin, this.#stdout]) {
      try {
        file?.close();
      } catch {
        // Already closed.
      }
    }
    this.#stdin = this.#stdout = undefined;
    const child = this.#child;
    if (child === undefined) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already exited.
    }
    await child.status;
    await this.#stderrDone;
    await this.#reader?.cancel();
    this.#reader = undefined;
    if (this.#writer !== undefined) {
      const writer = this.#writer;
      this.#writer = undefined;
      await writer.close().catch(() => {});
    }
  }
}
