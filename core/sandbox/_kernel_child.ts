/**
 * The replay child: the main module of the `process` sandbox in replay mode (see `replay.ts`),
 * bundled with the kernel by `kernel_bundle.ts` and run with no permissions.
 *
 * It reads the run from stdin (the workload, the simulation's options, the bundles of the
 * sandboxed policies, the texts of the trace files; `node:v8`'s serialization, to its end), builds
 * the same simulation as the kernel with the same code, and runs it with every policy in-process.
 * Each answer of a sandboxed policy, and each failure, goes into a ring of shared memory as a
 * record (`_replay_codec.ts`), behind what the policies printed; a thread of its own writes the
 * ring to stdout every millisecond, in large writes, so that what was answered before a policy
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
import {
  API_VERSION,
  type Batch,
  type Domain,
  type Reply,
  type StartMessage,
  type StartResult,
} from "../policy/protocol.ts";
import { createSimulation, type PolicyChoice, type SimulateOptions } from "../simulate.ts";
import type { Workload } from "../workload/schema.ts";
import { InlineRuntime } from "./inline.ts";
import { checkStartResult, POLICY_HOST_JS } from "./_policy_host.ts";
import { type Isolation, PolicyFailure, type PolicyRuntime } from "./runtime.ts";
import {
  batchFingerprint,
  DOMAIN_INDEX,
  RECORD,
  RecordWriter,
  RING,
  RING_SLOTS,
} from "./_replay_codec.ts";

/** What the kernel sends a replay child: all its copy of the run depends on. */
export interface ReplayRun {
  /** The workload, as the kernel validated it (its seed applied). */
  workload: Workload;
  /** The simulation's options, data only (policies, restarts, watchdog, bounds…). */
  options: SimulateOptions;
  /** The bundles of the sandboxed policies, by domain; other domains run built-ins. */
  bundles: Partial<Record<Domain, string>>;
  /** The trace files the kernel read while building the simulation, by path. */
  texts: Map<string, string>;
  /** The reply size cap. */
  maxReplyBytes: number;
  /** The heap the policies must have besides the simulation, and this child's cap, in MiB. */
  heap: { policyMiB: number; capMiB: number };
}

/** The ring's size: 4 MiB, about a second of answers at full speed. */
const RING_BYTES = 1 << 22;

/**
 * Plain JavaScript: the thread that writes the ring to stdout, at most a tick after a record is
 * committed (or at once when woken, or when an eighth of the ring is waiting).
 */
const FLUSHER_JS = String.raw`
const HEAD = ${RING.HEAD}, TAIL = ${RING.TAIL}, WAKE = ${RING.WAKE}, WAITING = ${RING.WAITING};
const BROKEN = ${RING.BROKEN}, IN_POLICY = ${RING.IN_POLICY}, TICK_MS = 1, HEARTBEAT_MS = 10;
const HEARTBEAT = new Uint8Array([${RECORD.HEARTBEAT}]);
self.onmessage = (event) => {
  self.onmessage = null;
  const bytes = new Uint8Array(event.data.ring), ctl = new Int32Array(event.data.ctl);
  const size = bytes.length, mask = size - 1, out = Deno.stdout;
  const writeAll = (chunk) => {
    for (let at = 0; at < chunk.length;) at += out.writeSync(chunk.subarray(at));
  };
  let tail = 0, last = performance.now();
  for (;;) {
    const pending = (Atomics.load(ctl, HEAD) - tail) | 0;
    const due = Atomics.load(ctl, WAKE) !== 0 || performance.now() - last >= TICK_MS ||
      pending >= size >>> 3;
    if (pending > 0 && due) {
      Atomics.store(ctl, WAKE, 0);
      const from = tail & mask, first = Math.min(pending, size - from);
      try {
        writeAll(bytes.subarray(from, from + first));
        if (first < pending) writeAll(bytes.subarray(0, pending - first));
      } catch {
        Atomics.store(ctl, BROKEN, 1);
        Atomics.notify(ctl, TAIL);
        return;
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
          return;
        }
      }
      last = performance.now();
    }
    Atomics.wait(ctl, WAKE, 0, TICK_MS);
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
    | { ok: false; kind: "error" | "invalid"; reason: string; message: string };
}

/** The helpers of `POLICY_HOST_JS`, the same code the per-batch sandboxes run. */
interface HostHelpers {
  createPolicyHost(apiVersion: number, maxReplyBytes: number): PolicyHost;
  redirectConsole(print: (text: string) => void): void;
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
  #stream: RecordWriter;
  #maxReplyBytes: number;
  #host: PolicyHost | undefined;
  /** Called before the first policy loads: the simulation is built by then. */
  #checkHeap: (() => void) | undefined;

  constructor(
    helpers: HostHelpers,
    code: string,
    domain: Domain,
    stream: RecordWriter,
    maxReplyBytes: number,
    checkHeap: () => void,
  ) {
    this.#checkHeap = checkHeap;
    this.#helpers = helpers;
    this.#code = code;
    this.#domain = DOMAIN_INDEX[domain];
    this.#stream = stream;
    this.#maxReplyBytes = maxReplyBytes;
  }

  async start(message: StartMessage): Promise<StartResult> {
    // Before the policy's code runs: it may replace JSON.stringify.
    const start = stringify(message);
    this.#checkHeap?.();
    this.#checkHeap = undefined;
    const host = this.#helpers.createPolicyHost(API_VERSION, this.#maxReplyBytes);
    // The policy's load deadline starts now: this child's own start is none of its business.
    this.#stream.mark(RECORD.LOADING, this.#domain);
    this.#stream.enter();
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
    this.#stream.enter();
    const out = this.#host!.handle(nums, length, objs);
    this.#stream.leave();
    if (!out.ok) {
      const json = JSON.stringify({ kind: out.kind, reason: out.reason, message: out.message });
      this.#stream.fail(this.#domain, fingerprint, length, json);
      throw new PolicyFailure(out.kind, out.reason, out.message);
    }
    this.#stream.reply(this.#domain, fingerprint, length, out.nums, out.length, out.json);
    return {
      nums: out.nums,
      length: out.length,
      objs: out.json === "" ? [] : JSON.parse(out.json),
    };
  }

  close(): void {
    this.#host = undefined;
  }
}

function readAll(file: { readSync(buffer: Uint8Array): number | null }): Uint8Array {
  let buffer = new Uint8Array(1 << 16), used = 0;
  for (;;) {
    if (used === buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    const count = file.readSync(buffer.subarray(used));
    if (count === null) return buffer.subarray(0, used);
    used += count;
  }
}

/** Runs the child: see the module's documentation. */
async function main(): Promise<void> {
  const realStdin = Deno.stdin, realStderr = Deno.stderr, exit = Deno.exit;
  const encoder = new TextEncoder();
  const run = deserialize(readAll(realStdin)) as ReplayRun;
  const ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  const ctl = new Int32Array(new SharedArrayBuffer(RING_SLOTS * 4));
  const flusher = new Worker(
    URL.createObjectURL(new Blob([FLUSHER_JS], { type: "text/javascript" })),
    { type: "module", name: "hyperhook replay flusher" },
  );
  flusher.postMessage({ ring: ring.buffer, ctl: ctl.buffer });
  // The kernel is gone: nobody reads what this child would say.
  const stream = new RecordWriter(ring, ctl, () => exit(0));
  const finish = (code: number): never => {
    stream.flush(2_000);
    return exit(code);
  };

  const helpers = new Function(
    `${POLICY_HOST_JS}\nreturn { createPolicyHost, redirectConsole };`,
  )() as HostHelpers;
  helpers.redirectConsole((text) => stream.text(RECORD.LOG, 0, text));
  const taken = () => {
    throw new Error("The sandbox's stdin carries the kernel protocol; a policy cannot read it");
  };
  Object.defineProperty(Deno, "stdin", { get: taken, configurable: true });
  // A policy that exits the process: what it answered so far reaches the kernel first.
  Object.defineProperty(Deno, "exit", { value: finish, configurable: true, writable: true });
  const node = (globalThis as unknown as { process?: object }).process;
  if (typeof node === "object" && node !== null) {
    try {
      Object.defineProperty(node, "stdin", { get: taken, configurable: true });
      Object.defineProperty(node, "exit", { value: finish, configurable: true, writable: true });
    } catch {
      // A frozen process object keeps its own.
    }
  }
  // A hook cannot wait: a promise it drops is settled, if ever, when this child next awaits (a
  // restart, the end), and what it rejects with is no failure of the run, as in the per-batch
  // sandbox, which never comes back to its event loop.
  globalThis.addEventListener("unhandledrejection", (event) => event.preventDefault());
  globalThis.addEventListener("error", (event) => event.preventDefault());

  // Once, when the simulation is built: if what it holds leaves the policies less than their
  // share of the heap cap, the kernel launches a child with a larger one (and this one waits).
  let heapChecked = false;
  const checkHeap = () => {
    if (heapChecked) return;
    heapChecked = true;
    const usedMiB = Math.ceil(Deno.memoryUsage().heapUsed / (1 << 20));
    if (usedMiB + run.heap.policyMiB <= run.heap.capMiB) return;
    stream.text(RECORD.RELAUNCH, 0, String(usedMiB + run.heap.policyMiB + 16));
    stream.flush(10_000);
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
  const load = (domain: Domain, choice: PolicyChoice): Promise<LoadedPolicy> => {
    const config = choice.config ?? {};
    const code = run.bundles[domain];
    let runtime: PolicyRuntime;
    if (code !== undefined) {
      runtime = new RecordingRuntime(
        helpers,
        code,
        domain,
        stream,
        run.maxReplyBytes,
        checkHeap,
      );
    } else {
      const builtin = BUILTIN_POLICIES[domain][choice.use];
      if (builtin === undefined) {
        throw new Error(
          `The sandbox has neither a bundle nor a built-in for ${domain} ${choice.use}`,
        );
      }
      runtime = new InlineRuntime(builtin.definition, { maxMessageBytes: run.maxReplyBytes });
    }
    const info = {
      name: choice.use,
      sha256: "",
      isolation: runtime.isolation,
      config,
      reference: choice.use,
    };
    return Promise.resolve({ runtime, info, config });
  };
  const readText = (path: string): string => {
    const text = run.texts.get(path);
    if (text === undefined) throw new Error(`The kernel did not send the file ${path}`);
    return text;
  };
  try {
    const simulation = await createSimulation(run.workload, {
      ...run.options,
      readText,
      loadPolicy: load,
      replay: false,
    });
    // The kernel keeps the decision log; this copy's would only cost time.
    simulation.kernel.log.record = () => {};
    await simulation.run();
    // What the policies' dropped promises still had to say (chains of callbacks), before the end.
    await new Promise((resolve) => setTimeout(resolve, 0));
    stream.mark(RECORD.END, 0);
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    stream.text(RECORD.ERROR, 0, text);
    try {
      realStderr.writeSync(encoder.encode(`hyperhook replay child: ${text}\n`));
    } catch {
      // Nobody to tell.
    }
  }
  finish(0);
}

if (import.meta.main) await main();
