/**
 * `--trace FILE`: a run as a Chrome JSON trace (the trace event format), which ui.perfetto.dev and
 * chrome://tracing open.
 *
 * - one track per pCPU, with a complete (`X`) slice per vCPU run, named `VM/vCPU`, with
 *   `args.vm`, `args.vcpu`, the slice given and why the run stopped (unless it used up its
 *   slice): a VM's slices add up to its `runNs`;
 * - per VM, counters: runnable vCPUs, its share of the host over a window (1/100 of the traced
 *   part of the run), resident frames;
 * - one track per disk with each request in service as a slice (and each head movement the policy
 *   ordered): a disk's slices add up to its `busyNs`; the time each request spent queued is an
 *   async slice beside it;
 * - one track per domain's policy with each batch (its queries and the answer) and each decision
 *   that is no slice as instant events; but a batch that asked only to dispatch one pCPU and
 *   started the vCPU it answered there rides on that run's slice (`args.notifications`): most
 *   CPU batches are such, and an instant for each doubled the trace;
 * - incidents, policy swaps, parameter changes and timeline events as global (marked) instants.
 *
 * The trace is built from the run's decision log and the batches its policies are sent; a run
 * without `--trace` does none of this. Times are in µs with ns precision (three decimals). Events
 * are written as bytes into a 4 MiB buffer, each hot one from pieces encoded once (a vCPU's names,
 * a query's name) and digits, and the buffer goes to the file whenever it fills; the metadata
 * naming the tracks comes last, when every track is known.
 *
 * @module
 */

import type { Simulation } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";
import { formatNs } from "./decisions.ts";
import { bytesOf, JsonBytes } from "./_json_bytes.ts";
import { MAX_WINDOWS, TraceRun } from "./trace_run.ts";
import { DatacenterTraceRun } from "./datacenter_trace.ts";
import type { DatacenterSimulation } from "../datacenter/simulation.ts";

export { TraceRun } from "./trace_run.ts";
export { DatacenterTraceRun } from "./datacenter_trace.ts";

/** A run recorded into a trace file: a host's or a datacenter's. */
export type RecordedRun = TraceRun | DatacenterTraceRun;

/** Options of a trace file. */
export interface TraceOptions {
  /** Record only what happens from this simulated time on (ns; default 0). */
  fromNs?: number;
  /** Record only what happens before this simulated time (ns; default: the end). */
  toNs?: number;
  /** Stop recording once the trace holds this many bytes (default 256 MiB). */
  maxBytes?: number;
  /**
   * The window of the share counters (ns; default 1/100 of the traced part of the run: of
   * `stopAt` when the workload has one, else of where the run ended; at least 1 ms).
   */
  shareWindowNs?: number;
  /**
   * Write every policy batch as an instant of its own, also a lone dispatch answered with one vCPU
   * (by default that batch rides on the slice it started, as `args.notifications`: the scale
   * workload's trace is half the size).
   */
  everyBatch?: boolean;
  /**
   * Write the events to this file as they come, 4 MiB at a time (else they are kept in memory
   * until {@linkcode TraceFile.write}, which must then be given this path). The file is created
   * (or emptied) when the first 4 MiB are written, or by {@linkcode TraceFile.write}.
   */
  path?: string;
}

/** The default size cap of a trace: 256 MiB. */
export const DEFAULT_TRACE_BYTES = 256 * 1024 * 1024;

/**
 * A trace file being recorded: one or more runs (`compare` puts each policy's run in it, side by
 * side), a window and a size cap. Give it each run with {@linkcode TraceFile.watch}, then
 * {@linkcode TraceFile.write} it.
 *
 * @example
 * ```ts ignore
 * const trace = new TraceFile({ maxBytes: 64 << 20 });
 * const report = await simulate(workload, { observe: (simulation) => trace.watch(simulation, "rr") });
 * await trace.write("out/rr.trace.json");
 * ```
 */
export class TraceFile {
  /** The events so far as UTF-8, each followed by `,\n`. */
  readonly out: JsonBytes;
  /** Where recording stopped because of the size cap (simulated ns of the run), or undefined. */
  cutAtNs: number | undefined;
  /** The run being recorded when the cap was reached. */
  cutRun: string | undefined;
  /** The window's start (ns). */
  readonly fromNs: number;
  /** The window's end (ns; Infinity: the run's end). */
  readonly toNs: number;
  /** The size cap in bytes. */
  readonly maxBytes: number;
  /** Whether every batch is an instant (see {@linkcode TraceOptions.everyBatch}). */
  readonly everyBatch: boolean;
  /**
   * Where the events of the runs stop, below the cap: the rest is kept for the share counters
   * written at the end.
   */
  #eventCap: number;
  readonly #shareWindowNs: number | undefined;
  readonly #path: string | undefined;
  #file: Deno.FsFile | undefined;
  #failure: Error | undefined;
  #runs: RecordedRun[] = [];

  /**
   * @param options Window, size cap, share window, the file to write as the run goes.
   */
  constructor(options: TraceOptions = {}) {
    this.fromNs = options.fromNs ?? 0;
    this.toNs = options.toNs ?? Infinity;
    this.maxBytes = options.maxBytes ?? DEFAULT_TRACE_BYTES;
    this.everyBatch = options.everyBatch ?? false;
    this.#eventCap = this.maxBytes;
    this.#shareWindowNs = options.shareWindowNs;
    this.#path = options.path;
    this.out = new JsonBytes(
      options.path === undefined ? undefined : (bytes) => this.#stream(bytes),
    );
  }

  /**
   * Writes `bytes` to the file given (created at the first 4 MiB: a run that fails before leaves
   * no file). A failure is kept for {@linkcode TraceFile.write} to throw; the events stay counted.
   */
  #stream(bytes: Uint8Array): void {
    if (this.#failure !== undefined) return;
    try {
      if (this.#file === undefined) {
        this.#file = openTrace(this.#path!);
        writeAll(this.#file, HEAD);
      }
      writeAll(this.#file, bytes);
    } catch (error) {
      this.#failure = error as Error;
    }
  }

  /** How many bytes the events take so far. */
  get bytes(): number {
    return this.out.total;
  }

  /** Whether the size cap stopped the recording. */
  get full(): boolean {
    return this.cutAtNs !== undefined;
  }

  /**
   * Starts recording `simulation` (call it before the run starts: `SimulateOptions.observe`).
   * `label` names the run's tracks when a file holds several.
   */
  watch(simulation: Simulation, label?: string): TraceRun {
    for (const run of this.#runs) if (run instanceof TraceRun) run.drain();
    const run = new TraceRun(this, simulation, 1000 * (this.#runs.length + 1), label, {
      shareWindowNs: this.#shareWindowNs,
    });
    this.#runs.push(run);
    if (this.cutAtNs !== undefined) run.stopped();
    // Room for the run's share counters (at most 128 windows of each VM it starts with, at 72
    // bytes each), up to a quarter of the cap.
    const vms = internals(simulation).cpu.vms.length;
    this.#eventCap = Math.max(
      this.maxBytes - this.maxBytes / 4,
      this.#eventCap - (MAX_WINDOWS + 1) * 72 * vms,
    );
    return run;
  }

  /**
   * Starts recording a datacenter run (call it before the run starts): its hosts, VMs'
   * placements and migrations, overloads and counters (`datacenter_trace.ts`).
   */
  watchDatacenter(simulation: DatacenterSimulation, label?: string): DatacenterTraceRun {
    for (const run of this.#runs) if (run instanceof TraceRun) run.drain();
    const run = new DatacenterTraceRun(this, simulation, 1000 * (this.#runs.length + 1), label);
    this.#runs.push(run);
    if (this.cutAtNs !== undefined) run.stopped();
    return run;
  }

  /** Adds one event (its JSON text) unless the cap is reached. */
  push(event: string, atNs: number, run: RecordedRun): void {
    if (this.cutAtNs !== undefined) return;
    const out = this.out, start = out.begin();
    out.text(event);
    out.raw(SEPARATOR);
    this.end(start, atNs, run);
  }

  /**
   * Ends an event written into `out` from `start`, its separator `,\n` included: takes it back
   * and stops recording when it passes the cap.
   */
  end(start: number, atNs: number, run: RecordedRun): void {
    if (this.out.total <= this.#eventCap) return;
    this.out.length = start;
    this.cutAtNs = atNs;
    this.cutRun = run.label;
    for (const other of this.#runs) other.stopped(other === run ? atNs : undefined);
  }

  /**
   * Ends a share counter written from `start` (past the events' cap, up to the file's): takes
   * it back and returns false when it passes the cap.
   */
  endCounter(start: number): boolean {
    if (this.out.total <= this.maxBytes) return true;
    this.out.length = start;
    return false;
  }

  /** Ends every run, and returns the trace's last bytes: the metadata and the top level's end. */
  #tail(): Uint8Array {
    for (const run of this.#runs) run.finish();
    const metadata = this.#runs.flatMap((run) => run.metadata());
    const otherData = JSON.stringify({
      generator: "hyperhook",
      window: [this.fromNs, Number.isFinite(this.toNs) ? this.toNs : null],
      ...(this.cutAtNs === undefined ? {} : { cutAtNs: this.cutAtNs, cutRun: this.cutRun }),
    });
    // The events each end with `,\n`; the metadata follows them (there is some whenever there
    // are events: each run names its tracks).
    return bytesOf(`${metadata.join(",\n")}\n],"otherData":${otherData}}\n`);
  }

  /** The trace as UTF-8, in pieces (a long trace is not one string). */
  *chunks(): Generator<Uint8Array> {
    if (this.#path !== undefined) {
      throw new Error(`the trace goes to ${this.#path}: read it there after write()`);
    }
    const tail = this.#tail();
    yield HEAD;
    yield* this.out.chunks();
    yield tail;
  }

  /** The whole trace as text (for tests and small runs). */
  text(): string {
    const decoder = new TextDecoder();
    return [...this.chunks()].map((chunk) => decoder.decode(chunk)).join("");
  }

  /**
   * Writes the trace to `path` (with the file it was given, ends it). Returns the line to tell
   * the user when the size cap cut it, or undefined.
   */
  write(path: string): Promise<string | undefined> {
    try {
      return Promise.resolve(this.#writeNow(path));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #writeNow(path: string): string | undefined {
    if (this.#path !== undefined && path === this.#path) {
      const tail = this.#tail();
      this.out.flush();
      this.#stream(tail);
      this.#file?.close();
      this.#file = undefined;
      if (this.#failure !== undefined) throw this.#failure;
    } else {
      const file = openTrace(path);
      try {
        for (const bytes of this.chunks()) writeAll(file, bytes);
      } finally {
        file.close();
      }
    }
    if (this.cutAtNs === undefined) return undefined;
    return `--trace ${path}: recording stopped at ${formatNs(this.cutAtNs)} simulated${
      this.#runs.length > 1 ? ` of the ${this.cutRun} run` : ""
    }, where the trace reached its size cap of ${
      (this.maxBytes / 1024 / 1024).toFixed(0)
    } MiB (--trace-cap); trace less with --trace-window FROM..TO or raise --trace-cap`;
  }
}

const SEPARATOR = bytesOf(",\n");
const HEAD = bytesOf(`{"traceEvents":[\n`);

/** Creates (or empties) the file at `path`, and the folder it is in. */
function openTrace(path: string): Deno.FsFile {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
  return Deno.openSync(path, { write: true, create: true, truncate: true });
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
}
