/**
 * The `worker` policy runtime: the policy runs in a Deno Worker with `permissions: "none"`.
 *
 * What it protects against: a policy's access to files, environment, subprocesses, FFI and the
 * network through `fetch`/`Deno.connect` (all throw `NotCapable`); a throw in a hook (kind
 * `error`), whatever was thrown; an uncaught asynchronous error (kind `crash`; the kernel is not
 * brought down); a slow hook that eventually returns (kind `stall` at the deadline); oversized
 * or malformed replies (kind `invalid`); console output on the kernel's stdout (it goes to the
 * `log` option, cleaned of terminal control sequences and capped per batch and per run).
 * The worker shares the kernel's process, so before the policy's code runs the bootstrap takes
 * away what would reach it (`_policy_host.ts`, `LOCKDOWN_JS`): `Deno.kill` (it may signal its
 * own process, the kernel's, without any permission), `Deno.exit`, signal listeners, node's
 * `process.kill`/`exit`/`abort`, nested Workers (`Worker`, `node:worker_threads`), `unload`
 * listeners and the kernel's stdin. `Math.random`, `crypto.getRandomValues`/`randomUUID` are
 * seeded with the policy's seed, and `Date`, `performance.now` and `Temporal.Now` read the
 * simulated clock (`_determinism.ts`).
 *
 * What it does NOT protect against (verified with Deno 2.9.6, see tests/sandbox/):
 * - A hook that loops forever: `worker.terminate()` does not interrupt running JavaScript. The
 *   runtime reports `stall` at the deadline and terminates the worker, but the worker's thread
 *   keeps spinning at 100% of a core until the kernel process exits, and keeps that process from
 *   exiting on its own (only `Deno.exit()` ends it).
 * - Running out of memory: the worker shares the kernel's process, and V8's fatal out-of-memory
 *   error aborts the whole process, kernel included.
 * - Fetching code: a permission-less worker can still `import("npm:…")`, and Deno downloads the
 *   package from the registry if it is not cached (unless the kernel runs with `--cached-only`).
 *   (`import("https:…")` with a computed specifier is refused by the import permission.)
 * - The kernel's file descriptors: `node:fs` calls on a descriptor number (`writeSync(1, …)`)
 *   need no permission and reach the kernel's stdout and stderr.
 * - Hostile code in general: the policy shares the worker's global scope with this bootstrap and
 *   can forge messages to the kernel; the worker's event loop runs, so timers fire in real time.
 * Use the `process` runtime for any code you do not trust.
 *
 * @module
 */

import { API_VERSION } from "../protocol/definition.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import type { StartMessage, StartResult } from "../protocol/definition.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import { checkStartResult, WORKER_BOOTSTRAP_JS } from "./_policy_host.ts";
import { type Isolation, PolicyFailure, type PolicyRuntime } from "../protocol/runtime.ts";
import { OutputLimit } from "../protocol/text.ts";
import {
  type ResolvedSandboxOptions,
  resolveSandboxOptions,
  type SandboxOptions,
} from "./options.ts";

const BOOTSTRAP_URL = `data:text/javascript,${encodeURIComponent(WORKER_BOOTSTRAP_JS)}`;

/** A message from the worker's bootstrap. */
type WorkerAnswer =
  | { t: "started"; seq: number; result: StartResult }
  | { t: "reply"; seq: number; nums: Float64Array; length: number; objs: string }
  | {
    t: "fail";
    seq: number;
    failure: { kind: unknown; reason: unknown; message: unknown; call?: unknown; stack?: unknown };
  }
  | { t: "log"; text: string }
  | { t: "uncaught"; message: string };

interface Pending {
  seq: number;
  resolve: (answer: WorkerAnswer) => void;
  reject: (failure: PolicyFailure) => void;
}

/** Runs a policy bundle in a permission-less Deno Worker. */
export class WorkerRuntime implements PolicyRuntime {
  /** Always `worker`. */
  readonly isolation: Isolation = "worker";
  #bundle: PolicyBundle;
  #options: ResolvedSandboxOptions;
  #worker: Worker | undefined;
  #pending: Pending | undefined;
  #seq = 0;
  #started = false;
  #failure: PolicyFailure | undefined;
  #closed = false;
  #output: OutputLimit;

  /**
   * Prepares the runtime; no worker is created until {@linkcode WorkerRuntime.start}.
   *
   * @param bundle The policy bundle to host.
   * @param options Deadlines, message cap and log sink (`heapMiB` does not apply to workers).
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

  /**
   * Creates the worker, loads the bundle in it and starts the policy.
   *
   * @throws {PolicyFailure} `invalid` (not a policy, another protocol version), `error` (the
   *   module or `start` threw), `stall` (over `initDeadlineMs`) or `crash`.
   */
  async start(message: StartMessage): Promise<StartResult> {
    if (this.#started || this.#closed) {
      throw new PolicyFailure("error", "restarted", "A policy runtime can be started only once");
    }
    this.#started = true;
    const worker = new Worker(BOOTSTRAP_URL, {
      type: "module",
      name: `hyperhook policy ${this.#bundle.reference}`,
      deno: { permissions: "none" },
    });
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<WorkerAnswer>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an error in the worker is rethrown in the kernel and ends it.
      event.preventDefault();
      this.#die(
        new PolicyFailure("crash", "uncaught", `Policy raised an uncaught error: ${event.message}`),
      );
    };
    worker.onmessageerror = () => {
      this.#die(
        new PolicyFailure("invalid", "bad-message", "Policy sent a message that cannot be read"),
      );
    };
    const seq = ++this.#seq;
    const answer = await this.#exchange(
      {
        t: "load",
        seq,
        code: this.#bundle.code,
        start: message,
        apiVersion: API_VERSION,
        maxReplyBytes: this.#options.maxMessageBytes,
        maxLogChars: this.#options.maxLogCharsPerBatch,
      },
      [],
      this.#options.initDeadlineMs,
      "load and start",
    );
    if (answer.t === "started") {
      try {
        return checkStartResult(answer.result);
      } catch (error) {
        throw this.#die(error as PolicyFailure);
      }
    }
    throw this.#die(this.#failureFrom(answer));
  }

  /**
   * Sends one batch to the worker and waits for its reply. The batch's valid numbers are copied
   * and the copy's buffer is transferred, so the kernel may reuse its own buffer at once.
   *
   * @throws {PolicyFailure} `error` (a hook threw; the policy stays loaded), `invalid` (a bad or
   *   oversized reply), `stall` (over `batchDeadlineMs`) or `crash`.
   */
  async handle(batch: Batch): Promise<Reply> {
    if (this.#failure !== undefined) throw this.#failure;
    if (!this.#started) {
      throw new PolicyFailure("error", "not-started", "The policy was not started");
    }
    if (this.#pending !== undefined) {
      throw new Error("A batch is already in flight; send one batch at a time");
    }
    const seq = ++this.#seq;
    this.#output.nextBatch();
    const nums = batch.nums.slice(0, batch.length);
    const objs = batch.objs.length === 0 ? "" : JSON.stringify(batch.objs);
    const answer = await this.#exchange(
      { t: "batch", seq, nums, length: batch.length, objs },
      [nums.buffer],
      this.#options.batchDeadlineMs,
      "batch",
    );
    if (answer.t === "reply") {
      const bytes = answer.nums instanceof Float64Array
        ? answer.nums.byteLength + answer.objs.length
        : Infinity;
      if (bytes > this.#options.maxMessageBytes || answer.length !== answer.nums.length) {
        throw this.#die(
          new PolicyFailure("invalid", "bad-reply", "Policy sent a malformed or oversized reply"),
        );
      }
      let replyObjs: unknown = [];
      try {
        if (answer.objs !== "") replyObjs = JSON.parse(answer.objs);
      } catch {
        // Not JSON: the policy broke its own sandbox's encoder (JSON.stringify, for one).
      }
      if (!Array.isArray(replyObjs)) {
        throw this.#die(
          new PolicyFailure("invalid", "bad-reply", "Policy reply objs must be an array"),
        );
      }
      return { nums: answer.nums, length: answer.length, objs: replyObjs };
    }
    const failure = this.#failureFrom(answer);
    if (failure.reason === "message-too-large") throw this.#die(failure);
    throw failure;
  }

  /**
   * Terminates the worker. Idempotent. A worker stuck in a loop is not stopped by this (see the
   * module documentation).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#die(new PolicyFailure("unregistered", "closed", "The policy runtime is closed"));
  }

  #exchange(
    message: Record<string, unknown>,
    transfer: Transferable[],
    deadlineMs: number,
    what: string,
  ): Promise<WorkerAnswer> {
    const worker = this.#worker!;
    return new Promise<WorkerAnswer>((resolve, reject) => {
      const seq = message.seq as number;
      const timer = setTimeout(() => {
        reject(this.#die(
          new PolicyFailure(
            "stall",
            "deadline",
            `Policy did not finish its ${what} within ${deadlineMs} ms; the worker was terminated`,
          ),
        ));
      }, deadlineMs);
      this.#pending = {
        seq,
        resolve: (answer) => {
          clearTimeout(timer);
          this.#pending = undefined;
          resolve(answer);
        },
        reject: (failure) => {
          clearTimeout(timer);
          this.#pending = undefined;
          reject(failure);
        },
      };
      worker.postMessage(message, transfer);
    });
  }

  #receive(answer: WorkerAnswer): void {
    if (answer?.t === "log") {
      this.#output.write(String(answer.text));
      return;
    }
    if (answer?.t === "uncaught") {
      this.#die(
        new PolicyFailure(
          "crash",
          "uncaught",
          `Policy raised an uncaught error: ${answer.message}`,
        ),
      );
      return;
    }
    const pending = this.#pending;
    // Anything unasked for (a late answer, or a message the policy forged) is dropped.
    if (pending !== undefined && answer?.seq === pending.seq) pending.resolve(answer);
  }

  #failureFrom(answer: WorkerAnswer): PolicyFailure {
    if (answer.t !== "fail") {
      return new PolicyFailure("invalid", "bad-message", `Policy sent an unexpected "${answer.t}"`);
    }
    const { kind, reason, message, call, stack } = answer.failure;
    // The bootstrap can only know of a throw or a bad reply; it cannot claim anything else.
    return new PolicyFailure(
      kind === "error" ? "error" : "invalid",
      String(reason),
      String(message),
    ).at(call, stack);
  }

  /** Records the failure, terminates the worker, fails a pending exchange; returns the failure. */
  #die(failure: PolicyFailure): PolicyFailure {
    this.#failure ??= failure;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#pending?.reject(failure);
    return failure;
  }
}
