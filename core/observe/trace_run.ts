/**
 * One run recorded into a trace file ({@linkcode TraceFile} in `trace.ts`): the events of its
 * decision log and its policies' batches, written as bytes as the run goes.
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
import { DecisionNames } from "./decisions.ts";
import { watchBatches } from "./batches.ts";
import { bytesOf, put, putHundredths, putInteger, putMicros, putNumber } from "./_json_bytes.ts";
import type { TraceFile } from "./trace.ts";
import { TrackNames } from "./_track_names.ts";

const DUR = bytesOf(`,"dur":`);
const END = bytesOf("},\n");
const ARGS_END = bytesOf("]]}},\n");
const ANSWER_END = bytesOf("]}},\n");
const NAME = bytesOf(`,"name":"`);
const NOTIFICATIONS = bytesOf(`","args":{"notifications":`);
const QUERIES = bytesOf(`,"queries":[`);
const ANSWERS = bytesOf(`],"answers":[`);
const NEXT_ANSWER = bytesOf(`],[`);
const PLUS = bytesOf(" +");
const RUNNABLE = bytesOf(`,"name":"runnable","args":{"vCPUs":`);
const SHARE = bytesOf(`,"name":"share","args":{"%":`);
const RESIDENT = bytesOf(`,"name":"resident","args":{"frames":`);
const COUNTER_TS = bytesOf(`},"ts":`);
/** The stop code of a run still going when the run ended. */
const END_OF_RUN = STOP_REASONS.length;
/**
 * Per stop reason (its code): what follows a slice's `sliceNs`, without and with the batch that
 * started the run. A run that used up its slice (the commonest) has no `stop`: its `dur` is its
 * `sliceNs`.
 */
const STOP_BYTES: Uint8Array[] = [...STOP_REASONS, "end of run"].map((stop) =>
  bytesOf(stop === "slice" ? "" : `,"stop":"${stop}"`)
);
const STOP_BATCH_BYTES: Uint8Array[] = [...STOP_REASONS, "end of run"].map((stop) =>
  bytesOf(`${stop === "slice" ? "" : `,"stop":"${stop}"`},"notifications":`)
);

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

/** Most windows a run's share counters are kept in before two become one. */
export const MAX_WINDOWS = 128;

/**
 * `array[index] = value`, filling the gap before it with `fill`: an index far past the end would
 * turn the array into a dictionary, slow to read at every event.
 */
function setDense<T>(array: T[], index: number, value: T, fill: T): void {
  while (array.length < index) array.push(fill);
  array[index] = value;
}

/** A query's name, and what a batch that asks it alone writes before its notifications' count. */
interface QueryText {
  /** `dispatch pCPU 3` */
  name: Uint8Array;
  /** `,"name":"dispatch pCPU 3","args":{"notifications":` */
  alone: Uint8Array;
}

/** What follows the notifications' count of a batch that asks one query: its answer. */
const ANSWER = bytesOf(`,"answer":[`);

function queryText(name: string): QueryText {
  return { name: bytesOf(name), alone: bytesOf(`,"name":"${name}","args":{"notifications":`) };
}

/** A batch asked of a domain's policy: its queries (opcode, first argument), until answered. */
interface Asked {
  waiting: boolean;
  atNs: number;
  notifications: number;
  count: number;
  ops: Float64Array;
  args: Float64Array;
}

function asking(): Asked {
  return {
    waiting: false,
    atNs: 0,
    notifications: 0,
    count: 0,
    ops: new Float64Array(64),
    args: new Float64Array(64),
  };
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
  /**
   * Per pCPU: the notifications of the batch whose lone dispatch started the run (-1: none, the
   * run's batch, if any, is an instant of its own).
   */
  #runningBatch: Int32Array;
  /**
   * The last CPU batch, when it asked only to dispatch one pCPU and was answered with one vCPU,
   * not written yet: the pCPU (-1: none), when, the vCPU, the slice, the batch's notifications.
   * The run it starts carries it (`#runningBatch`); if it starts no such run before the next CPU
   * batch (the answer was refused, or the VM is gone), it is written as an instant then.
   */
  #pendingPcpu = -1;
  #pendingAt = 0;
  #pendingVcpu = 0;
  #pendingSlice = 0;
  #pendingNotifications = 0;
  /** Per pCPU: `},"tid":…,"ts":` of its slices (the end of their args, then where and when). */
  #tidTs: Uint8Array[];
  /**
   * Per vCPU: the start of its slices (`{"ph":"X","pid":…,"name":…,"args":{"vm":…,"vcpu":…,
   * "sliceNs":`), encoded once.
   */
  #vcpuText: (Uint8Array | undefined)[] = [];
  /**
   * Per vCPU: the start of its slices with the digits of a slice after it (a vCPU is mostly
   * given the same slice again), that slice, and the last one seen (the text is made anew when a
   * slice comes twice in a row).
   */
  #vcpuSliceText: (Uint8Array | undefined)[] = [];
  #vcpuSliceNs = new Float64Array(0);
  #vcpuLastSliceNs = new Float64Array(0);
  /** Per vCPU: its VM index + 1 (0: not looked up yet). */
  #vcpuVm = new Int32Array(64);
  /** Per vCPU: `"VM/i"` (quoted), as a batch's answers name it. */
  #vcpuNames: (Uint8Array | undefined)[] = [];
  /** Per vCPU: runnable (as the CPU batches told). */
  #runnable = new Uint8Array(64);
  /** Per VM: runnable vCPUs, resident frames. */
  #vmRunnable: number[] = [];
  #vmResident: number[] = [];
  /** `{"ph":"C","pid":` */
  #counterHead = bytesOf(`{"ph":"C","pid":`);
  /** Per frame: the VM index holding it + 1 (0: free). */
  #frameVm = new Int32Array(0);
  /** The share counters' window (ns), and whether it may grow (no window given, no `stopAt`). */
  #windowNs: number;
  #windowGrows: boolean;
  /**
   * Per VM: its run time recorded so far (from the trace window's start), of the runs that
   * ended. A run adds to it once, when it ends; the share of a window is the difference of two
   * snapshots of it, not a split of every run into windows.
   */
  #ranNs = new Float64Array(0);
  /**
   * Per window boundary passed (`from + (k + 1) * window`), per VM: its run time up to there,
   * the runs going on then included.
   */
  #snapshots: Float64Array[] = [];
  /**
   * Snapshots dropped when the windows widened, to be reused: fresh memory is slow to come by
   * (each widening dropped half of them; allocating anew was most of what snapshots cost).
   */
  #spareSnapshots: Float64Array[] = [];
  /** The next window boundary to take a snapshot at. */
  #nextBoundary: number;
  /** Per disk: the job in service (end ns, or -1) and its event's text without `dur`. */
  #diskEnd: number[] = [];
  #diskStart: number[] = [];
  #diskText: string[] = [];
  /** Requests queued at the policy: id → submitted ns. */
  #submitted = new Map<number, number>();
  /** The batch asked of each domain, waiting for its answer. */
  #asked: Record<Domain, Asked> = {
    cpu: asking(),
    memory: asking(),
    io: asking(),
    placement: asking(),
  };
  /** Per domain: `{"ph":"i","pid":…,"tid":…,"ts":` of its batches. */
  #batchHead: Record<Domain, Uint8Array>;
  /** Per domain and query opcode: its name, with its argument's for each argument seen. */
  #queryNames: Record<Domain, (QueryText | (QueryText | undefined)[])[]> = {
    cpu: [],
    memory: [],
    io: [],
    placement: [],
  };
  /**
   * Records of the decision log not handled yet, six numbers each: the kernel's hot paths only
   * queue them (a call to the whole recorder there, inlined, slowed the kernel itself), and they
   * are handled in order before the next batch, answer or the end.
   */
  #queue = new Float64Array(6 * 256);
  #queuedRecords = 0;
  /** Where recording stopped (simulated ns of this run) when the size cap was reached. */
  #until = Infinity;
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
    const pcpus = internals(simulation).cpu.pcpus.length;
    this.#running = new Int32Array(pcpus).fill(-1);
    this.#runningSince = new Float64Array(pcpus);
    this.#runningSlice = new Float64Array(pcpus);
    this.#runningBatch = new Int32Array(pcpus).fill(-1);
    this.#tidTs = Array.from({ length: pcpus }, (_, p) => bytesOf(`},"tid":${p},"ts":`));
    const head = (tid: number) => bytesOf(`{"ph":"i","pid":${pid + 3},"tid":${tid},"ts":`);
    this.#batchHead = { cpu: head(1), memory: head(2), io: head(3), placement: head(4) };
    // The share window: as given; else 1/100 of the traced part of the run when its end is
    // known, else it starts at 1 ms and doubles whenever the windows would pass 128.
    const end = Math.min(simulation.stopAtNs ?? Infinity, this.#to);
    this.#windowGrows = options.shareWindowNs === undefined && !Number.isFinite(end);
    this.#windowNs = options.shareWindowNs ??
      Math.max(1_000_000, Number.isFinite(end) ? Math.round((end - this.#from) / 100) : 0);
    this.#nextBoundary = this.#from + this.#windowNs;
    this.#ranNs = new Float64Array(internals(simulation).cpu.vms.length);
    const frames = internals(simulation).memory?.frames ?? 0;
    this.#frameVm = new Int32Array(frames);
    internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) => {
      let i = this.#queuedRecords;
      const queue = this.#queue;
      if (i === queue.length) this.#drain(), i = 0;
      queue[i] = domain, queue[i + 1] = kind, queue[i + 2] = atNs;
      queue[i + 3] = a, queue[i + 4] = b, queue[i + 5] = c;
      this.#queuedRecords = i + 6;
    });
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

  /** Writes a counter event of `vm` at `atNs` into `out` from `at`; returns the offset after. */
  #writeCounter(at: number, vm: number, counter: Uint8Array, value: number, atNs: number): number {
    const out = this.#file.out, buffer = out.buffer;
    let p = put(buffer, at, this.#counterHead);
    p = putInteger(buffer, p, this.#pid + 100 + vm);
    p = put(buffer, p, counter);
    p = putNumber(buffer, p, value);
    p = put(buffer, p, COUNTER_TS);
    p = putMicros(buffer, p, atNs);
    p = put(buffer, p, END);
    out.length = p;
    return p;
  }

  #counter(vm: number, counter: Uint8Array, value: number, atNs: number): void {
    const file = this.#file;
    if (!this.#inWindow(atNs) || file.cutAtNs !== undefined) return;
    const at = file.out.begin();
    this.#writeCounter(at, vm, counter, value, atNs);
    file.end(at, atNs, this);
  }

  /** The start of vCPU `id`'s slices, encoded once. */
  #vcpuLabel(id: number): Uint8Array {
    let bytes = this.#vcpuText[id];
    if (bytes === undefined) {
      const { vm, index } = this.#names.vcpu(id);
      const name = this.#names.vm(vm);
      bytes = bytesOf(
        `{"ph":"X","pid":${this.#pid + 1},"name":${
          JSON.stringify(`${name}/${index}`)
        },"args":{"vm":${JSON.stringify(name)},"vcpu":${index},"sliceNs":`,
      );
      setDense(this.#vcpuText, id, bytes, undefined);
    }
    return bytes;
  }

  /**
   * A slice of `vcpu` was given `slice` (`text`: the start of its slice event, then the slice):
   * when it was given the same the time before, that text is kept for the next.
   */
  #sliceSeen(vcpu: number, slice: number, text: Uint8Array): void {
    if (this.#names.vcpu(vcpu).vm < 0) return;
    if (vcpu >= this.#vcpuSliceNs.length) {
      const length = Math.max(vcpu + 1, 2 * this.#vcpuSliceNs.length);
      const ns = new Float64Array(length).fill(NaN), last = new Float64Array(length).fill(NaN);
      ns.set(this.#vcpuSliceNs);
      last.set(this.#vcpuLastSliceNs);
      this.#vcpuSliceNs = ns;
      this.#vcpuLastSliceNs = last;
    }
    if (this.#vcpuLastSliceNs[vcpu] === slice) {
      this.#vcpuSliceNs[vcpu] = slice;
      setDense(this.#vcpuSliceText, vcpu, text.slice(), undefined);
    }
    this.#vcpuLastSliceNs[vcpu] = slice;
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

  /**
   * Handles the records still queued (the file does before another run starts: the events of
   * this one come first, and count against the cap first).
   *
   * @ignore
   */
  drain(): void {
    if (this.#queuedRecords > 0) this.#drain();
  }

  /** Handles the queued records. */
  #drain(): void {
    const queue = this.#queue, queued = this.#queuedRecords;
    this.#queuedRecords = 0;
    for (let i = 0; i < queued; i += 6) {
      this.#record(
        queue[i]!,
        queue[i + 1]!,
        queue[i + 2]!,
        queue[i + 3]!,
        queue[i + 4]!,
        queue[i + 5]!,
      );
    }
  }

  #record(domain: number, kind: number, atNs: number, a: number, b: number, c: number): void {
    if (domain === LOG.cpu) {
      if (kind === CPU_LOG.RUN) {
        this.#running[b] = a;
        this.#runningSince[b] = atNs;
        this.#runningSlice[b] = c;
        let batch = -1;
        // The batch that asked for this pCPU alone and was answered with this run, now.
        if (
          this.#pendingPcpu === b && this.#pendingAt === atNs && this.#pendingVcpu === a &&
          this.#pendingSlice === c
        ) {
          batch = this.#pendingNotifications;
          this.#pendingPcpu = -1;
        }
        this.#runningBatch[b] = batch;
        return;
      }
      if (kind === CPU_LOG.STOP) {
        if (this.#running[b] !== a) return;
        // Snapshots of the boundaries the run passed, while it still counts as going on.
        if (atNs >= this.#nextBoundary) this.#passBoundaries(atNs);
        this.#running[b] = -1;
        this.#closeRun(b, a, atNs, c);
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

  /** Ends vCPU `vcpu`'s run on pCPU `pcpu` at `endNs` (`stop`: why, a stop reason's code). */
  #closeRun(pcpu: number, vcpu: number, endNs: number, stop: number): void {
    const startNs = this.#runningSince[pcpu]!, slice = this.#runningSlice[pcpu]!;
    const start = Math.max(startNs, this.#from), end = Math.min(endNs, this.#to);
    if (end < start || (end === start && !this.#inWindow(startNs))) return;
    const ran = Math.min(end, this.#until) - start;
    if (ran > 0) this.#addRan(this.#vmOf(vcpu), ran);
    const file = this.#file;
    if (file.cutAtNs !== undefined) return;
    const out = file.out, at = out.begin(), buffer = out.buffer;
    let p: number;
    if (vcpu < this.#vcpuSliceNs.length && this.#vcpuSliceNs[vcpu] === slice) {
      p = put(buffer, at, this.#vcpuSliceText[vcpu]!);
    } else {
      p = put(buffer, at, this.#vcpuLabel(vcpu));
      p = putNumber(buffer, p, slice);
      this.#sliceSeen(vcpu, slice, buffer.subarray(at, p));
    }
    const batch = this.#runningBatch[pcpu]!;
    if (batch < 0) p = put(buffer, p, STOP_BYTES[stop] ?? bytesOf(`,"stop":"${stop}"`));
    else {
      p = put(buffer, p, STOP_BATCH_BYTES[stop] ?? bytesOf(`,"stop":"${stop}","notifications":`));
      p = putInteger(buffer, p, batch);
    }
    p = put(buffer, p, this.#tidTs[pcpu]!);
    p = putMicros(buffer, p, start);
    p = put(buffer, p, DUR);
    p = putMicros(buffer, p, end - start);
    out.length = put(buffer, p, END);
    file.end(at, start, this);
  }

  /** Adds `ns` of run time (inside the trace window) to VM `vm`'s. */
  #addRan(vm: number, ns: number): void {
    if (vm < 0) return;
    let ran = this.#ranNs;
    if (vm >= ran.length) {
      ran = new Float64Array(Math.max(vm + 1, 2 * ran.length));
      ran.set(this.#ranNs);
      this.#ranNs = ran;
    }
    ran[vm] = ran[vm]! + ns;
  }

  /**
   * Takes the snapshots of the window boundaries up to `atNs` (before a run ending then stops
   * counting as going on), widening the windows first when they would pass
   * {@linkcode MAX_WINDOWS} and may.
   */
  #passBoundaries(atNs: number): void {
    const from = this.#from, until = Math.min(this.#until, this.#to);
    const time = Math.min(atNs, until);
    if (this.#windowGrows && Math.floor((time - from) / this.#windowNs) >= MAX_WINDOWS) {
      this.#widen(time);
    }
    const running = this.#running, since = this.#runningSince;
    while (this.#nextBoundary <= atNs) {
      const boundary = this.#nextBoundary, cap = Math.min(boundary, until);
      let snapshot = this.#spareSnapshots.pop();
      if (snapshot === undefined || snapshot.length < this.#ranNs.length) {
        snapshot = this.#ranNs.slice();
      } else {
        snapshot.set(this.#ranNs);
        snapshot.fill(0, this.#ranNs.length);
      }
      for (let p = 0; p < running.length; p++) {
        const vcpu = running[p]!;
        if (vcpu < 0) continue;
        const vm = this.#vmOf(vcpu), start = Math.max(since[p]!, from);
        if (vm < 0 || cap <= start) continue;
        if (vm >= snapshot.length) {
          const bigger = new Float64Array(vm + 1);
          bigger.set(snapshot);
          snapshot = bigger;
        }
        snapshot[vm] = snapshot[vm]! + cap - start;
      }
      this.#snapshots.push(snapshot);
      this.#nextBoundary = from + (this.#snapshots.length + 1) * this.#windowNs;
    }
  }

  /** Doubles the share window until the one holding `atNs` is below {@linkcode MAX_WINDOWS}. */
  #widen(atNs: number): void {
    const last = Math.floor((atNs - this.#from) / this.#windowNs);
    let factor = 1;
    while (Math.floor(last / factor) >= MAX_WINDOWS) factor *= 2;
    this.#windowNs *= factor;
    // The boundaries that stay are every `factor`-th.
    const kept: Float64Array[] = [];
    for (let k = 1; k <= this.#snapshots.length; k++) {
      (k % factor === 0 ? kept : this.#spareSnapshots).push(this.#snapshots[k - 1]!);
    }
    this.#snapshots = kept;
    this.#nextBoundary = this.#from + (kept.length + 1) * this.#windowNs;
  }

  /**
   * The share counters: for each window that starts before `endNs`, each VM's run time over the
   * host's capacity then (a counter holds its value until the next: only changes are written).
   */
  #shares(endNs: number): void {
    const file = this.#file, windowNs = this.#windowNs, pcpus = this.#running.length;
    const vms = this.#vmsSeen, snapshots = this.#snapshots, out = file.out;
    const last = new Float64Array(vms).fill(-1), pid = this.#pid + 100;
    for (let index = 0;; index++) {
      const start = this.#from + index * windowNs;
      if (start >= endNs) return;
      const capacity = (Math.min(start + windowNs, endNs) - start) * pcpus;
      // Run time up to the window's start and end: a snapshot, or (the last) all of it.
      const before = index === 0 ? undefined : snapshots[index - 1];
      const after = start + windowNs < endNs ? snapshots[index] : this.#ranNs;
      for (let vm = 0; vm < vms; vm++) {
        const ran = (after?.[vm] ?? 0) - (before?.[vm] ?? 0);
        // In hundredths of a percent: written as `share / 100`, with two decimals at most.
        const share = Math.round(1e4 * ran / capacity);
        if (share === last[vm]) continue;
        last[vm] = share;
        const at = out.begin(), buffer = out.buffer;
        let p = put(buffer, at, this.#counterHead);
        p = putInteger(buffer, p, pid + vm);
        p = put(buffer, p, SHARE);
        p = putHundredths(buffer, p, share);
        p = put(buffer, p, COUNTER_TS);
        p = putMicros(buffer, p, start);
        out.length = put(buffer, p, END);
        if (!file.endCounter(at)) return;
      }
    }
  }

  /**
   * The size cap stopped the recording, in this run at `atNs` (undefined: in another run, or
   * before this one began; now, then): the share counters stop there too.
   *
   * @ignore
   */
  stopped(atNs?: number): void {
    this.#until = atNs ?? this.#simulation.nowNs;
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
      setDense(this.#vmResident, frame, 0, 0);
      this.#counter(frame, RESIDENT, 0, atNs);
    }
  }

  #resident(vm: number, delta: number, atNs: number): void {
    const value = (this.#vmResident[vm] ?? 0) + delta;
    setDense(this.#vmResident, vm, value, 0);
    this.#counter(vm, RESIDENT, value, atNs);
  }

  #batch(domain: Domain, batch: Batch): void {
    if (this.#queuedRecords > 0) this.#drain();
    const nums = batch.nums, length = batch.length, now = this.#parts.kernel.now;
    const asked = this.#asked[domain], cpu = domain === "cpu";
    // The last answer was applied: a lone dispatch that started no run is an instant after all.
    if (cpu && this.#pendingPcpu >= 0) this.#flushPending();
    let notifications = 0, count = 0;
    for (let i = 0; i < length;) {
      const op = nums[i]!, atNs = nums[i + 1]!, args = i + 3;
      i = args + nums[i + 2]!;
      if (op >= 20) {
        if (count === asked.ops.length) this.#moreRoom(asked);
        asked.ops[count] = op;
        asked.args[count++] = i > args ? nums[args]! : NaN;
        continue;
      }
      notifications++;
      if (cpu) {
        if (op === CPU_OP.ENQUEUE) this.#setRunnable(nums[args]!, 1, atNs);
        else if (op === CPU_OP.STOPPING) {
          const reason = nums[args + 2]!;
          if (reason === 1 || reason === 2) this.#setRunnable(nums[args]!, 0, atNs);
        } else if (op === CPU_OP.VM_REMOVE) {
          const vm = this.#parts.cpu.vms[nums[args]!];
          for (const id of vm?.vcpus ?? []) this.#setRunnable(id, 0, atNs);
        }
      } else if (domain === "io" && op === IO_OP.SUBMIT) {
        const id = nums[args]!, vm = nums[args + 1]!;
        this.#names.requestVm.set(id, vm);
        if (nums[args + 9] === 0) this.#submitted.set(id, nums[args + 7]!);
      }
    }
    asked.count = count;
    asked.waiting = count > 0 && this.#inWindow(now) && this.#file.cutAtNs === undefined;
    asked.atNs = now;
    asked.notifications = notifications;
  }

  #moreRoom(asked: Asked): void {
    const ops = new Float64Array(2 * asked.ops.length), args = new Float64Array(ops.length);
    ops.set(asked.ops);
    args.set(asked.args);
    asked.ops = ops;
    asked.args = args;
  }

  /** A query's name (`dispatch pCPU 3`) and the text of a batch of it alone, encoded once. */
  #query(domain: Domain, op: number, arg: number): QueryText {
    const names = this.#queryNames[domain];
    let name = names[op];
    if (name === undefined) {
      const word = QUERY_NAMES[domain][op] ?? `op ${op}`;
      name = QUERY_ARG[`${domain} ${word}`] === undefined ? queryText(word) : [];
      names[op] = name;
    }
    if (!Array.isArray(name)) return name;
    const key = Number.isSafeInteger(arg) && arg >= 0 && arg < 1 << 20 ? arg : -1;
    let named = key < 0 ? undefined : name[key];
    if (named === undefined) {
      const word = QUERY_NAMES[domain][op] ?? `op ${op}`;
      named = queryText(`${word} ${QUERY_ARG[`${domain} ${word}`]} ${arg}`);
      if (key >= 0) setDense(name, key, named, undefined);
    }
    return named;
  }

  #reply(domain: Domain, reply: Reply): void {
    if (this.#queuedRecords > 0) this.#drain();
    const asked = this.#asked[domain], file = this.#file;
    if (!asked.waiting) return;
    asked.waiting = false;
    if (file.cutAtNs !== undefined) return;
    const ops = asked.ops, args = asked.args, count = asked.count;
    const nums = reply.nums, length = reply.length;
    if (
      !file.everyBatch && domain === "cpu" && count === 1 && ops[0] === CPU_OP.DISPATCH &&
      length >= 3 &&
      nums[0] === 2 && nums[1]! >= 0
    ) {
      // A lone dispatch answered with one vCPU: the run it starts will carry it, if it does.
      const pcpu = args[0]!;
      if (Number.isInteger(pcpu) && pcpu >= 0 && pcpu < this.#running.length) {
        if (this.#pendingPcpu >= 0) this.#flushPending();
        this.#pendingPcpu = pcpu;
        this.#pendingAt = asked.atNs;
        this.#pendingVcpu = nums[1]!;
        this.#pendingSlice = nums[2]!;
        this.#pendingNotifications = asked.notifications;
        return;
      }
    }
    const out = file.out, at = out.begin();
    let buffer = out.buffer;
    let p = put(buffer, at, this.#batchHead[domain]);
    p = putMicros(buffer, p, asked.atNs);
    const first = this.#query(domain, ops[0]!, args[0]!);
    if (count === 1) {
      // Most batches ask one thing: the name says what, `answer` is its answer.
      p = put(buffer, p, first.alone);
      p = putInteger(buffer, p, asked.notifications);
      p = put(buffer, p, ANSWER);
    } else {
      p = put(buffer, p, NAME);
      p = put(buffer, p, first.name);
      p = put(buffer, p, PLUS);
      p = putInteger(buffer, p, count - 1);
      p = put(buffer, p, NOTIFICATIONS);
      p = putInteger(buffer, p, asked.notifications);
      p = put(buffer, p, QUERIES);
      for (let q = 0; q < count; q++) {
        if (q > 0) buffer[p++] = 44; // ","
        buffer[p++] = 34; // '"'
        p = put(buffer, p, this.#query(domain, ops[q]!, args[q]!).name);
        buffer[p++] = 34;
        if (p + 4096 > buffer.length) {
          out.length = p;
          out.room(1 << 16);
          buffer = out.buffer;
        }
      }
      p = put(buffer, p, ANSWERS);
      buffer[p++] = 91; // "["
    }
    // The answer, query by query: `[count, ...values]` each; a CPU dispatch's pairs name the vCPU.
    for (let i = 0, q = 0; i < length && q < count; q++) {
      const values = nums[i]!, pairs = domain === "cpu" && ops[q] === CPU_OP.DISPATCH;
      if (q > 0) p = put(buffer, p, NEXT_ANSWER);
      if (p + 4096 > buffer.length) {
        out.length = p;
        out.room(1 << 16);
        buffer = out.buffer;
      }
      for (let k = 0; k < values && k < 64; k++) {
        if (k > 0) buffer[p++] = 44;
        const value = nums[i + 1 + k]!;
        const name = pairs && k % 2 === 0 && value >= 0 ? this.#vcpuName(value) : undefined;
        if (p + 64 + (name?.length ?? 0) > buffer.length) {
          out.length = p;
          out.room(1 << 16);
          buffer = out.buffer;
        }
        p = name === undefined ? putNumber(buffer, p, value) : put(buffer, p, name);
      }
      i += 1 + values;
    }
    out.length = put(buffer, p, count === 1 ? ANSWER_END : ARGS_END);
    file.end(at, asked.atNs, this);
  }

  /** Writes the pending lone dispatch (it started no run) as an instant. */
  #flushPending(): void {
    const file = this.#file, pcpu = this.#pendingPcpu, atNs = this.#pendingAt;
    this.#pendingPcpu = -1;
    if (pcpu < 0 || file.cutAtNs !== undefined) return;
    const out = file.out, at = out.begin(), buffer = out.buffer;
    let p = put(buffer, at, this.#batchHead.cpu);
    p = putMicros(buffer, p, atNs);
    p = put(buffer, p, this.#query("cpu", CPU_OP.DISPATCH, pcpu).alone);
    p = putInteger(buffer, p, this.#pendingNotifications);
    p = put(buffer, p, ANSWER);
    p = put(buffer, p, this.#vcpuName(this.#pendingVcpu));
    buffer[p++] = 44; // ","
    p = putNumber(buffer, p, this.#pendingSlice);
    out.length = put(buffer, p, ANSWER_END);
    file.end(at, atNs, this);
  }

  /** `"VM/vCPU"` of a vCPU (JSON, quoted), as bytes. */
  #vcpuName(id: number): Uint8Array {
    let name = this.#vcpuNames[id];
    if (name === undefined) {
      const vcpu = this.#names.vcpu(id);
      name = bytesOf(JSON.stringify(`${this.#names.vm(vcpu.vm)}/${vcpu.index}`));
      // Only a vCPU that exists is kept: an answer may name any number (the kernel refuses it),
      // and keeping vCPU 1e9's name would make the table a billion entries long.
      if (vcpu.vm >= 0) setDense(this.#vcpuNames, id, name, undefined);
    }
    return name;
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
    setDense(this.#vmRunnable, vm, count, 0);
    this.#counter(vm, RUNNABLE, count, atNs);
  }

  /**
   * Closes what is still open at the end of the run; adds the share counters, incidents and
   * timeline events.
   */
  finish(): void {
    if (this.#queuedRecords > 0) this.#drain();
    if (this.#finished) return;
    this.#finished = true;
    const simulation = this.#simulation, end = simulation.nowNs;
    this.#flushPending();
    // The boundaries up to the end, while the runs still going on count as such.
    this.#passBoundaries(Math.min(this.#until, end, this.#to));
    // What was recorded ends where the run did, or where the cap stopped it (in this run).
    for (let p = 0; p < this.#running.length; p++) {
      const vcpu = this.#running[p]!;
      if (vcpu < 0) continue;
      this.#running[p] = -1;
      this.#closeRun(p, vcpu, end, END_OF_RUN);
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
    this.#shares(Math.min(this.#until, end, this.#to));
  }

  /** The metadata events naming the run's processes and tracks. */
  metadata(): string[] {
    const tracks = new TrackNames(this.label);
    tracks.process(this.#pid + 1, "pCPUs");
    for (let p = 0; p < this.#running.length; p++) tracks.thread(this.#pid + 1, p, `pCPU ${p}`);
    if (this.#disksSeen > 0) {
      tracks.process(this.#pid + 2, "disks");
      for (let d = 0; d < this.#disksSeen; d++) {
        tracks.thread(this.#pid + 2, d, `disk ${this.#names.disk(d)}`);
      }
    }
    tracks.process(this.#pid + 3, "policies");
    tracks.thread(this.#pid + 3, 0, "kernel");
    for (const domain of this.#parts.kernel.domains) {
      tracks.thread(this.#pid + 3, DOMAIN_TID[domain.name], `${domain.name} policy`);
    }
    for (let vm = 0; vm < this.#vmsSeen; vm++) {
      tracks.process(this.#pid + 100 + vm, `VM ${this.#names.vm(vm)}`);
    }
    return tracks.events;
  }
}
