/**
 * The `process` sandbox in replay mode: the kernel runs beside the policy inside the sandbox, and
 * the trusted kernel here replays and checks every answer.
 *
 * One permission-less child per run (the same boundary as the per-batch `process` runtime, see
 * `process.ts`: no permissions, `--cached-only --no-remote --no-npm`, an empty environment, heap
 * and memory caps, SIGKILL) runs the kernel bundle (`core/bundle/kernel.ts`) as its main module. It is
 * sent the workload, the simulation's options, the texts of the trace files the kernel read and
 * the bundles of the sandboxed policies, and runs the whole simulation with its policies called
 * in-process, as `--isolation none` does, streaming each answer of a sandboxed policy, in the
 * order its kernel asked, to this kernel (`_kernel_child.ts`, `_replay_codec.ts`).
 *
 * Here the kernel runs as always with a {@linkcode ReplayRuntime} in each sandboxed policy's
 * place: each batch's answer is the next record of the child's stream, checked against the batch
 * (its domain, length and fingerprint: a record that does not fit is an `invalid` incident, reason
 * `diverged`), then validated by the domain like any policy's answer. Nothing else is read from
 * the child: no report, no state. A child that tampers with its own copy of the kernel can only
 * make the decisions a policy could make, or get caught diverging.
 *
 * Failures keep their meaning and their instant: a throw or an invalid answer is a record at the
 * batch where it happened (the child's kernel ejects the policy there too, and goes on with the
 * fallback, so that other sandboxed domains keep their stream); a stall (no record within the
 * deadline while the kernel waits), running out of memory or a crash end the stream at the batch
 * being waited for. The child's stream is written by a thread of its own within 1 to 4 ms,
 * so what was answered before a hook spins reaches the kernel. Policies of several domains share
 * the child: when a failure ends it, the others lose it too (kind `crash`, reason `shared-child`,
 * at their next batch). `--restart` restarts a policy in the child when the child lives on (a throw,
 * an invalid answer), else in a per-batch sandbox of its own (`process-rpc`).
 *
 * @module
 */

import { childExitFailure } from "./_child_exit.ts";
import { serialize } from "node:v8";
import type { Batch, Reply } from "../protocol/batch.ts";
import type { Domain, StartMessage, StartResult } from "../protocol/definition.ts";
import type { SimulateOptions } from "../simulation/mod.ts";
import type { Workload } from "../workload/schema.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import type { ReplayRun } from "./_kernel_child.ts";
import { discardChild, KERNEL_HEAP_MIB, spawnKernelChild, takePrelaunched } from "./prelaunch.ts";
import { type ResolvedSandboxOptions, resolveSandboxOptions } from "./options.ts";
import { checkStartResult } from "./_policy_host.ts";
import { OutputLimit } from "../protocol/text.ts";
import {
  batchFingerprint,
  type DecodedRecord,
  DOMAIN_INDEX,
  NEED_MORE,
  RECORD,
  RecordReader,
  StreamError,
} from "./_replay_codec.ts";
import { type Isolation, PolicyFailure, type PolicyRuntime } from "../protocol/runtime.ts";
import {
  KILLED_DEADLINE,
  KILLED_NEVER,
  KILLED_RSS,
  newWatchdogWorker,
  WATCH,
  WATCH_SLOTS,
} from "./_watchdog.ts";

export { prelaunch } from "./prelaunch.ts";

const DOMAINS: readonly Domain[] = ["cpu", "memory", "io", "placement"];
const KIND_NAMES = [
  "",
  "answer",
  "failure",
  "start",
  "start failure",
  "log",
  "end",
  "error",
  "load",
];
/**
 * How long the child may take to start and build its copy of the simulation (trusted code: a
 * generous bound for loaded machines), besides twice what this kernel took to get there.
 */
const KERNEL_START_MS = 60_000;
/** How long heartbeats may keep the kernel waiting for one record. */
const KERNEL_WAIT_MS = 60_000;
/** How many times a child that ran out of heap before any policy code ran is given twice as much. */
const MAX_RELAUNCHES = 3;
const STDERR_TAIL_CHARS = 16 * 1024;
const MIB = 1 << 20;
const EMPTY: unknown[] = [];

/** A sandboxed policy of a replayed run, seen from the kernel: its answers come from the child. */
export class ReplayRuntime implements PolicyRuntime {
  /** Always `process`. */
  readonly isolation: Isolation = "process";
  /** The domain it schedules. */
  readonly domain: Domain;
  /** The domain's index in the stream's tags. */
  readonly index: number;
  /** The answer handed to the kernel, reused from batch to batch. */
  readonly reply: Reply & { nums: Float64Array } = {
    nums: new Float64Array(64),
    length: 0,
    objs: EMPTY,
  };
  /** What the policy prints, capped per batch and per run (as a per-batch sandbox's is). */
  readonly output: OutputLimit;
  #session: ReplaySession;
  #closed = false;

  /**
   * Use {@linkcode ReplaySession.runtime}.
   *
   * @ignore
   */
  constructor(session: ReplaySession, domain: Domain, output: OutputLimit) {
    this.#session = session;
    this.domain = domain;
    this.index = DOMAIN_INDEX[domain];
    this.output = output;
  }

  /** Starts the child if needed and reads the policy's start from its stream. */
  start(message: StartMessage): Promise<StartResult> {
    return this.#session.started(this, message);
  }

  /**
   * The policy's answer to `batch`, read from the child's stream: synchronously when it is there
   * already or with blocking reads, else as a promise.
   *
   * @throws {PolicyFailure} As the policy failed (`error`, `invalid`), the child's failure
   *   (`stall`, `oom`, `crash`), or `invalid`/`diverged` when the answer is not for this batch.
   */
  handle(batch: Batch): Reply | Promise<Reply> {
    return this.#session.answer(this, batch);
  }

  /** Lets go of the child (killed once no policy needs it). Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#session.release(this);
  }
}

/**
 * One replayed run's sandbox: its child process, the stream of answers, and the runtimes reading
 * it. Made by `createSimulation` unless `replay` is false (the live server).
 */
export class ReplaySession {
  #workload: Workload;
  #options: SimulateOptions;
  #sandbox: ResolvedSandboxOptions;
  #bundles: Partial<Record<Domain, PolicyBundle>> = {};
  #made: Partial<Record<Domain, number>> = {};
  /**
   * What the child is sent after the run's header, in the order its copy of the simulation asks
   * (its build is this one's): each domain's policy as it is loaded, each trace as it is read.
   */
  #messages: Uint8Array[] = [];
  #headerBytes: Uint8Array | undefined;
  /** The child's stdin while the run is being sent, and the last write on it. */
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #written: Promise<boolean> = Promise.resolve(true);
  #open = new Set<ReplayRuntime>();
  #created = performance.now();
  /** The child, launched as soon as a policy is known to need it, and its heap cap. */
  #launching: Promise<void> | undefined;
  #heapCapMiB = 0;
  /** The run sent to the child (at the first start). */
  #sending: Promise<void> | undefined;
  #child: Deno.ChildProcess | undefined;
  #reader: RecordReader;
  /** The child's stdout opened a second time, for blocking reads (Linux). */
  #stdout: Deno.FsFile | undefined;
  #byob: ReadableStreamBYOBReader | undefined;
  #watchdog: Worker | undefined;
  #control: Int32Array | undefined;
  #controlBase = 0;
  #seq = 0;
  #memoryWatch: ReturnType<typeof setInterval> | undefined;
  #stderrTail = "";
  #stderrDone: Promise<void> = Promise.resolve();
  /** Why the child was killed, when this process killed it (deadline, memory). */
  #killed: PolicyFailure | undefined;
  /** The failure that ended the stream, and the domain it belongs to. */
  #failure: { failure: PolicyFailure; domain: Domain } | undefined;
  #closing: Promise<void> | undefined;
  #scratch = { nums: new Float64Array(64) };
  /** What the child itself prints (V8's out-of-memory report), capped as a policy's output. */
  #output: OutputLimit;

  /**
   * @param workload The validated workload (its seed applied).
   * @param options The simulation's options: the data ones are sent to the child.
   */
  constructor(workload: Workload, options: SimulateOptions) {
    this.#workload = workload;
    this.#options = options;
    this.#sandbox = resolveSandboxOptions(options.sandbox);
    this.#reader = new RecordReader(this.#sandbox.maxMessageBytes);
    const { log, maxLogCharsPerBatch, maxLogCharsPerRun } = this.#sandbox;
    this.#output = new OutputLimit(log, maxLogCharsPerBatch, maxLogCharsPerRun);
  }

  /** Wraps a trace reader so that the texts it reads are sent to the child too. */
  recording(read: (path: string) => string): (path: string) => string {
    const sent = new Set<string>();
    return (path) => {
      const text = read(path);
      // Once per file: the child keeps what it was sent, as this kernel reads.
      if (this.#sending === undefined && !sent.has(path)) {
        sent.add(path);
        this.#post({ text: { path, text } });
      }
      return text;
    };
  }

  /**
   * Tells the child which policy a domain has, as the kernel loads it: the bundle of a sandboxed
   * one, none for a built-in it runs in-process (a restart's is known already).
   */
  loaded(domain: Domain, runtime: PolicyRuntime): void {
    if (this.#sending !== undefined) return;
    const code = runtime instanceof ReplayRuntime ? this.#bundles[domain]!.code : null;
    this.#post({ policy: { domain, code } });
  }

  /** Queues a message for the child, and writes it at once if the child is there. */
  #post(message: ReplayMessage): void {
    const bytes = frame(serialize(message));
    this.#messages.push(bytes);
    this.#write(bytes);
  }

  /** Writes to the child's stdin without waiting (the kernel is building meanwhile). */
  #write(bytes: Uint8Array): void {
    const stdin = this.#stdin;
    if (stdin === undefined) return;
    this.#written = this.#written.then(
      (ok) => ok && stdin.write(bytes).then(() => true, () => false),
    );
  }

  /**
   * The runtime of a sandboxed policy: a {@linkcode ReplayRuntime} for the run's first policies,
   * and for a restart while the child lives; else (the child is gone, the policy is new to it, or
   * the kernel cannot be bundled, as when hyperhook runs from a remote URL) a per-batch sandbox of
   * its own.
   */
  async runtime(domain: Domain, bundle: PolicyBundle): Promise<PolicyRuntime> {
    this.prepare();
    try {
      await this.#launching;
    } catch {
      return await perBatch(bundle, this.#options);
    }
    const known = this.#bundles[domain];
    const made = this.#made[domain] ?? 0;
    const fresh = this.#sending === undefined && this.#closing === undefined;
    const restart = known?.sha256 === bundle.sha256 && this.#failure === undefined &&
      this.#closing === undefined && made - 1 < (this.#options.restarts ?? 0);
    if (!fresh && !restart) return await perBatch(bundle, this.#options);
    this.#bundles[domain] = bundle;
    this.#made[domain] = made + 1;
    const { log, maxLogCharsPerBatch, maxLogCharsPerRun } = this.#sandbox;
    const runtime = new ReplayRuntime(
      this,
      domain,
      new OutputLimit(log, maxLogCharsPerBatch, maxLogCharsPerRun),
    );
    this.#open.add(runtime);
    return runtime;
  }

  /**
   * Launches the child, if not yet, for a policy that will run in it: the child starts while the
   * kernel bundles policies and builds the simulation, and waits for the run on its stdin.
   */
  prepare(): void {
    if (this.#launching !== undefined || this.#closing !== undefined) return;
    // The copy of the simulation grows with the workload: three times its serialized size.
    const workloadMiB = Math.ceil(3 * this.#header().length / MIB);
    this.#launching = this.#launch(this.#sandbox.heapMiB + KERNEL_HEAP_MIB + workloadMiB);
    this.#launching.catch(() => {});
  }

  /** The run's header, framed (once: a child launched again is sent the same). */
  #header(): Uint8Array {
    if (this.#headerBytes === undefined) {
      const header: ReplayRun = {
        workload: this.#workload,
        options: dataOnly(this.#options),
        maxReplyBytes: this.#sandbox.maxMessageBytes,
        maxLogCharsPerBatch: this.#sandbox.maxLogCharsPerBatch,
        // A tick of a tenth of the batch deadline, 1 to 4 ms (see `_kernel_child.ts`).
        flushMs: Math.max(1, Math.min(4, Math.floor(this.#sandbox.batchDeadlineMs / 10))),
        policyHeapMiB: this.#sandbox.heapMiB,
      };
      this.#headerBytes = frame(serialize(header));
    }
    return this.#headerBytes;
  }

  /**
   * Reads a policy's start from the stream (sending the run to the child first).
   *
   * @ignore
   */
  async started(runtime: ReplayRuntime, message: StartMessage): Promise<StartResult> {
    this.#throwIfFailed(runtime);
    const first = this.#sending === undefined;
    this.#sending ??= this.#send();
    try {
      await this.#sending;
    } catch (error) {
      throw this.#end(
        new PolicyFailure("crash", "spawn", `Cannot start the sandbox: ${error}`),
        runtime.domain,
      );
    }
    this.#throwIfFailed(runtime);
    // First the child's own start (it builds the same simulation as this kernel did), on a
    // deadline of its own; then the policy's load and start, on the policy's.
    const kernelMs = KERNEL_START_MS + (first ? 2 * (performance.now() - this.#created) : 0);
    let loading: DecodedRecord;
    for (let relaunches = 0;; relaunches++) {
      let capMiB: number;
      try {
        loading = await this.#next(this.#scratch, kernelMs, runtime, "kernel");
        if (loading.kind !== RECORD.RELAUNCH || !first) break;
        capMiB = Number(loading.text);
        if (!(Number.isInteger(capMiB) && capMiB > this.#heapCapMiB && capMiB < 1 << 20)) {
          throw badFrame(`a request for a heap of ${loading.text.slice(0, 20)} MiB`);
        }
      } catch (error) {
        // Out of heap before any policy code ran: the copy of the simulation needs more.
        const failure = this.#failure?.failure;
        if (
          !first || relaunches >= MAX_RELAUNCHES || failure === undefined || error !== failure ||
          failure.kind !== "oom" || failure.reason !== "heap"
        ) throw error;
        this.#failure = undefined;
        capMiB = this.#heapCapMiB * 2;
      }
      this.#sending = this.#relaunch(capMiB);
      await this.#sending;
    }
    if (loading.domain !== runtime.index || loading.kind !== RECORD.LOADING) {
      throw this.#diverged(runtime, `its ${kindName(loading)} where the kernel started it`);
    }
    const deadline = this.#sandbox.initDeadlineMs;
    const record = await this.#next(this.#scratch, deadline, runtime, "load and start");
    if (
      record.domain !== runtime.index ||
      (record.kind !== RECORD.STARTED && record.kind !== RECORD.START_FAIL)
    ) {
      throw this.#diverged(runtime, `its ${kindName(record)} where the kernel started it`);
    }
    let sent: { start?: unknown; result?: unknown; failure?: unknown } = {};
    try {
      sent = JSON.parse(record.text);
    } catch {
      // Checked below.
    }
    if (sent.start !== JSON.stringify(message)) {
      throw this.#diverged(runtime, "a start for other settings than the kernel's");
    }
    if (record.kind === RECORD.START_FAIL) throw failureFrom(sent.failure);
    let result: unknown;
    try {
      result = JSON.parse(String(sent.result));
    } catch {
      // Not JSON: the policy broke its own sandbox's encoder (JSON.stringify, for one).
    }
    return checkStartResult(result);
  }

  /**
   * The answer to `batch` for `runtime`, from the stream.
   *
   * @ignore
   */
  answer(runtime: ReplayRuntime, batch: Batch): Reply | Promise<Reply> {
    this.#throwIfFailed(runtime);
    runtime.output.nextBatch();
    const fingerprint = batchFingerprint(batch.nums, batch.length, batch.objs);
    const record = this.#next(runtime.reply, this.#sandbox.batchDeadlineMs, runtime, "batch");
    if (record instanceof Promise) {
      return record.then((got) => this.#answerOf(runtime, batch, fingerprint, got));
    }
    return this.#answerOf(runtime, batch, fingerprint, record);
  }

  #answerOf(
    runtime: ReplayRuntime,
    batch: Batch,
    fingerprint: number,
    record: DecodedRecord,
  ): Reply {
    if (
      record.domain !== runtime.index ||
      (record.kind !== RECORD.REPLY && record.kind !== RECORD.FAIL)
    ) {
      throw this.#diverged(runtime, `its ${kindName(record)} where the kernel asked it a batch`);
    }
    if (record.batchLength !== batch.length || record.fingerprint !== fingerprint) {
      throw this.#diverged(
        runtime,
        `an answer to a batch of ${record.batchLength} numbers (fingerprint ${
          hex(record.fingerprint)
        }) where the kernel asked one of ${batch.length} (fingerprint ${hex(fingerprint)})`,
      );
    }
    if (record.kind === RECORD.FAIL) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(record.text);
      } catch {
        parsed = undefined;
      }
      throw failureFrom(parsed);
    }
    const reply = runtime.reply;
    reply.length = record.length;
    if (record.text === "") {
      reply.objs = EMPTY;
      return reply;
    }
    let objs: unknown;
    try {
      objs = JSON.parse(record.text);
    } catch {
      // Not JSON: the policy broke its own sandbox's encoder (JSON.stringify, for one).
    }
    if (!Array.isArray(objs)) throw badFrame("answer objects that are not a JSON array");
    reply.objs = objs;
    return reply;
  }

  /**
   * Lets a runtime go; the child is killed once no runtime reads its stream and no restart may
   * come back to it.
   *
   * @ignore
   */
  release(runtime: ReplayRuntime): Promise<void> {
    this.#open.delete(runtime);
    if (this.#open.size > 0) return Promise.resolve();
    const restarts = this.#options.restarts ?? 0;
    const restartable = this.#failure === undefined &&
      DOMAINS.some((domain) => (this.#made[domain] ?? restarts + 1) - 1 < restarts);
    if (restartable) return Promise.resolve();
    return this.close();
  }

  /**
   * Ends the session: reads what the policies printed up to the end of the child's run when
   * `drain` (the run ended here too), then kills the child. Idempotent.
   */
  close(options: { drain?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      if (options.drain && this.#failure === undefined && this.#child !== undefined) {
        await this.#drain();
      }
      await this.#reap();
    })();
    return this.#closing;
  }

  /** Reads the stream to the child's end (output printed after the last batch), quietly. */
  async #drain(): Promise<void> {
    const runtime = [...this.#open][0];
    if (runtime === undefined) return;
    try {
      for (;;) {
        const record = await this.#next(
          this.#scratch,
          this.#sandbox.batchDeadlineMs,
          runtime,
          "end",
        );
        if (record.kind === RECORD.END) return;
      }
    } catch {
      // The report is made: what the child does now changes nothing.
    }
  }

  #throwIfFailed(runtime: ReplayRuntime): void {
    if (this.#failure !== undefined) throw this.#failureFor(runtime.domain);
    if (this.#closing !== undefined) {
      throw new PolicyFailure("unregistered", "closed", "The policy runtime is closed");
    }
  }

  /** The failure a domain sees once the stream ended: its own, or that of the one it shared. */
  #failureFor(domain: Domain): PolicyFailure {
    const { failure, domain: owner } = this.#failure!;
    if (owner === domain || failure.reason === "diverged") return failure;
    return new PolicyFailure(
      "crash",
      "shared-child",
      `The sandbox process this policy shared with the ${owner} policy ended ` +
        `(${failure.kind}/${failure.reason}): ${failure.message}`,
    );
  }

  /** Ends the stream with `failure` (belonging to `domain`), kills the child; returns the failure. */
  #end(failure: PolicyFailure, domain: Domain): PolicyFailure {
    this.#failure ??= { failure, domain };
    void this.#reap();
    return this.#failureFor(domain);
  }

  #diverged(runtime: ReplayRuntime, what: string): PolicyFailure {
    return this.#end(
      new PolicyFailure(
        "invalid",
        "diverged",
        `The sandbox's copy of the kernel diverged from the kernel's: its stream held, for the ${runtime.domain} policy, ${what}`,
      ),
      runtime.domain,
    );
  }

  /**
   * The next record that is not output: at once when buffered, else after reading (blocking
   * when possible), failing when nothing but output comes for `deadlineMs` of waiting. Heartbeats
   * (the child's kernel works, outside the policy) start the deadline again, up to
   * {@linkcode KERNEL_WAIT_MS} in all.
   */
  #next(
    into: { nums: Float64Array },
    deadlineMs: number,
    runtime: ReplayRuntime,
    what: string,
    wait?: Wait,
  ): DecodedRecord | Promise<DecodedRecord> {
    for (;;) {
      let record: DecodedRecord;
      try {
        record = this.#reader.next(into);
      } catch (error) {
        if (error !== NEED_MORE) {
          const failure = error instanceof StreamError
            ? new PolicyFailure("invalid", error.reason, error.message)
            : new PolicyFailure("crash", "transport", String(error));
          throw this.#end(failure, runtime.domain);
        }
        if (wait === undefined) {
          const now = Date.now();
          wait = { started: now, due: now + deadlineMs, deadlineMs, what, capped: false };
        }
        if (this.#stdout === undefined) {
          const waiting = wait;
          return this.#fillAsync(waiting).then(
            () => this.#next(into, deadlineMs, runtime, what, waiting),
            (failure) => {
              throw this.#end(failure, runtime.domain);
            },
          );
        }
        const ended = this.#fillBlocking(wait);
        if (ended !== undefined) {
          return ended.then((failure) => {
            throw this.#end(failure, runtime.domain);
          });
        }
        continue;
      }
      switch (record.kind) {
        case RECORD.HEARTBEAT:
          if (wait !== undefined) {
            const now = Date.now(), limit = wait.started + KERNEL_WAIT_MS;
            wait.capped = now + deadlineMs >= limit;
            wait.due = Math.min(now + deadlineMs, limit);
          }
          continue;
        case RECORD.LOG:
          this.#outputOf(record.domain).write(record.text);
          continue;
        case RECORD.ERROR:
          throw this.#end(
            new PolicyFailure(
              "crash",
              "kernel",
              `The sandbox's copy of the kernel failed: ${record.text.slice(0, 500)}`,
            ),
            runtime.domain,
          );
        case RECORD.END:
          if (what !== "end") {
            throw this.#diverged(runtime, "the end of the run where the kernel went on");
          }
      }
      if (wait !== undefined && this.#control !== undefined) {
        Atomics.store(this.#control, WATCH.DUE, 0);
      }
      return record;
    }
  }

  /**
   * Reads more of the stream with a blocking read, the watchdog armed at the wait's deadline.
   * Undefined when bytes came; else the failure that ended the child (as a promise: it waits for
   * the child).
   */
  #fillBlocking(wait: Wait): Promise<PolicyFailure> | undefined {
    const control = this.#control!;
    Atomics.store(control, WATCH.SEQ, ++this.#seq);
    Atomics.store(control, WATCH.DUE, wait.due - this.#controlBase);
    let count: number | null;
    try {
      count = this.#stdout!.readSync(this.#reader.reserve(1 << 16));
    } catch {
      count = null;
    }
    if (count !== null && count > 0) {
      this.#reader.end += count;
      return undefined;
    }
    Atomics.store(control, WATCH.DUE, 0);
    const reason = Atomics.load(control, WATCH.KILLED);
    if (reason === KILLED_DEADLINE) return Promise.resolve(stall(wait));
    if (reason === KILLED_RSS) {
      return Promise.resolve(this.#overMemory(Atomics.load(control, WATCH.RSS_KIB)));
    }
    return this.#deathFailure();
  }

  /** Reads more of the stream through the child's stdout stream, by the wait's deadline. */
  async #fillAsync(wait: Wait): Promise<void> {
    const timer = setTimeout(() => {
      this.#killed ??= stall(wait);
      this.#kill();
    }, Math.max(0, wait.due - Date.now()));
    try {
      const free = this.#reader.reserve(1 << 16);
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#byob!.read(free);
      } catch {
        result = { done: true, value: undefined };
      }
      // The buffer was transferred to the stream and comes back as a new view of the same bytes.
      if (result.value !== undefined) {
        const { buffer } = result.value;
        if (buffer !== this.#reader.buffer.buffer) {
          this.#reader.buffer = new Uint8Array(buffer);
        }
      }
      if (this.#killed !== undefined) throw this.#killed;
      if (result.done || result.value === undefined || result.value.length === 0) {
        throw await this.#deathFailure();
      }
      this.#reader.end += result.value.length;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the child with a heap cap of `heapCapMiB`; it waits for the run on its stdin. */
  async #launch(heapCapMiB: number): Promise<void> {
    const { cacheDir } = this.#sandbox;
    // The child launched ahead of the run, if any; else (or if it failed to start) a new one.
    const cancelled = () => this.#closing !== undefined;
    let launched = await takePrelaunched(cacheDir, heapCapMiB) ??
      await spawnKernelChild(cacheDir, heapCapMiB, { cancelled });
    // Not the bundle it should run (a damaged file): another, from the file written again.
    if (launched !== undefined && !await launched.verified) {
      await discardChild(launched.process);
      launched = await spawnKernelChild(cacheDir, heapCapMiB, { cancelled, fresh: true });
    }
    if (launched === undefined) return;
    const child = launched.process;
    if (this.#closing !== undefined) {
      await discardChild(child);
      return;
    }
    this.#child = child;
    this.#heapCapMiB = heapCapMiB;
    this.#stderrTail = "";
    this.#stderrDone = this.#pumpStderr(child.stderr);
    // The run's header, then what the kernel loaded and read so far; the rest as it comes.
    this.#stdin = child.stdin.getWriter();
    this.#written = Promise.resolve(true);
    this.#write(this.#header());
    for (const message of this.#messages) this.#write(message);
    // The thread that will watch the child starts once the header is on its way (starting a
    // Worker holds this thread for tens of milliseconds), while the kernel builds.
    if (this.#sandbox.blockingReads && Deno.build.os === "linux") {
      void this.#written.then(() => {
        if (this.#child === child && this.#closing === undefined) {
          this.#watchdog ??= startWatchdog();
        }
      });
    }
  }

  /**
   * Sends the run to the child, launched again with a larger heap cap if this kernel grew past
   * the first guess while it built the simulation (large traces, say), and sets up the reading.
   */
  async #send(): Promise<void> {
    this.prepare();
    await this.#launching;
    await this.#sendAndWatch();
  }

  /**
   * Launches the child again with the heap cap it asked for (its copy of the simulation left the
   * policies less than `heapMiB`), and sends it the run.
   */
  async #relaunch(capMiB: number): Promise<void> {
    await this.#reap();
    this.#killed = undefined;
    this.#stdout = this.#byob = this.#control = undefined;
    this.#reader = new RecordReader(this.#sandbox.maxMessageBytes);
    await this.#launch(capMiB);
    await this.#sendAndWatch();
  }

  /** Sends the run, then reads the child's stream with blocking reads if it can, else as a stream. */
  async #sendAndWatch(): Promise<void> {
    const child = this.#child;
    if (this.#closing !== undefined || child === undefined) {
      throw new Error("the sandbox was closed");
    }
    await this.#sendRun();
    // Its memory cap: the policy's, and what this kernel holds (its copy holds about as much).
    const rssLimitKiB = (this.#sandbox.rssMiB + Math.ceil(Deno.memoryUsage().rss / MIB)) * 1024;
    if (!await this.#goBlocking(child.pid, rssLimitKiB)) {
      this.#byob = child.stdout.getReader({ mode: "byob" });
      this.#watchMemory(child.pid, rssLimitKiB);
    }
  }

  /**
   * Waits until all of the run is written to the child's stdin, and closes it: before any
   * blocking read, as what is left of a write waits for the event loop, which a blocked read stops.
   */
  async #sendRun(): Promise<void> {
    const stdin = this.#stdin!;
    this.#stdin = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const written = await Promise.race([
      this.#written.then((ok) => ok && stdin.close().then(() => true, () => false)),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), KERNEL_START_MS)),
    ]);
    clearTimeout(timer);
    // A child that could not take its run is dead or stuck: its stream's end says which.
    if (!written) this.#kill();
  }

  /**
   * Reads the stream with blocking reads when allowed and possible: a second handle on the child's
   * stdout (Linux `/proc`), and the watchdog thread for deadlines and the memory cap.
   */
  async #goBlocking(pid: number, limitKiB: number): Promise<boolean> {
    if (!this.#sandbox.blockingReads || Deno.build.os !== "linux") return false;
    const path = `/proc/${pid}/fd/1`;
    try {
      if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
      if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return false;
    } catch {
      return false;
    }
    let stdout: Deno.FsFile;
    try {
      stdout = Deno.openSync(path, { read: true });
    } catch {
      return false;
    }
    // Started with the child, as a rule: it has booted by now.
    const watchdog = this.#watchdog ?? startWatchdog();
    this.#watchdog = undefined;
    if (watchdog === undefined) {
      stdout.close();
      return false;
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
      timer = setTimeout(() => resolve(false), this.#sandbox.initDeadlineMs);
      watchdog.postMessage({ control, base, pid, limitKiB });
    });
    clearTimeout(timer);
    if (!ready) {
      watchdog.terminate();
      stdout.close();
      return false;
    }
    watchdog.onmessage = null;
    this.#watchdog = watchdog;
    this.#control = control;
    this.#controlBase = base;
    this.#stdout = stdout;
    return true;
  }

  /** Samples the child's resident memory every 100 ms without blocking reads (Linux `/proc`). */
  #watchMemory(pid: number, limitKiB: number): void {
    const timer = setInterval(() => {
      let status: string;
      try {
        status = Deno.readTextFileSync(`/proc/${pid}/status`);
      } catch {
        clearInterval(timer);
        return;
      }
      const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      if (rssKiB <= limitKiB) return;
      clearInterval(timer);
      this.#killed ??= this.#overMemory(rssKiB);
      this.#kill();
    }, 100);
    Deno.unrefTimer(timer);
    this.#memoryWatch = timer;
  }

  #overMemory(rssKiB: number): PolicyFailure {
    return new PolicyFailure(
      "oom",
      "rss",
      `Policy process used ${
        Math.round(rssKiB / 1024)
      } MiB of memory; the limit is ${this.#sandbox.rssMiB} MiB besides the kernel's`,
    );
  }

  async #pumpStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
      this.#output.write(text);
    }
  }

  /** Where what a domain's policy printed goes: its runtime's limit, else the child's own. */
  #outputOf(domain: number): OutputLimit {
    for (const runtime of this.#open) if (runtime.index === domain) return runtime.output;
    return this.#output;
  }

  /** Why the child ended on its own, from its exit status and stderr. */
  async #deathFailure(): Promise<PolicyFailure> {
    if (this.#killed !== undefined) return this.#killed;
    const status = await this.#child!.status;
    await this.#stderrDone;
    if (this.#killed !== undefined) return this.#killed;
    return childExitFailure(status, this.#stderrTail, this.#sandbox.heapMiB);
  }

  #kill(): void {
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // It had already exited.
    }
  }

  /** SIGKILLs the child if it still runs, waits for it, and releases its pipes and threads. */
  async #reap(): Promise<void> {
    clearInterval(this.#memoryWatch);
    if (this.#control !== undefined) {
      Atomics.compareExchange(this.#control, WATCH.KILLED, 0, KILLED_NEVER);
    }
    this.#watchdog?.terminate();
    this.#watchdog = undefined;
    const child = this.#child;
    if (child === undefined) return;
    this.#kill();
    await child.status;
    try {
      this.#stdout?.close();
    } catch {
      // Already closed.
    }
    this.#stdout = undefined;
    await this.#stderrDone;
    try {
      if (this.#byob !== undefined) {
        await this.#byob.cancel();
        this.#byob.releaseLock();
      } else {
        await child.stdout.cancel();
      }
    } catch {
      // Already closed or released.
    }
  }
}

/** Starts a watchdog thread ({@linkcode newWatchdogWorker}): it waits for its orders. */
function startWatchdog(): Worker | undefined {
  try {
    const worker = newWatchdogWorker();
    // Until it is given its orders; then an error means it is not ready (see #goBlocking).
    worker.onerror = (event) => event.preventDefault();
    return worker;
  } catch {
    return undefined;
  }
}

/** A per-batch sandbox (`process-rpc`) for a policy the child cannot serve. */
async function perBatch(bundle: PolicyBundle, options: SimulateOptions): Promise<PolicyRuntime> {
  return new (await import("./process.ts")).ProcessRuntime(bundle, options.sandbox);
}

/** What follows the run's header on the child's stdin (see `_kernel_child.ts`). */
type ReplayMessage =
  | { policy: { domain: Domain; code: string | null } }
  | { text: { path: string; text: string } };

/** A message on the child's stdin: its length (u32, little-endian), then its bytes. */
function frame(bytes: Uint8Array): Uint8Array {
  const framed = new Uint8Array(4 + bytes.length);
  new DataView(framed.buffer).setUint32(0, bytes.length, true);
  framed.set(bytes, 4);
  return framed;
}

/** The simulation's options a child can be sent: no functions, no sandbox settings. */
function dataOnly(options: SimulateOptions): SimulateOptions {
  const sent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (typeof value !== "function" && key !== "sandbox" && value !== undefined) sent[key] = value;
  }
  return sent as SimulateOptions;
}

/** The failure a child reported for its policy: only what a policy can cause, as per batch. */
function failureFrom(parsed: unknown): PolicyFailure {
  let value = parsed;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return badFrame("a failure report that is not JSON");
    }
  }
  if (typeof value !== "object" || value === null) {
    return badFrame("a failure report that is not an object");
  }
  const { kind, reason, message, call, stack } = value as Record<string, unknown>;
  return new PolicyFailure(
    kind === "error" ? "error" : "invalid",
    String(reason),
    String(message),
  ).at(call, stack);
}

function badFrame(what: string): PolicyFailure {
  return new PolicyFailure("invalid", "bad-frame", `The policy process sent ${what}`);
}

/** A wait for a record: when it began, when it is due, for what. */
interface Wait {
  /** `Date.now()` when the wait began. */
  started: number;
  /** `Date.now()` by which bytes other than output must come. */
  due: number;
  /** The deadline the policy has. */
  deadlineMs: number;
  /** What the policy was doing (`batch`, `load and start`), or `kernel` for the child's start. */
  what: string;
  /** Whether heartbeats pushed the deadline to its bound. */
  capped: boolean;
}

/** The stall a wait ends in. */
function stall(wait: Wait): PolicyFailure {
  if (wait.what === "kernel" || wait.capped) {
    return new PolicyFailure(
      "stall",
      "kernel",
      `The sandbox's copy of the kernel ${
        wait.what === "kernel" ? "did not start" : "made no answer"
      } within ${Math.round(wait.due - wait.started)} ms; the process was killed`,
    );
  }
  return new PolicyFailure(
    "stall",
    "deadline",
    `Policy did not finish its ${wait.what} within ${wait.deadlineMs} ms; the process was killed`,
  );
}

function kindName(record: DecodedRecord): string {
  const domain = DOMAINS[record.domain] ?? String(record.domain);
  return `${KIND_NAMES[record.kind] ?? "record"}${record.kind <= 4 ? ` (for ${domain})` : ""}`;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}
