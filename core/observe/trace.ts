/**
 * `--trace FILE`: a run as a Chrome JSON trace (the trace event format), which ui.perfetto.dev and
 * chrome://tracing open.
 *
 * - one track per pCPU, with a complete (`X`) slice per vCPU run, named `VM/vCPU`, with
 *   `args.vm`, `args.vcpu`, the slice given and why the run stopped: a VM's slices add up to its
 *   `runNs`;
 * - per VM, counters: runnable vCPUs, its share of the host over a window, resident frames;
 * - one track per disk with each request in service as a slice (and each head movement the policy
 *   ordered): a disk's slices add up to its `busyNs`; the time each request spent queued is an
 *   async slice beside it;
 * - one track per domain's policy with each batch (its queries and the answer) and each decision
 *   that is no slice as instant events;
 * - incidents, policy swaps, parameter changes and timeline events as global (marked) instants.
 *
 * The trace is built from the run's decision log and the batches its policies are sent; a run
 * without `--trace` does none of this. Times are in µs with ns precision (three decimals).
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import { CPU_LOG } from "../cpu/domain.ts";
import { MEMORY_LOG } from "../memory/domain.ts";
import { IO_LOG } from "../io/domain.ts";
import { CPU_OP, IO_OP, STOP_REASONS } from "../protocol/ops.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Simulation } from "../simulation/mod.ts";
import type { SimulationParts } from "../simulation/build.ts";
import { internals } from "../simulation/internals.ts";
import { DecisionNames, formatNs } from "./decisions.ts";
import { watchBatches } from "./batches.ts";
import { bytesOf, JsonBytes } from "./_json_bytes.ts";

const SEPARATOR = bytesOf(",\n");
const TID = bytesOf(`,"tid":`);
const STOP_BYTES: Record<string, Uint8Array> = {};
const DUR = bytesOf(`,"dur":`);
const CLOSE = bytesOf("}");
const C_PID = bytesOf(`{"ph":"C","pid":`);
const TS = bytesOf(`,"ts":`);
const ARGS_CLOSE = bytesOf("}}");
const NULL = bytesOf("null");
const I_PID = bytesOf(`{"ph":"i","s":"t","pid":`);
const NAME = bytesOf(`,"name":"`);
const QUOTE_TS = bytesOf(`","ts":`);
const NOTIFICATIONS = bytesOf(`,"args":{"notifications":`);
const QUERIES = bytesOf(`,"queries":[`);
const ANSWERS = bytesOf(`],"answers":[`);
const OPEN = bytesOf("[");
const CLOSE_LIST = bytesOf("]");
const COMMA = bytesOf(",");
const QUOTE = bytesOf(`"`);
const RUNNABLE = bytesOf(`,"name":"runnable","args":{"vCPUs":`);
const SHARE = bytesOf(`,"name":"share","args":{"%":`);
const RESIDENT = bytesOf(`,"name":"resident","args":{"frames":`);
const QUERY_BYTES: Record<Domain, { bytes: Uint8Array; arg: boolean }[]> = {
  cpu: [],
  memory: [],
  io: [],
  placement: [],
};

/** Options of a trace file. */
export interface TraceOptions {
  /** Record only what happens from this simulated time on (ns; default 0). */
  fromNs?: number;
  /** Record only what happens before this simulated time (ns; default: the end). */
  toNs?: number;
  /** Stop recording once the trace holds this many bytes (default 256 MiB). */
  maxBytes?: number;
  /** The window of the share counters (ns; default 1/100 of `stopAt`, at least 1 ms, else 100 ms). */
  shareWindowNs?: number;
}

/** The default size cap of a trace: 256 MiB. */
export const DEFAULT_TRACE_BYTES = 256 * 1024 * 1024;

const QUERY_NAMES: Record<Domain, Record<number, string>> = {
  cpu: { 20: "dispatch", 21: "preempt", 22: "tick", 23: "timer", 24: "sync" },
  memory: { 20: "victim", 21: "reclaim", 22: "balance" },
  io: { 20: "dispatch" },
  placement: {},
};
const DOMAIN_TID: Record<Domain, number> = { cpu: 1, memory: 2, io: 3, placement: 4 };
const QUERY_ARG: Record<string, string> = {
  "cpu dispatch": "pCPU",
  "cpu preempt": "vCPU",
  "cpu tick": "pCPU",
  "io dispatch": "disk",
};

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
  readonly out: JsonBytes = new JsonBytes();
  readonly #encoder = new TextEncoder();
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
  readonly #shareWindowNs: number | undefined;
  #runs: TraceRun[] = [];

  /** @param options Window, size cap, share window. */
  constructor(options: TraceOptions = {}) {
    this.fromNs = options.fromNs ?? 0;
    this.toNs = options.toNs ?? Infinity;
    this.maxBytes = options.maxBytes ?? DEFAULT_TRACE_BYTES;
    this.#shareWindowNs = options.shareWindowNs;
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
    const run = new TraceRun(this, simulation, 1000 * (this.#runs.length + 1), label, {
      shareWindowNs: this.#shareWindowNs,
    });
    this.#runs.push(run);
    return run;
  }

  /** Adds one event (its JSON text) unless the cap is reached. */
  push(event: string, atNs: number, run: TraceRun): void {
    if (this.cutAtNs !== undefined) return;
    const start = this.out.begin();
    this.out.text(event);
    this.end(start, atNs, run);
  }

  /**
   * Ends an event written into `out` from `start`: adds the separator, or takes the event back
   * and stops recording when it passes the cap.
   */
  end(start: number, atNs: number, run: TraceRun): void {
    const out = this.out;
    out.raw(SEPARATOR);
    if (out.total <= this.maxBytes) return;
    out.length = start;
    this.cutAtNs = atNs;
    this.cutRun = run.label;
  }

  /** The trace as UTF-8, in pieces (a long trace is not one string). */
  *chunks(): Generator<Uint8Array> {
    for (const run of this.#runs) run.finish();
    const encoder = this.#encoder;
    yield encoder.encode(`{"displayTimeUnit":"ns","otherData":${
      JSON.stringify({
        generator: "hyperhook",
        window: [this.fromNs, Number.isFinite(this.toNs) ? this.toNs : null],
        ...(this.cutAtNs === undefined ? {} : { cutAtNs: this.cutAtNs, cutRun: this.cutRun }),
      })
    },"traceEvents":[\n`);
    const metadata = this.#runs.flatMap((run) => run.metadata());
    yield encoder.encode(metadata.join(",\n") + (this.bytes > 0 ? ",\n" : "\n"));
    // The events without the last separator.
    if (this.bytes > 0) yield* this.out.chunks(2);
    yield encoder.encode("\n]}\n");
  }

  /** The whole trace as text (for tests and small runs). */
  text(): string {
    const decoder = new TextDecoder();
    return [...this.chunks()].map((chunk) => decoder.decode(chunk)).join("");
  }

  /**
   * Writes the trace to `path`. Returns the line to tell the user when the size cap cut it, or
   * undefined.
   */
  async write(path: string): Promise<string | undefined> {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      for (const bytes of this.chunks()) {
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      }
    } finally {
      file.close();
    }
    if (this.cutAtNs === undefined) return undefined;
    return `--trace ${path}: recording stopped at ${formatNs(this.cutAtNs)} simulated${
      this.#runs.length > 1 ? ` of the ${this.cutRun} run` : ""
    }, where the trace reached its size cap of ${
      (this.maxBytes / 1024 / 1024).toFixed(0)
    } MiB (--trace-cap); trace less with --trace-window FROM..TO or raise --trace-cap`;
  }
}

/** A batch asked of a domain's policy: its queries (opcode, first argument), until answered. */
interface Asked {
  waiting: boolean;
  atNs: number;
  notifications: number;
  ops: number[];
  args: number[];
}

function asking(): Asked {
  return { waiting: false, atNs: 0, notifications: 0, ops: [], args: [] };
}

/** One run recorded into a {@linkcode TraceFile}. */
export class TraceRun {
  /** The run's label, when the file holds several. */
  readonly label: string | undefined;
  readonly #file: TraceFile;
  readonly #simulation: Simulation;
  /** The simulation's kernel and domains, which name what the records number. */
  readonly #parts: SimulationParts;
  readonly #names: DecisionNames;
  readonly #pid: number;
  readonly #from: number;
  readonly #to: number;
  /** Per pCPU: the vCPU running (-1: none), since when, with what slice. */
  #running: Int32Array;
  #runningSince: Float64Array;
  #runningSlice: Float64Array;
  /** Per vCPU: the cached start of its slices' JSON (`"name":…,"args":{"vm":…,"vcpu":…`). */
  #vcpuText: Uint8Array[] = [];
  /** `{"ph":"X","pid":…,"tid":` of this run's pCPU slices. */
  #xPrefix: Uint8Array;
  /** Per vCPU: its VM index + 1 (0: not looked up yet). */
  #vcpuVm = new Int32Array(64);
  #vcpuNames: Uint8Array[] = [];
  /** Per vCPU: runnable (as the CPU batches told). */
  #runnable = new Uint8Array(64);
  /** Per VM: runnable vCPUs, run time in closed slices, resident frames. */
  #vmRunnable: number[] = [];
  #vmRunNs: number[] = [];
  #vmRunNsAtWindow: number[] = [];
  #vmShare: number[] = [];
  #vmResident: number[] = [];
  /** Per frame: the VM index holding it + 1 (0: free). */
  #frameVm = new Int32Array(0);
  /** The share window. */
  #windowNs: number;
  #windowEnd: number;
  /** Per disk: the job in service (end ns, or -1) and its event's text without `dur`. */
  #diskEnd: number[] = [];
  #diskStart: number[] = [];
  #diskText: string[] = [];
  /** Requests queued at the policy: id → submitted ns. */
  #submitted = new Map<number, number>();
  /** The batch asked of each domain, waiting for its answer. */
  /** The batch asked of each domain, waiting for its answer. */
  #asked: Record<Domain, Asked> = {
    cpu: asking(),
    memory: asking(),
    io: asking(),
    placement: asking(),
  };
  #finished = false;
  #vmsSeen = 0;
  #disksSeen = 0;

  /**
   * Use {@linkcode TraceFile.watch}.
   *
   * @ignore
   */
  constructor(
    file: TraceFile,
    simulation: Simulation,
    pid: number,
    label: string | undefined,
    options: { shareWindowNs?: number },
  ) {
    this.#file = file;
    this.#simulation = simulation;
    this.#parts = internals(simulation);
    this.#names = new DecisionNames(simulation);
    this.#pid = pid;
    this.label = label;
    this.#from = file.fromNs;
    this.#to = file.toNs;
    this.#xPrefix = bytesOf(`{"ph":"X","pid":${pid + 1},"tid":`);
    const pcpus = internals(simulation).cpu.pcpus.length;
    this.#running = new Int32Array(pcpus).fill(-1);
    this.#runningSince = new Float64Array(pcpus);
    this.#runningSlice = new Float64Array(pcpus);
    const stopAt = simulation.stopAtNs;
    this.#windowNs = options.shareWindowNs ??
      (stopAt === undefined ? 100_000_000 : Math.max(1_000_000, Math.round(stopAt / 100)));
    this.#windowEnd = this.#windowNs;
    const frames = internals(simulation).memory?.frames ?? 0;
    this.#frameVm = new Int32Array(frames);
    internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) =>
      this.#record(domain, kind, atNs, a, b, c)
    );
    watchBatches(simulation, {
      batch: (domain, batch) => this.#batch(domain, batch),
      reply: (domain, reply) => this.#reply(domain, reply),
    });
  }

  #push(event: string, atNs: number): void {
    this.#file.push(event, atNs, this);
  }

  #inWindow(atNs: number): boolean {
    return atNs >= this.#from && atNs < this.#to;
  }

  /** Adds the complete slice `[start, end)` of `text` (clipped to the window). */
  #slice(text: string, startNs: number, endNs: number): void {
    const start = Math.max(startNs, this.#from), end = Math.min(endNs, this.#to);
    if (end < start || (end === start && !this.#inWindow(startNs))) return;
    this.#push(`{"ph":"X",${text},"ts":${start / 1000},"dur":${(end - start) / 1000}}`, start);
  }

  #instant(pidTid: string, name: string, atNs: number, args: string, global = false): void {
    if (!this.#inWindow(atNs)) return;
    this.#push(
      `{"ph":"i","s":"${global ? "g" : "t"}",${pidTid},"name":${JSON.stringify(name)},"ts":${
        atNs / 1000
      },"args":${args}}`,
      atNs,
    );
  }

  #counter(vm: number, counter: Uint8Array, value: number, atNs: number): void {
    const file = this.#file;
    if (!this.#inWindow(atNs) || file.cutAtNs !== undefined) return;
    const out = file.out, start = out.begin();
    out.raw(C_PID);
    out.number(this.#pid + 100 + vm);
    out.raw(counter);
    out.number(value);
    out.raw(CLOSE);
    out.raw(TS);
    out.micros(atNs);
    out.raw(CLOSE);
    file.end(start, atNs, this);
  }

  /** `,"name":"VM/i","cat":"vcpu","args":{"vm":"VM","vcpu":i,"sliceNs":` of a vCPU, as bytes. */
  #vcpuLabel(id: number): Uint8Array {
    let bytes = this.#vcpuText[id];
    if (bytes === undefined) {
      const { vm, index } = this.#names.vcpu(id);
      const name = this.#names.vm(vm);
      bytes = bytesOf(
        `,"name":${JSON.stringify(`${name}/${index}`)},"cat":"vcpu","args":{"vm":${
          JSON.stringify(name)
        },"vcpu":${index},"sliceNs":`,
      );
      this.#vcpuText[id] = bytes;
    }
    return bytes;
  }

  /** The VM index of a vCPU (cached: asked at every slice and counter). */
  #vmOf(vcpu: number): number {
    let table = this.#vcpuVm;
    if (vcpu >= table.length) {
      table = new Int32Array(Math.max(vcpu + 1, 2 * table.length));
      table.set(this.#vcpuVm);
      this.#vcpuVm = table;
    }
    const known = table[vcpu]!;
    if (known > 0) return known - 1;
    const vm = this.#names.vcpu(vcpu).vm;
    table[vcpu] = vm + 1;
    return vm;
  }

  /** Emits the share counters of every window that ended by `atNs`. */
  #windows(atNs: number): void {
    while (atNs >= this.#windowEnd) {
      const end = this.#windowEnd, capacity = this.#windowNs * this.#running.length;
      const now = this.#vmRunNs.slice();
      for (let p = 0; p < this.#running.length; p++) {
        const vcpu = this.#running[p]!;
        if (vcpu < 0) continue;
        const vm = this.#vmOf(vcpu);
        now[vm] = (now[vm] ?? 0) + end - this.#runningSince[p]!;
      }
      const vms = this.#parts.cpu.vms.length;
      for (let vm = 0; vm < vms; vm++) {
        const ran = (now[vm] ?? 0) - (this.#vmRunNsAtWindow[vm] ?? 0);
        this.#vmRunNsAtWindow[vm] = now[vm] ?? 0;
        // A counter holds its value until the next: only changes are written.
        const share = Math.round(1e4 * ran / capacity) / 100;
        if (share === this.#vmShare[vm]) continue;
        this.#vmShare[vm] = share;
        this.#counter(vm, SHARE, share, end - this.#windowNs);
      }
      this.#windowEnd += this.#windowNs;
    }
  }

  #record(domain: number, kind: number, atNs: number, a: number, b: number, c: number): void {
    if (atNs >= this.#windowEnd) this.#windows(atNs);
    if (domain === LOG.cpu) {
      if (kind === CPU_LOG.RUN) {
        this.#running[b] = a;
        this.#runningSince[b] = atNs;
        this.#runningSlice[b] = c;
        return;
      }
      if (kind === CPU_LOG.STOP) {
        if (this.#running[b] !== a) return;
        this.#running[b] = -1;
        this.#closeRun(b, a, atNs, STOP_REASONS[c] ?? String(c));
        return;
      }
    } else if (domain === LOG.memory) {
      this.#memory(kind, atNs, a, b);
    } else if (domain === LOG.io) {
      if (kind === IO_LOG.START || kind === IO_LOG.SEEK) {
        const disk = kind === IO_LOG.START ? b : a;
        this.#endService(disk, Infinity);
        let text: string;
        if (kind === IO_LOG.START) {
          const vm = this.#names.requestVm.get(a);
          const vmText = vm === undefined ? "" : `,"vm":${JSON.stringify(this.#names.vm(vm))}`;
          text = `"pid":${
            this.#pid + 2
          },"tid":${disk},"name":"request ${a}","cat":"io","args":{"request":${a}${vmText},"serviceNs":${c}}`;
          const submitted = this.#submitted.get(a);
          if (submitted !== undefined) {
            this.#submitted.delete(a);
            this.#queued(disk, a, submitted, atNs, vmText);
          }
        } else {
          text = `"pid":${
            this.#pid + 2
          },"tid":${disk},"name":"seek to ${b}","cat":"seek","args":{"cylinder":${b},"serviceNs":${c}}`;
        }
        this.#diskStart[disk] = atNs;
        this.#diskEnd[disk] = atNs + c;
        this.#diskText[disk] = text;
        this.#disksSeen = Math.max(this.#disksSeen, disk + 1);
        return;
      }
    } else if (domain === LOG.kernel) {
      const decision = this.#names.describe(domain, kind, atNs, a, b, c);
      const name = decision.decision === "swap"
        ? `swap: ${decision.affects} policy ${decision.policy}`
        : `eject: ${decision.affects} policy`;
      this.#instant(`"pid":${this.#pid + 3},"tid":0`, name, atNs, JSON.stringify(decision), true);
      return;
    }
    const decision = this.#names.describe(domain, kind, atNs, a, b, c);
    const args = JSON.stringify(decision);
    const isParams = decision.decision === "params" || decision.decision === "target";
    const tid = domain === LOG.cpu ? 1 : domain === LOG.memory ? 2 : 3;
    if (isParams) {
      const vm = this.#parts.cpu.vms.find((v) => v.id === decision.vm);
      const params = domain === LOG.cpu && vm !== undefined ? JSON.stringify(vm.params) : args;
      this.#instant(
        `"pid":${this.#pid + 3},"tid":${tid}`,
        `params: ${decision.vm} (${decision.domain})`,
        atNs,
        params,
        true,
      );
      return;
    }
    this.#instant(
      `"pid":${this.#pid + 3},"tid":${tid}`,
      `${decision.decision}${decision.vm === undefined ? "" : ` ${decision.vm}`}`,
      atNs,
      args,
    );
  }

  #closeRun(pcpu: number, vcpu: number, endNs: number, stop: string): void {
    const startNs = this.#runningSince[pcpu]!, slice = this.#runningSlice[pcpu]!;
    const vm = this.#vmOf(vcpu);
    this.#vmRunNs[vm] = (this.#vmRunNs[vm] ?? 0) + endNs - startNs;
    const file = this.#file;
    const start = Math.max(startNs, this.#from), end = Math.min(endNs, this.#to);
    if (end < start || (end === start && !this.#inWindow(startNs))) return;
    if (file.cutAtNs !== undefined) return;
    const out = file.out, at = out.begin();
    // Fewer, longer pieces: the run's prefix, the vCPU's names, the stop reason with what follows.
    out.raw(this.#xPrefix);
    out.number(pcpu);
    out.raw(this.#vcpuLabel(vcpu));
    if (Number.isFinite(slice)) out.number(slice);
    else out.raw(NULL);
    out.raw(STOP_BYTES[stop] ??= bytesOf(`,"stop":"${stop}"},"ts":`));
    out.micros(start);
    out.raw(DUR);
    out.micros(end - start);
    out.raw(CLOSE);
    file.end(at, start, this);
  }

  /** Ends disk `disk`'s job in service, at its end or at `atNs`, whichever is first. */
  #endService(disk: number, atNs: number): void {
    const end = this.#diskEnd[disk];
    if (end === undefined || end < 0) return;
    this.#diskEnd[disk] = -1;
    this.#slice(this.#diskText[disk]!, this.#diskStart[disk]!, Math.min(end, atNs));
  }

  #queued(disk: number, id: number, fromNs: number, toNs: number, vmText: string): void {
    const start = Math.max(fromNs, this.#from), end = Math.min(toNs, this.#to);
    if (end < start) return;
    const common = `"pid":${
      this.#pid + 2
    },"tid":${disk},"cat":"queue","name":"queued","id":${id},"args":{"request":${id}${vmText}}`;
    this.#push(`{"ph":"b",${common},"ts":${start / 1000}}`, start);
    this.#push(`{"ph":"e",${common},"ts":${end / 1000}}`, end);
  }

  #memory(kind: number, atNs: number, frame: number, vm: number): void {
    const owners = this.#frameVm;
    if (kind === MEMORY_LOG.LOAD || kind === MEMORY_LOG.EVICT) {
      const before = (owners[frame] ?? 0) - 1;
      if (before >= 0) this.#resident(before, -1, atNs);
      owners[frame] = kind === MEMORY_LOG.LOAD ? vm + 1 : 0;
      if (kind === MEMORY_LOG.LOAD) this.#resident(vm, 1, atNs);
    } else if (kind === MEMORY_LOG.REMOVE) {
      // `frame` is the VM here: its frames are freed with it.
      for (let f = 0; f < owners.length; f++) if (owners[f] === frame + 1) owners[f] = 0;
      this.#vmResident[frame] = 0;
      this.#counter(frame, RESIDENT, 0, atNs);
    }
  }

  #resident(vm: number, delta: number, atNs: number): void {
    const value = (this.#vmResident[vm] ?? 0) + delta;
    this.#vmResident[vm] = value;
    this.#counter(vm, RESIDENT, value, atNs);
  }

  #batch(domain: Domain, batch: Batch): void {
    const nums = batch.nums, length = batch.length, now = this.#parts.kernel.now;
    const asked = this.#asked[domain];
    asked.ops.length = 0;
    asked.args.length = 0;
    let notifications = 0;
    for (let i = 0; i < length;) {
      const op = nums[i]!, atNs = nums[i + 1]!, count = nums[i + 2]!, args = i + 3;
      i = args + count;
      if (op >= 20) {
        asked.ops.push(op);
        asked.args.push(count > 0 ? nums[args]! : NaN);
        continue;
      }
      notifications++;
      if (domain === "cpu") this.#cpuCall(op, atNs, nums, args);
      else if (domain === "io" && op === IO_OP.SUBMIT) {
        const id = nums[args]!, vm = nums[args + 1]!;
        this.#names.requestVm.set(id, vm);
        if (nums[args + 9] === 0) this.#submitted.set(id, nums[args + 7]!);
      }
    }
    asked.waiting = asked.ops.length > 0 && this.#inWindow(now);
    asked.atNs = now;
    asked.notifications = notifications;
  }

  /** Writes a query's name: `dispatch pCPU 3`. */
  #query(domain: Domain, op: number, arg: number): void {
    const out = this.#file.out;
    const names = QUERY_BYTES[domain];
    let name = names[op];
    if (name === undefined) {
      const word = QUERY_NAMES[domain][op] ?? `op ${op}`;
      const what = QUERY_ARG[`${domain} ${word}`];
      name = names[op] = {
        bytes: bytesOf(what === undefined ? word : `${word} ${what} `),
        arg: what !== undefined,
      };
    }
    out.raw(name.bytes);
    if (name.arg) out.number(arg);
  }

  #reply(domain: Domain, reply: Reply): void {
    const asked = this.#asked[domain], file = this.#file;
    if (!asked.waiting) return;
    asked.waiting = false;
    if (file.cutAtNs !== undefined) return;
    const out = file.out, at = out.begin(), ops = asked.ops, args = asked.args;
    out.raw(I_PID);
    out.number(this.#pid + 3);
    out.raw(TID);
    out.number(DOMAIN_TID[domain]);
    out.raw(NAME);
    this.#query(domain, ops[0]!, args[0]!);
    if (ops.length > 1) {
      out.text(" +");
      out.number(ops.length - 1);
    }
    out.raw(QUOTE_TS);
    out.micros(asked.atNs);
    out.raw(NOTIFICATIONS);
    out.number(asked.notifications);
    out.raw(QUERIES);
    for (let q = 0; q < ops.length; q++) {
      if (q > 0) out.raw(COMMA);
      out.raw(QUOTE);
      this.#query(domain, ops[q]!, args[q]!);
      out.raw(QUOTE);
    }
    out.raw(ANSWERS);
    // The answer, query by query: `[count, ...values]` each; a CPU dispatch's pairs name the vCPU.
    const nums = reply.nums;
    for (let i = 0, q = 0; i < reply.length && q < ops.length; q++) {
      const count = nums[i]!, pairs = domain === "cpu" && ops[q] === CPU_OP.DISPATCH;
      if (q > 0) out.raw(COMMA);
      out.raw(OPEN);
      for (let k = 0; k < count && k < 64; k++) {
        if (k > 0) out.raw(COMMA);
        const value = nums[i + 1 + k]!;
        if (pairs && k % 2 === 0 && value >= 0) {
          out.raw(QUOTE);
          out.raw(this.#vcpuName(value));
          out.raw(QUOTE);
        } else out.number(value);
      }
      out.raw(CLOSE_LIST);
      i += 1 + count;
    }
    out.raw(CLOSE_LIST);
    out.raw(ARGS_CLOSE);
    file.end(at, asked.atNs, this);
  }

  /** `VM/vCPU` of a vCPU (JSON-escaped, without quotes), as bytes. */
  #vcpuName(id: number): Uint8Array {
    let name = this.#vcpuNames[id];
    if (name === undefined) {
      const vcpu = this.#names.vcpu(id);
      name = bytesOf(JSON.stringify(`${this.#names.vm(vcpu.vm)}/${vcpu.index}`).slice(1, -1));
      this.#vcpuNames[id] = name;
    }
    return name;
  }

  #cpuCall(op: number, atNs: number, nums: Float64Array, args: number): void {
    if (op === CPU_OP.ENQUEUE) this.#setRunnable(nums[args]!, 1, atNs);
    else if (op === CPU_OP.STOPPING) {
      const reason = nums[args + 2]!;
      if (reason === 1 || reason === 2) this.#setRunnable(nums[args]!, 0, atNs);
    } else if (op === CPU_OP.VM_REMOVE) {
      const vm = this.#parts.cpu.vms[nums[args]!];
      for (const id of vm?.vcpus ?? []) this.#setRunnable(id, 0, atNs);
    }
  }

  #setRunnable(vcpu: number, value: number, atNs: number): void {
    if (vcpu >= this.#runnable.length) {
      const bigger = new Uint8Array(Math.max(vcpu + 1, this.#runnable.length * 2));
      bigger.set(this.#runnable);
      this.#runnable = bigger;
    }
    if (this.#runnable[vcpu] === value) return;
    this.#runnable[vcpu] = value;
    const vm = this.#vmOf(vcpu);
    const count = (this.#vmRunnable[vm] ?? 0) + (value === 1 ? 1 : -1);
    this.#vmRunnable[vm] = count;
    this.#counter(vm, RUNNABLE, count, atNs);
  }

  /** Closes what is still open at the end of the run; adds incidents and timeline events. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const simulation = this.#simulation, end = simulation.nowNs;
    this.#windows(end);
    for (let p = 0; p < this.#running.length; p++) {
      const vcpu = this.#running[p]!;
      if (vcpu < 0) continue;
      this.#running[p] = -1;
      this.#closeRun(p, vcpu, end, "end of run");
    }
    for (let disk = 0; disk < this.#diskEnd.length; disk++) this.#endService(disk, end);
    for (const incident of internals(simulation).kernel.incidents) {
      this.#instant(
        `"pid":${this.#pid + 3},"tid":${DOMAIN_TID[incident.domain]}`,
        `incident: ${incident.domain} policy ${incident.policy} ejected (${incident.kind}/${incident.reason})`,
        incident.atNs,
        JSON.stringify(incident),
        true,
      );
    }
    for (const change of simulation.workload.timeline) {
      this.#instant(
        `"pid":${this.#pid + 3},"tid":0`,
        `timeline: ${change.vm}`,
        change.at,
        JSON.stringify(change),
        true,
      );
    }
    this.#vmsSeen = internals(simulation).cpu.vms.length;
    this.#disksSeen = Math.max(this.#disksSeen, internals(simulation).io?.disks.length ?? 0);
  }

  /** The metadata events naming the run's processes and tracks. */
  metadata(): string[] {
    const prefix = this.label === undefined ? "" : `${this.label}: `;
    const out: string[] = [];
    const process = (pid: number, name: string, sort: number) => {
      out.push(
        `{"ph":"M","pid":${pid},"name":"process_name","args":{"name":${
          JSON.stringify(prefix + name)
        }}}`,
        `{"ph":"M","pid":${pid},"name":"process_sort_index","args":{"sort_index":${sort}}}`,
      );
    };
    const thread = (pid: number, tid: number, name: string) =>
      out.push(
        `{"ph":"M","pid":${pid},"tid":${tid},"name":"thread_name","args":{"name":${
          JSON.stringify(name)
        }}}`,
      );
    process(this.#pid + 1, "pCPUs", this.#pid + 1);
    for (let p = 0; p < this.#running.length; p++) thread(this.#pid + 1, p, `pCPU ${p}`);
    if (this.#disksSeen > 0) {
      process(this.#pid + 2, "disks", this.#pid + 2);
      for (let d = 0; d < this.#disksSeen; d++) {
        thread(this.#pid + 2, d, `disk ${this.#names.disk(d)}`);
      }
    }
    process(this.#pid + 3, "policies", this.#pid + 3);
    thread(this.#pid + 3, 0, "kernel");
    for (const domain of this.#parts.kernel.domains) {
      thread(this.#pid + 3, DOMAIN_TID[domain.name], `${domain.name} policy`);
    }
    for (let vm = 0; vm < this.#vmsSeen; vm++) {
      process(this.#pid + 100 + vm, `VM ${this.#names.vm(vm)}`, this.#pid + 100 + vm);
    }
    return out;
  }
}
