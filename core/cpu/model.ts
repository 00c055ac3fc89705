/**
 * What the CPU domain keeps: VMs ({@linkcode Vm}), their vCPUs ({@linkcode Vcpu}) and the pCPUs
 * ({@linkcode Pcpu}), with their books; the scheduling itself is `domain.ts`'s.
 *
 * @module
 */

import { DOUBLE } from "../engine/double_fields.ts";
import { Histogram } from "../engine/histogram.ts";
import type { VcpuStatus, VmParams } from "../protocol/payloads.ts";
import type { Program, ProgramCursor } from "./programs.ts";

/** A vCPU's state: not arrived yet, runnable, running, blocked, done. */
export const NEW = 0, READY = 1, RUNNING = 2, BLOCKED = 3, DONE = 4;
/** The states as policies name them, by state. */
export const STATUS: readonly VcpuStatus[] = ["new", "ready", "running", "blocked", "done"];

/** A VM as the kernel keeps it. */
export class Vm {
  /** Index in the workload. */
  readonly index: number;
  /** Name. */
  readonly id: string;
  /** Global ids of its vCPUs. */
  readonly vcpus: number[] = [];
  /** Parameters (the policy gets a copy). */
  params: VmParams;
  /** The program its vCPUs run, or null. */
  readonly program: Program | null;
  /** When it arrives. */
  readonly arriveNs: number;
  /** When its last vCPU finished, or null. */
  finishNs: number | null = null;
  /** Whether it has arrived. */
  arrived = false;
  /** When it was removed (live control), or null. */
  removedNs: number | null = null;
  #latency: Histogram;
  #waits: WaitBuffer;
  /** Per-VM counters CPU policies keep (`ctx.count`), by name. */
  readonly counters: Record<string, number> = {};

  /** @internal */
  constructor(
    index: number,
    id: string,
    params: VmParams,
    program: Program | null,
    arriveNs: number,
    waits: WaitBuffer,
  ) {
    this.index = index;
    this.id = id;
    this.params = params;
    this.program = program;
    this.arriveNs = arriveNs;
    this.#waits = waits;
    this.#latency = waits.add();
  }

  /** Scheduling latencies of its vCPUs (runnable to running). */
  get latency(): Histogram {
    this.#waits.flush(this.index);
    return this.#latency;
  }
}

/**
 * The waits of dispatched vCPUs on their way into their VMs' latency histograms. One histogram per
 * VM is more memory than the caches hold next to the kernel's state (a VM's waits span some twenty
 * powers of two: kilobytes of counts each), so a wait first goes to its VM's segment of one shared
 * array, where the next free place of every VM stays in cache, and a full segment is recorded in
 * one go, its histogram fetched once for all its waits. Reading a VM's histogram records the
 * pending waits first. Counts, sums and extremes do not depend on the order of recording.
 */
export class WaitBuffer {
  /** The VMs' histograms, by VM index. */
  #histograms: Histogram[] = [];
  /** VM `i`'s pending waits are `#waits[i * SEGMENT]` onwards, `#fill[i]` of them. */
  #waits = new Float64Array(16 * SEGMENT);
  #fill = new Int32Array(16);

  /** A histogram for the next VM. */
  add(): Histogram {
    const histogram = new Histogram(), vm = this.#histograms.length;
    if (vm === this.#fill.length) {
      const waits = new Float64Array(this.#waits.length * 2), fill = new Int32Array(vm * 2);
      waits.set(this.#waits);
      fill.set(this.#fill);
      this.#waits = waits;
      this.#fill = fill;
    }
    this.#histograms.push(histogram);
    return histogram;
  }

  /** A wait of `ns` of a vCPU of VM `vm`. */
  record(vm: number, ns: number): void {
    const fill = this.#fill, n = fill[vm]!, waits = this.#waits, histograms = this.#histograms;
    waits[vm * SEGMENT + n] = ns;
    if (n + 1 === SEGMENT) recordWaits(histograms, vm, waits, SEGMENT);
    fill[vm] = n + 1 === SEGMENT ? 0 : n + 1;
  }

  /**
   * From now on, drops the waits instead of recording them: for a copy of the kernel whose report
   * nobody reads (the replay child's), where the histograms would only cost time.
   */
  discard(): void {
    this.#fill.fill(0);
    this.record = () => {};
  }

  /** Records the pending waits of VM `vm`. */
  flush(vm: number): void {
    const count = this.#fill[vm]!;
    if (count === 0) return;
    recordWaits(this.#histograms, vm, this.#waits, count);
    this.#fill[vm] = 0;
  }
}

/** Records VM `vm`'s first `count` pending waits into its histogram. */
function recordWaits(histograms: Histogram[], vm: number, waits: Float64Array, count: number) {
  const histogram = histograms[vm]!, start = vm * SEGMENT;
  for (let i = start; i < start + count; i++) histogram.record(waits[i]!);
}

/** How many waits of one VM are kept before they are recorded (a few cache lines' worth). */
const SEGMENT = 32;

/** A vCPU as the kernel keeps it. */
export class Vcpu {
  /** Global id. */
  readonly id: number;
  /** Its VM. */
  readonly vm: Vm;
  /** Index in the VM. */
  readonly index: number;
  /** Where it is in its program. */
  readonly cursor: ProgramCursor;
  /**
   * Its VM's index and program, copied here so that dispatching and ending a run touch this
   * object only: with thousands of vCPUs served in turn, each object the hot path reads is a cache
   * miss.
   */
  readonly vmIndex: number;
  readonly program: Program | null;
  /** NEW, READY, RUNNING, BLOCKED or DONE. */
  state = NEW;
  /** The pCPU it runs on, or -1. */
  pcpu = -1;
  /** Bumped whenever a pending run-end or wake event goes stale. */
  gen = 0;
  /** What is left of the current run step. */
  remainingNs = DOUBLE;
  /** When it started running, or became ready. */
  sinceNs = DOUBLE;
  /** When it was last switched in. */
  switchedInNs = DOUBLE;
  /** The slice it runs under, as an absolute end time. */
  sliceEndNs = DOUBLE;
  /** CPU time since it last woke (the current burst). */
  burstNs = DOUBLE;
  /** Whether it sits in a pCPU's local queue. */
  queued = false;
  /** CPU time received. */
  runNs = DOUBLE;
  /** Time runnable but not running. */
  waitNs = DOUBLE;
  /** How many times it was put on a pCPU (every applied dispatch). */
  dispatches = 0;
  /** How many times it was switched in on a pCPU that ran another vCPU last. */
  switches = 0;
  /** Whether it is blocked by `CpuDomain.stall` in the middle of a run step. */
  stalled = false;

  /** @internal */
  constructor(id: number, vm: Vm, index: number, cursor: ProgramCursor) {
    this.id = id;
    this.vm = vm;
    this.index = index;
    this.cursor = cursor;
    this.vmIndex = vm.index;
    this.program = vm.program;
    // Doubles from the start (`double_fields.ts`).
    this.remainingNs =
      this.sinceNs =
      this.switchedInNs =
      this.burstNs =
      this.runNs =
        0;
    this.waitNs = 0;
    this.sliceEndNs = Infinity;
  }
}

/** A pCPU. */
export class Pcpu {
  /** Index. */
  readonly index: number;
  /** The vCPU running, or -1. */
  vcpu = -1;
  /** Local queue: vCPU ids and their slices. */
  readonly localVcpus: number[] = [];
  /** Slices of the local queue, parallel to `localVcpus`. */
  readonly localSlices: number[] = [];
  /** Head of the local queue. */
  localHead = 0;
  /** The vCPU it ran last, or -1. */
  lastVcpu = -1;
  /** The instant the policy last declined to give it work. */
  declinedAtNs = DOUBLE;
  /** Time spent running vCPUs. */
  busyNs = DOUBLE;

  /** @internal */
  constructor(index: number) {
    this.index = index;
    // Doubles from the start (`double_fields.ts`).
    this.declinedAtNs = -1;
    this.busyNs = 0;
  }
}

/**
 * Takes a full segment's path once, on a buffer of its own, when the module loads, and with it the
 * histogram's growth: V8 optimizes the kernel's loop (`record` inlined) before a run's first
 * segment fills, and optimized code that reaches a path it never saw run (no type feedback) is
 * thrown away and compiled again, the whole loop with it.
 */
function takePathsOnce(): void {
  const buffer = new WaitBuffer();
  buffer.add();
  // Waits that widen the histogram's span upwards and downwards, doubles and small integers.
  const waits = [2 ** 31, 1, 2 ** 45, 1_000];
  for (let i = 0; i < SEGMENT; i++) buffer.record(0, waits[i % 4]! + i);
}
takePathsOnce();
