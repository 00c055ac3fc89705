/**
 * The replay child: the main module of the `process` sandbox in replay mode (see `replay.ts`),
 * bundled with the kernel by `core/bundle/kernel.ts` and run with no permissions.
 *
 * It reads the run's header from stdin (the workload, the simulation's options; `node:v8`'s
 * serialization, each message after its length), and builds the same simulation as the kernel
 * with the same code, while the kernel bundles its policies and builds its own: a trace file's
 * text and a domain's policy (its bundle, or none for a built-in, needed only when it starts) are
 * messages the kernel sends as it has them, and the child waits for each when it needs it. Then it
 * runs the simulation with every policy in-process.
 * Each answer of a sandboxed policy, and each failure, goes into a ring of shared memory as a
 * record (`_replay_codec.ts`), behind what the policies printed; a thread of its own writes the
 * ring to stdout every few milliseconds, in large writes, so that what was answered before a policy
 * spins or runs out of memory reaches the kernel even though this thread never comes back.
 *
 * Nothing here is trusted: the kernel checks every record against its own batch and every answer
 * as it checks a policy's. The ring writer and the bootstrap keep private references to what they
 * use, so that a policy that replaces globals mostly breaks its own realm; whatever it does break
 * in this copy of the kernel shows in the kernel as an incident.
 *
 * @module
 */

import { deserialize } from "node:v8";
import { BUILTIN_POLICIES } from "../../plugins/mod.ts";
import type { LoadedPolicy } from "../kernel/slot.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import {
  API_VERSION,
  type Domain,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";
import { createSimulation, type PolicyChoice, type SimulateOptions } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";
import type { Workload } from "../workload/schema.ts";
import { InlineRuntime } from "./inline.ts";
import { checkStartResult, POLICY_HOST_JS } from "./_policy_host.ts";
import { type Isolation, PolicyFailure, type PolicyRuntime } from "../protocol/runtime.ts";
import {
  batchFingerprint,
  DOMAIN_INDEX,
  RECORD,
  RecordWriter,
  RING,
  RING_SLOTS,
} from "./_replay_codec.ts";

/**
 * The header of the run the kernel sends a replay child. Messages follow, one per thing its build
 * needs: `{ policy: { domain, code } }` (a sandboxed policy's bundle, or null for a built-in) and
 * `{ text: { path, text } }` (a trace file).
 */
export interface ReplayRun {
  /** The workload, as the kernel validated it (its seed applied). */
  workload: Workload;
  /** The simulation's options, data only (policies, restarts, watchdog, bounds…). */
  options: SimulateOptions;
  /** The reply size cap. */
  maxReplyBytes: number;
  /** How much one batch may print before it is cut (the kernel caps it again, and per run). */
  maxLogCharsPerBatch: number;
  /** The heap the policies must have besides the simulation, in MiB. */
  policyHeapMiB: number;
  /** How often the stream is written out, in ms (see `FLUSHER_JS`). */
  flushMs: number;
}

/** The ring's size: 4 MiB, about a second of answers at full speed. */
const RING_BYTES = 1 << 22;

/**
 * Plain JavaScript: the thread that writes the ring to stdout, at most a tick after a record is
 * committed (or at once when woken, or when an eighth of the ring is waiting). The tick is the
 * run's `flushMs`, a tenth of the batch deadline between 1 and 4 ms: 4 ms by default (a tick of
 * 1 ms woke this thread and the kernel four times as often, for a run 3 to 6 % slower in CPU time
 * in bench/sandbox_e2e.ts), so that the wait for a write stays small beside the deadline. It also
 * ends the child (SIGKILL, which its own process needs no permission for) within ~100 ms of the
 * kernel's death, seen as a new parent, even while a policy spins on the main thread.
 */
const FLUSHER_JS = String.raw`
const HEAD = ${RING.HEAD}, TAIL = ${RING.TAIL}, WAKE = ${RING.WAKE}, WAITING = ${RING.WAITING};
const BROKEN = ${RING.BROKEN}, IN_POLICY = ${RING.IN_POLICY}, FLUSH_MS = ${RING.FLUSH_MS};
const HEARTBEAT_MS = 10;
const HEARTBEAT = new Uint8Array([${RECORD.HEARTBEAT}]);
self.onmessage = (event) => {
  self.onmessage = null;
  const bytes = new Uint8Array(event.data.ring), ctl = new Int32Array(event.data.ctl);
  const size = bytes.length, mask = size - 1, out = Deno.stdout;
  const writeAll = (chunk) => {
    for (let at = 0; at < chunk.length;) at += out.writeSync(chunk.subarray(at));
  };
  let tail = 0, last = performance.now(), ticks = 0;
  const parent = Deno.ppid;
  for (;;) {
    const tickMs = Atomics.load(ctl, FLUSH_MS) || 1;
    if (++ticks % Math.ceil(100 / tickMs) === 0 && Deno.ppid !== parent) Deno.kill(Deno.pid, "SIGKILL");
    const pending = (Atomics.load(ctl, HEAD) - tail) | 0;
    const due = Atomics.load(ctl, WAKE) !== 0 || performance.now() - last >= tickMs ||
      pending >= size >>> 3;
    if (pending > 0 && due) {
      Atomics.store(ctl, WAKE, 0);
      const from = tail & mask, first = Math.min(pending, size - from);
      try {
        writeAll(bytes.subarray(from, from + first));
        if (first < pending) writeAll(bytes.subarray(0, pending - first));
      } catch {
        // The kernel is gone: nobody will read what this child says.
        Atomics.store(ctl, BROKEN, 1);
        Deno.kill(Deno.pid, "SIGKILL");
      }
      tail = (tail + pending) | 0;
      last = performance.now();
      Atomics.store(ctl, TAIL, tail);
      if (Atomics.load(ctl, WAITING) !== 0) Atomics.notify(ctl, TAIL);
      continue;
    }
    if (pending === 0 && performance.now() - last >= HEARTBEAT_MS) {
      // Between records (whole ones are committed): the kernel works, the policy is not running.
      if (Atomics.load(ctl, IN_POLICY) === 0) {
        try {
          writeAll(HEARTBEAT);
        } catch {
          Atomics.store(ctl, BROKEN, 1);
          Deno.kill(Deno.pid, "SIGKILL");
        }
      }
      last = performance.now();
    }
    Atomics.wait(ctl, WAKE, 0, tickMs);
  }
};
`;

const EMPTY: unknown[] = [];
const stringify = JSON.stringify;

/** What `createPolicyHost` (in `_policy_host.ts`) gives back. */
interface PolicyHost {
  load(
    code: string,
    start: StartMessage,
  ): Promise<
    { ok: true; result: unknown } | { ok: false; kind: string; reason: string; message: string }
  >;
  handle(
    nums: Float64Array,
    length: number,
    objs: unknown[],
  ):
    | { ok: true; nums: Float64Array; length: number; json: string }
    | {
      ok: false;
      kind: "error" | "invalid";
      reason: string;
      message: string;
      call?: number;
      stack?: string;
    };
}

/** The helpers of `POLICY_HOST_JS`, the same code the per-batch sandboxes run. */
interface HostHelpers {
  createPolicyHost(apiVersion: number, maxReplyBytes: number): PolicyHost;
  redirectConsole(print: (text: string) => void): void;
  limitOutput(print: (text: string) => void, maxChars: number): OutputCap;
  lockDown(stdinMessage: string): void;
}

/** `limitOutput`'s cap on what one batch prints. */
interface OutputCap {
  print(text: string): void;
  nextBatch(): void;
}

/** What a recording runtime shares with the others of its child. */
interface RecordingContext {
  stream: RecordWriter;
  output: OutputCap;
  /** The domain whose policy is running (what it prints is recorded under it). */
  speaking: { domain: number };
  maxReplyBytes: number;
  /** Called before the first policy loads: the simulation is built by then. */
  checkHeap: () => void;
}

/**
 * A sandboxed policy, in-process here: every answer and failure is recorded for the kernel, with
 * the fingerprint of the batch it answered, as the policy host of the per-batch sandbox frames it.
 */
class RecordingRuntime implements PolicyRuntime {
  readonly isolation: Isolation = "process";
  #helpers: HostHelpers;
  #code: string;
  #domain: number;
  #context: RecordingContext;
  #stream: RecordWriter;
  #host: PolicyHost | undefined;
  /** The answer handed to this copy of the kernel, reused from batch to batch. */
  #reply: Reply = { nums: new Float64Array(0), length: 0, objs: EMPTY };

  constructor(helpers: HostHelpers, code: string, domain: Domain, context: RecordingContext) {
    this.#helpers = helpers;
    this.#code = code;
    this.#domain = DOMAIN_INDEX[domain];
    this.#context = context;
    this.#stream = context.stream;
  }

  async start(message: StartMessage): Promise<StartResult> {
    // Before the policy's code runs: it may replace JSON.stringify.
    const start = stringify(message);
    this.#context.checkHeap();
    const host = this.#helpers.createPolicyHost(API_VERSION, this.#context.maxReplyBytes);
    // The policy's load deadline starts now: this child's own start is none of its business.
    this.#stream.mark(RECORD.LOADING, this.#domain);
    this.#enter();
    const loaded = await host.load(this.#code, message);
    this.#stream.leave();
    if (!loaded.ok) {
      const { kind, reason, message: text } = loaded;
      // The failure's JSON is made as the per-batch host makes it (a policy may have broken it).
      const failure = JSON.stringify({ kind, reason, message: text });
      this.#stream.text(RECORD.START_FAIL, this.#domain, stringify({ start, failure }));
      throw new PolicyFailure(kind as "error", reason, text);
    }
    this.#stream.text(
      RECORD.STARTED,
      this.#domain,
      stringify({ start, result: JSON.stringify(loaded.result) }),
    );
    this.#host = host;
    return checkStartResult(loaded.result);
  }

  handle(batch: Batch): Reply {
    const { nums, length } = batch;
    const fingerprint = batchFingerprint(nums, length, batch.objs);
    // The per-batch sandbox hands the policy copies of the objects: so does this one.
    const objs = batch.objs.length === 0 ? EMPTY : JSON.parse(JSON.stringify(batch.objs));
    this.#enter();
    const out = this.#host!.handle(nums, length, objs);
    this.#stream.leave();
    if (!out.ok) {
      const { kind, reason, message, call, stack } = out;
      const json = JSON.stringify({ kind, reason, message, call, stack });
      this.#stream.fail(this.#domain, fingerprint, length, json);
      throw new PolicyFailure(kind, reason, message).at(call, stack);
    }
    this.#stream.reply(this.#domain, fingerprint, length, out.nums, out.length, out.json);
    const reply = this.#reply;
    reply.nums = out.nums;
    reply.length = out.length;
    reply.objs = out.json === "" ? EMPTY : JSON.parse(out.json);
    return reply;
  }

  close(): void {
    this.#host = undefined;
  }

  /** Marks a call into the policy: heartbeats stop, and what it prints is its own batch's. */
  #enter(): void {
    this.#context.speaking.domain = this.#domain;
    this.#context.output.nextBatch();
    this.#stream.enter();
  }
}

/** A message after the header: a domain's policy, or a trace file's text. */
type ReplayMessage =
  | { policy: { domain: Domain; code: string | null } }
  | { text: { path: string; text: string } };

/** Reads the kernel's messages from stdin, each when it is needed (blocking). */
class Inbox {
  #file: { readSync(buffer: Uint8Array): number | null };
  #buffer = new Uint8Array(1 << 16);
  #start = 0;
  #end = 0;
  /** Messages read while looking for another, by key. */
  #early = new Map<string, ReplayMessage>();

  constructor(file: { readSync(buffer: Uint8Array): number | null }) {
    this.#file = file;
  }

  /** The message of `key` (`policy:<domain>`, `text:<path>`), reading on until it comes. */
  take(key: string): ReplayMessage {
    for (;;) {
      const early = this.#early.get(key);
      if (early !== undefined) {
        this.#early.delete(key);
        return early;
      }
      const message = this.next() as ReplayMessage;
      const got = "policy" in message
        ? `policy:${message.policy.domain}`
        : `text:${message.text.path}`;
      if (got === key) return message;
      this.#early.set(got, message);
    }
  }

  /** The next message. */
  next(): unknown {
    this.#fill(4);
    const length = new DataView(this.#buffer.buffer, this.#start, 4).getUint32(0, true);
    this.#fill(4 + length);
    const bytes = this.#buffer.subarray(this.#start + 4, this.#start + 4 + length);
    this.#start += 4 + length;
    return deserialize(bytes);
  }

  #fill(bytes: number): void {
    while (this.#end - this.#start < bytes) {
      if (this.#buffer.length - this.#start < bytes) {
        const grown = new Uint8Array(Math.max(bytes, this.#buffer.length * 2));
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
        this.#end -= this.#start;
        this.#start = 0;
      }
      const count = this.#file.readSync(this.#buffer.subarray(this.#end));
      if (count === null) throw new Error("The kernel ended the run before the sandbox had it all");
      this.#end += count;
    }
  }
}

/** A policy whose runtime is made when it starts: the kernel sends its bundle meanwhile. */
class PendingRuntime implements PolicyRuntime {
  readonly isolation: Isolation = "process";
  #make: () => PolicyRuntime;
  #inner: PolicyRuntime | undefined;

  constructor(make: () => PolicyRuntime) {
    this.#make = make;
  }

  start(message: StartMessage): Promise<StartResult> | StartResult {
    this.#inner = this.#make();
    return this.#inner.start(message);
  }

  handle(batch: Batch): Reply | Promise<Reply> {
    return this.#inner!.handle(batch);
  }

  close(): Promise<void> | void {
    return this.#inner?.close();
  }
}

/** Runs the child: see the module's documentation. */
async function main(): Promise<void> {
  const realStdin = Deno.stdin, exit = Deno.exit;
  // The ring's thread first: starting a Worker holds this thread for tens of milliseconds, which
  // pass while the kernel is still parsing the workload (it launches this child early).
  const ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  const ctl = new Int32Array(new SharedArrayBuffer(RING_SLOTS * 4));
  const flusher = new Worker(
    URL.createObjectURL(new Blob([FLUSHER_JS], { type: "text/javascript" })),
    { type: "module", name: "hyperhook replay flusher" },
  );
  flusher.postMessage({ ring: ring.buffer, ctl: ctl.buffer });
  const inbox = new Inbox(realStdin);
  const run = inbox.next() as ReplayRun;
  const flushMs = Math.trunc(run.flushMs);
  Atomics.store(ctl, RING.FLUSH_MS, flushMs >= 1 && flushMs <= 4 ? flushMs : 1);
  // The kernel is gone: nobody reads what this child would say.
  const stream = new RecordWriter(ring, ctl, () => exit(0));
  const finish = (code: number): never => {
    stream.flush(2_000);
    return exit(code);
  };
  // Which domain's policy is running, for what it prints.
  const speaking = { domain: 0 };

  // The per-batch sandbox's own bootstrap pieces: the policy host, the console's redirection,
  // the cap on what one batch prints, and the lockdown (no threads, signals, exit, stdin), run
  // once this child's own thread is started and before any policy code.
  const helpers = new Function(
    `${POLICY_HOST_JS}\nreturn { createPolicyHost, redirectConsole, limitOutput, lockDown };`,
  )() as HostHelpers;
  const output = helpers.limitOutput(
    (text) => stream.text(RECORD.LOG, speaking.domain, text),
    run.maxLogCharsPerBatch,
  );
  helpers.redirectConsole((text) => output.print(text));
  helpers.lockDown("The sandbox's stdin carries the kernel's messages; a policy cannot read it");
  // A hook cannot wait: a promise it drops is settled, if ever, when this child next awaits (a
  // restart, the end), and what it rejects with is no failure of the run, as in the per-batch
  // sandbox, which never comes back to its event loop.
  globalThis.addEventListener("unhandledrejection", (event) => event.preventDefault());
  globalThis.addEventListener("error", (event) => event.preventDefault());

  // Once, when the simulation is built: if what it holds leaves the policies less than their
  // share of the heap cap, the kernel launches a child with a larger one (and this one waits).
  let heapChecked = false;
  const checkHeap = (): void => {
    if (heapChecked) return;
    heapChecked = true;
    const usedMiB = Math.ceil(Deno.memoryUsage().heapUsed / (1 << 20));
    // This child's heap cap is its first argument (the kernel sets it when it launches it).
    if (usedMiB + run.policyHeapMiB <= Number(Deno.args[0])) return;
    stream.text(RECORD.RELAUNCH, 0, String(usedMiB + run.policyHeapMiB + 16));
    stream.flush(10_000);
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
  // The policy of each domain as the kernel sent it, taken when it starts (the kernel may still
  // be bundling it while this child builds); a restart starts the same one again.
  const policies = new Map<Domain, string | null>();
  const policyOf = (domain: Domain, use: string): PolicyRuntime => {
    if (!policies.has(domain)) {
      const message = inbox.take(`policy:${domain}`) as { policy: { code: string | null } };
      policies.set(domain, message.policy.code);
    }
    const code = policies.get(domain);
    if (typeof code === "string") {
      return new RecordingRuntime(helpers, code, domain, {
        stream,
        output,
        speaking,
        maxReplyBytes: run.maxReplyBytes,
        checkHeap,
      });
    }
    const builtin = BUILTIN_POLICIES[domain][use];
    if (builtin === undefined) {
      throw new Error(`The sandbox has neither a bundle nor a built-in for ${domain} ${use}`);
    }
    return new InlineRuntime(builtin.definition, { maxMessageBytes: run.maxReplyBytes });
  };
  const load = (domain: Domain, choice: PolicyChoice): Promise<LoadedPolicy> => {
    const config = choice.config ?? {};
    const runtime = new PendingRuntime(() => policyOf(domain, choice.use));
    const info = {
      name: choice.use,
      sha256: "",
      isolation: runtime.isolation,
      config,
      reference: choice.use,
    };
    return Promise.resolve({ runtime, info, config });
  };
  // Each file once, as the kernel read it (a second read of a path is the first's text).
  const texts = new Map<string, string>();
  const readText = (path: string): string => {
    const known = texts.get(path);
    if (known !== undefined) return known;
    const { text } = inbox.take(`text:${path}`) as { text: { text: string } };
    texts.set(path, text.text);
    return text.text;
  };
  try {
    const simulation = await createSimulation(run.workload, {
      ...run.options,
      readText,
      loadPolicy: load,
      replay: false,
    });
    // The kernel keeps the decision log and the books its report is made of; this copy's would
    // only cost time (no decision reads them: the vCPUs' latency histograms are the largest).
    const parts = internals(simulation);
    parts.kernel.log.record = () => {};
    parts.cpu.discardLatencies();
    await simulation.run();
    // What the policies' dropped promises still had to say (chains of callbacks), before the end.
    await new Promise((resolve) => setTimeout(resolve, 0));
    stream.mark(RECORD.END, 0);
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    // The kernel says what went wrong, once (a refused configuration is its one line).
    stream.text(RECORD.ERROR, 0, text);
  }
  finish(0);
}

if (import.meta.main) await main();
