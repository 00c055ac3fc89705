/**
 * The CPU domain: pCPUs, VMs and their vCPUs, and the mechanics of running them. The policy
 * decides who runs where and for how long; this file makes it happen, checks every decision, and
 * keeps the books (run, wait, latency, switches).
 *
 * Each pCPU has a local queue (sched_ext's local dispatch queue): a policy may answer one dispatch
 * with several vCPUs, and the pCPU takes them in order before asking again. That is what keeps a
 * sandboxed policy fast: fewer questions, same determinism.
 *
 * Valid decisions could still stretch a short run into hours of work for the kernel (1 ns slices,
 * a timer 1 ns ahead forever, a 1 ns tick), so time is bounded as Xen bounds it (its
 * `sched_ratelimit_us`, credit2's minimum timer, RTDS's minimum budget): a minimum slice, a minimum
 * timer distance and a minimum tick period (`host.cpu`). A tick below the minimum is refused at
 * start. A slice or a timer below its minimum draws on a small allowance that refills by one per
 * minimum of simulated time ({@linkcode SHORT_ALLOWANCE} per pCPU), so that the occasional
 * remainder passes (an RTDS budget's last nanoseconds, a timer that reached the kernel after its
 * time) and a habit does not: with the allowance spent, the decision is `invalid`.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import { Histogram } from "../engine/histogram.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { VcpuControl, VmDomain } from "../kernel/domain.ts";
import { Queries } from "../kernel/_queries.ts";
import { Watchdog } from "../kernel/_watchdog.ts";
import { Periodic } from "../kernel/_periodic.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import type { HostCpuWorkload } from "../workload/types.ts";
import { CPU_OP, DEFAULT_TICK_NS, MAX_COUNTERS, MAX_TIMERS } from "../protocol/ops.ts";
import type { VcpuStatus, VmParams, VmSpec } from "../protocol/payloads.ts";
import type { Reply } from "../protocol/batch.ts";
import type { StartResult } from "../protocol/definition.ts";
import type { BatchWriter, ReplyReader } from "../protocol/batch.ts";
import { invalidDecision as invalid, PolicyFailure } from "../protocol/runtime.ts";
import { type Program, ProgramCursor, STEP } from "./programs.ts";
import { BLOCKED, DONE, Pcpu, READY, RUNNING, STATUS, Vcpu, Vm, WaitBuffer } from "./model.ts";

export { Pcpu, Vcpu, Vm } from "./model.ts";
import { type CpuFigures, cpuFigures } from "./figures.ts";

const REASON_ARRIVE = 0, REASON_WAKE = 1, REASON_PREEMPT = 2, REASON_SLICE = 3, REASON_REPLAY = 4;
const STOP_SLICE = 0, STOP_BLOCK = 1, STOP_DONE = 2, STOP_PREEMPT = 3;

const EV_ARRIVE = 0, EV_RUN_END = 1, EV_WAKE = 2, EV_TICK = 3, EV_PARAMS = 4, EV_WATCHDOG = 5;
/** Does nothing but make the kernel settle an instant (a pCPU freed between `advance` calls). */
const EV_SETTLE = 6;
/** A timer the policy asked for (`ctx.timer`); the tag is the policy generation. */
const EV_TIMER = 7;

/**
 * How many slices shorter than the minimum a pCPU may take in a burst (and timers nearer than the
 * minimum, per pCPU of the host), the allowance refilling by one per minimum of simulated time.
 * The built-in policies never need more than one at a time (RTDS's remainders, credit's
 * rate-limit timers, timers that arrive late).
 *
 * @example
 * ```ts
 * import { SHORT_ALLOWANCE } from "./domain.ts";
 *
 * console.assert(SHORT_ALLOWANCE === 8);
 * ```
 */
export const SHORT_ALLOWANCE = 8;

/** Log kinds of CPU decisions. */
export const CPU_LOG = {
  RUN: 1,
  STOP: 2,
  PREEMPT: 3,
  TICK_PREEMPT: 4,
  PARAMS: 5,
  REMOVE: 6,
  TIMER_PREEMPT: 7,
} as const;

/** What the CPU domain needs to add a VM. */
export interface CpuVm {
  /** Its name. */
  readonly id: string;
  /** How many vCPUs it has. */
  readonly vcpus: number;
  /** Its scheduling parameters (`sched` durations in ns). */
  readonly params: Omit<VmParams, "index">;
  /** The program its vCPUs run, or null (a VM without CPU work). */
  readonly program: Program | null;
  /** When it arrives (ns). */
  readonly arriveNs: number;
}

/** A change of a VM's scheduling parameters. */
export type CpuParamsSet = Partial<Omit<VmParams, "index">>;

/** The CPU domain of a kernel. */
export class CpuDomain implements VmDomain<CpuVm, CpuParamsSet, CpuFigures>, VcpuControl {
  /** Always `cpu`. */
  readonly name = "cpu" as const;
  /** The CPU policy slot. */
  readonly slot: PolicySlot;
  /** The pCPUs. */
  readonly pcpus: Pcpu[];
  /** The VMs, in workload order. */
  readonly vms: Vm[] = [];
  /** All vCPUs, by id. */
  readonly vcpus: Vcpu[] = [];
  /** The id of the VM vCPU `index` belongs to (for incidents that name a hook's vCPU). */
  vmOfVcpu(index: number): string | undefined {
    return this.vcpus[index]?.vm.id;
  }

  /** Keeps no latency histograms from now on (see {@linkcode WaitBuffer.discard}). */
  discardLatencies(): void {
    this.#waits.discard();
  }

  /** Scheduling latency of every vCPU (runnable to running), merged from the VMs'. */
  latency(): Histogram {
    const all = new Histogram();
    for (const vm of this.vms) all.merge(vm.latency);
    return all;
  }
  /** How many vCPUs are ready and in no local queue. */
  #unqueued = 0;
  /** How many vCPUs sit in local queues. */
  #queued = 0;
  /**
   * The pCPUs that run nothing, one bit each (bit `i % 32` of word `i / 32`): `#run` clears a
   * pCPU's bit and `#release` sets it, and settling walks the set bits in index order. A bit set
   * rather than a list, so that neither a dispatch nor a release searches or allocates.
   */
  #idle: Uint32Array;
  /** How many bits of `#idle` are set. */
  #idleCount: number;
  /** Total dispatches. */
  switches = 0;
  /**
   * Called for `{io}` program steps, with the vCPU's id (wired to the I/O domain where the
   * simulation is composed).
   */
  onIoStep: ((vcpu: number, payload: unknown) => void) | undefined;
  /**
   * Called when a vCPU starts running (`true`) and when it leaves its pCPU (`false`), after the
   * change, with the vCPU's id (wired to the memory domain where the simulation is composed: a VM
   * references memory only while its vCPUs run).
   */
  onRunChange: ((vcpu: number, running: boolean) => void) | undefined;
  #kernel: Kernel;
  #base: number;
  #waits = new WaitBuffer();
  #timeline: { atNs: number; vm: number; set: CpuParamsSet }[] = [];
  #queries: Queries;
  #watchdog: Watchdog;
  #tick: Periodic;
  /** The times of the policy's pending timers (`ctx.timer`). */
  #timers = new Set<number>();
  /** The instant of the last SYNC query. */
  #syncedAtNs = -1;
  /** The counter names the policy in charge declared. */
  #counterNames: string[] = [];
  /** Whether the policy in charge takes `preempt` and `sync` queries (asked at every enqueue and settle). */
  #takesPreempt = false;
  #takesSync = false;
  /** The bounds on time: minimum slice, timer distance and tick period (0: none). */
  readonly bounds: Readonly<HostCpuWorkload>;
  /**
   * The allowances of short slices, per pCPU, and of near timers (last entry), and when each was
   * last brought up to date.
   */
  #allowance: Float64Array;
  #allowanceAtNs: Float64Array;

  /**
   * @param kernel The kernel. @param slot The policy slot. @param pcpus How many pCPUs.
   * @param bounds Minimum slice, timer distance and tick period, in ns (`host.cpu`).
   */
  constructor(kernel: Kernel, slot: PolicySlot, pcpus: number, bounds: HostCpuWorkload) {
    this.#kernel = kernel;
    this.slot = slot;
    this.bounds = { ...bounds };
    this.#allowance = new Float64Array(pcpus + 1);
    this.#allowanceAtNs = new Float64Array(pcpus + 1);
    this.pcpus = Array.from({ length: pcpus }, (_, i) => new Pcpu(i));
    this.#idle = new Uint32Array(Math.ceil(pcpus / 32));
    for (let i = 0; i < pcpus; i++) this.#idle[i >>> 5]! |= 1 << (i & 31);
    this.#idleCount = pcpus;
    this.#base = kernel.register(this, 8);
    this.#queries = new Queries(slot);
    this.#watchdog = new Watchdog(kernel, this.#base + EV_WATCHDOG);
    this.#tick = new Periodic(kernel, slot, {
      hook: "tick",
      kind: this.#base + EV_TICK,
      defaultNs: DEFAULT_TICK_NS,
      minimum: { ns: bounds.minTick, name: "host.cpu.minTick" },
    });
    // The watchdog's event, taken once now, when it is not due (it is not armed): a run's first,
    // 30 simulated seconds in, then calls the watchdog from a site with type feedback instead of
    // throwing the kernel's optimized loop away (see `#otherEvent`).
    this.#otherEvent(EV_WATCHDOG, 0, 0);
  }

  /**
   * Adds a VM: its vCPUs get the next ids, and it arrives at `vm.arriveNs`.
   *
   * @param vm Its name, vCPU count, parameters, program and arrival.
   * @returns The VM as the domain keeps it.
   */
  addVm(vm: CpuVm): Vm {
    const index = this.vms.length;
    const added = new Vm(
      index,
      vm.id,
      { index, ...vm.params },
      vm.program,
      vm.arriveNs,
      this.#waits,
    );
    this.vms.push(added);
    for (let i = 0; i < vm.vcpus; i++) {
      const vcpuId = this.vcpus.length;
      const cursor = new ProgramCursor(this.#kernel.rng.fork("vcpu", vcpuId));
      added.vcpus.push(vcpuId);
      this.vcpus.push(new Vcpu(vcpuId, added, i, cursor));
    }
    if (vm.program?.finite) this.#kernel.pendingWork += vm.vcpus;
    this.#kernel.schedule(vm.arriveNs, this.#base + EV_ARRIVE, index);
    return added;
  }

  /** Changes a VM's parameters at `atNs` (workload timeline): an event of the domain. */
  scheduleVmParams(atNs: number, index: number, set: CpuParamsSet): void {
    this.#timeline.push({ atNs, vm: index, set });
    this.#kernel.schedule(atNs, this.#base + EV_PARAMS, this.#timeline.length - 1);
  }

  /** Changes a VM's parameters now (live control); the policy hears of it in its next batch. */
  setVmParams(index: number, set: CpuParamsSet): void {
    const vm = this.vms[index]!;
    vm.params = { ...vm.params, ...set, index: vm.index };
    this.#kernel.log.record(LOG.cpu, CPU_LOG.PARAMS, this.#kernel.now, vm.index, 0, 0);
    if (vm.arrived && vm.removedNs === null) {
      const writer = this.slot.writer;
      writer.call1(CPU_OP.VM_PARAMS, this.#kernel.now, writer.obj(copyParams(vm.params)));
    }
  }

  /**
   * Removes a VM now (live control): its vCPUs stop for good, their pending events go stale, and
   * the policy hears `VM_REMOVE` in its next batch. The VM stays in `vms` (indices are never
   * reused) with `removedNs` set. Removing a removed VM does nothing.
   */
  removeVm(index: number): void {
    const vm = this.vms[index];
    if (vm === undefined || vm.removedNs !== null) return;
    const now = this.#kernel.now;
    vm.removedNs = now;
    this.#kernel.log.record(LOG.cpu, CPU_LOG.REMOVE, now, vm.index, 0, 0);
    for (const id of vm.vcpus) {
      const vcpu = this.vcpus[id]!;
      if (vcpu.state === DONE) continue;
      if (vcpu.state === RUNNING) {
        this.#account(vcpu);
        this.#release(vcpu, STOP_DONE);
      } else if (vcpu.state === READY) {
        vcpu.waitNs += now - vcpu.sinceNs;
        vcpu.sinceNs = now;
        // A vCPU in a pCPU's local queue is dropped there by `settle`, which counts it out.
        if (!vcpu.queued) this.#unqueued--;
      }
      if (vm.program?.finite) this.#kernel.pendingWork--;
      vcpu.state = DONE;
      vcpu.gen++;
    }
    if (vm.arrived) this.slot.writer.call1(CPU_OP.VM_REMOVE, now, vm.index);
    this.#kernel.schedule(now, this.#base + EV_SETTLE, 0);
  }

  host(): Record<string, unknown> {
    // The VMs known now, so that a policy can refuse their parameters before it starts.
    const vms = this.vms.filter((vm) => vm.removedNs === null)
      .map((vm) => ({ id: vm.id, params: copyParams(vm.params) }));
    return { pcpus: this.pcpus.length, vms };
  }

  onEvent(kind: number, target: number, tag: number): void {
    // The cases are the EV_ numbers as literals: V8 turns a switch over small integer literals into
    // a jump table, which needs no type feedback. Compared one by one with named constants, the
    // first event of a kind that runs in optimized code (the first slice end, the first watchdog)
    // threw away the kernel's whole optimized loop, this being inlined into it.
    switch (kind - this.#base) {
      case 1: { // EV_RUN_END
        const vcpu = this.vcpus[target]!;
        if (vcpu.gen === tag) this.#runEnd(vcpu);
        return;
      }
      case 2: { // EV_WAKE
        const vcpu = this.vcpus[target]!;
        if (vcpu.gen === tag && vcpu.state === BLOCKED) this.#advanceProgram(vcpu, REASON_WAKE);
        return;
      }
      default:
        return this.#otherEvent(kind - this.#base, target, tag);
    }
  }

  /**
   * The events other than run ends and wake-ups, through one call that the first arrivals take
   * before the kernel's loop is optimized: the first watchdog or timer event of a run, long after,
   * then finds a call site with type feedback (a site without any makes the optimized loop bail
   * out the first time it is reached, and the whole loop is compiled again).
   */
  #otherEvent(event: number, target: number, tag: number): void {
    switch (event) {
      case 0: // EV_ARRIVE
        return this.#arrive(this.vms[target]!);
      case 3: // EV_TICK
        return this.#ticks(tag);
      case 4: { // EV_PARAMS
        const change = this.#timeline[target]!;
        return this.setVmParams(change.vm, change.set);
      }
      case 5: // EV_WATCHDOG
        return this.#watchdogDue();
      case 6: // EV_SETTLE
        return;
      case 7: // EV_TIMER
        return this.#timer(tag);
    }
  }

  #arrive(vm: Vm): void {
    if (vm.removedNs !== null) return;
    vm.arrived = true;
    const writer = this.slot.writer, now = this.#kernel.now;
    writer.call1(CPU_OP.VM_ADD, now, writer.obj(this.#vmSpec(vm)));
    for (const id of vm.vcpus) this.#advanceProgram(this.vcpus[id]!, REASON_ARRIVE);
    if (vm.program === null) maybeFinish(this, vm, now);
  }

  #vmSpec(vm: Vm): VmSpec {
    return {
      index: vm.index,
      id: vm.id,
      vcpus: [...vm.vcpus],
      states: vm.vcpus.map((id) => STATUS[this.vcpus[id]!.state]!),
      params: copyParams(vm.params),
    };
  }

  /**
   * Moves a vCPU that is not running to its next step: a run makes it ready, a sleep blocks it,
   * the end finishes it. `reason` is why it would become ready.
   */
  #advanceProgram(vcpu: Vcpu, reason: number): void {
    const program = vcpu.program, cursor = vcpu.cursor;
    if (program === null) return;
    program.next(cursor, this.#kernel.now);
    this.#continueWith(vcpu, reason);
  }

  /** Wakes a vCPU blocked by another domain (I/O done, fault served), by id. */
  resume(id: number): void {
    const vcpu = this.vcpus[id]!;
    if (vcpu.state !== BLOCKED) return;
    if (vcpu.stalled) {
      // Back to the rest of the run step it was stalled in: a new burst, as after any block.
      vcpu.stalled = false;
      vcpu.burstNs = 0;
      this.#makeReady(vcpu, REASON_WAKE);
    } else this.#advanceProgram(vcpu, REASON_WAKE);
  }

  /**
   * Blocks a running vCPU in the middle of its run step, for a cause outside the CPU (a page
   * fault being served): the policy sees it stop with reason `block`, and `resume` makes it
   * runnable again with the rest of its run step. Does nothing to a vCPU that is not running.
   */
  stall(id: number): void {
    const vcpu = this.vcpus[id]!;
    if (vcpu.state !== RUNNING) return;
    this.#account(vcpu);
    this.#release(vcpu, STOP_BLOCK);
    vcpu.state = BLOCKED;
    vcpu.stalled = true;
  }

  /** Whether a vCPU runs now (is on a pCPU), by id. */
  isRunning(id: number): boolean {
    return this.vcpus[id]!.pcpu >= 0;
  }

  #makeReady(vcpu: Vcpu, reason: number): void {
    const now = this.#kernel.now;
    vcpu.state = READY;
    vcpu.sinceNs = now;
    this.#unqueued++;
    const declared = Number.isFinite(vcpu.remainingNs) && vcpu.cursor.declared;
    this.slot.writer.call4(
      CPU_OP.ENQUEUE,
      now,
      vcpu.id,
      reason,
      declared ? vcpu.cursor.ns : -1,
      declared ? vcpu.remainingNs : -1,
    );
    if ((reason === REASON_ARRIVE || reason === REASON_WAKE) && this.#takesPreempt) {
      this.slot.writer.call1(CPU_OP.PREEMPT, now, vcpu.id);
      this.#queries.add(CPU_OP.PREEMPT, vcpu.id);
    }
    this.#watchdog.start(now);
  }

  settle(): void {
    this.#settlePcpus();
    // Timers and counters come back in the answer to SYNC, asked last: once in the first round of
    // every instant the policy hears of, so that what it asked for while hearing of the instant's
    // events reaches the kernel in that instant, and in any later round that asks anyway.
    const writer = this.slot.writer, now = this.#kernel.now;
    if (
      this.#takesSync &&
      (writer.queries > 0 || (writer.length > 0 && this.#syncedAtNs !== now))
    ) {
      this.#syncedAtNs = now;
      writer.callN(CPU_OP.SYNC, now, NO_ARGS, 0);
      this.#queries.add(CPU_OP.SYNC, 0);
    }
  }

  #settlePcpus(): void {
    if (this.#idleCount === 0 || (this.#unqueued === 0 && this.#queued === 0)) return;
    // Idle pCPUs are served in index order: the lowest-numbered idle pCPU asks first. Nothing in
    // this loop frees a pCPU, and a pCPU that takes a vCPU from its local queue clears its own bit
    // (in the word itself, not in `bits`, the copy walked here).
    const idle = this.#idle, now = this.#kernel.now, writer = this.slot.writer;
    for (let word = 0; word < idle.length; word++) {
      for (let bits = idle[word]!; bits !== 0; bits &= bits - 1) {
        this.#settleIdle(this.pcpus[word * 32 + lowestBit(bits)]!, now, writer);
      }
    }
  }

  /** Gives an idle pCPU the next vCPU of its local queue, or asks the policy for work. */
  #settleIdle(pcpu: Pcpu, now: number, writer: BatchWriter): void {
    while (pcpu.localHead < pcpu.localVcpus.length) {
      const id = pcpu.localVcpus[pcpu.localHead]!, slice = pcpu.localSlices[pcpu.localHead++]!;
      const vcpu = this.vcpus[id]!;
      if (!vcpu.queued) continue;
      if (vcpu.state === READY) {
        this.#run(vcpu, pcpu, slice);
        break;
      }
      vcpu.queued = false;
      this.#queued--;
    }
    if (pcpu.localHead === pcpu.localVcpus.length && pcpu.localHead > 0) {
      pcpu.localVcpus.length = pcpu.localSlices.length = pcpu.localHead = 0;
    }
    if (pcpu.vcpu >= 0) return;
    if (this.#unqueued > 0 && pcpu.declinedAtNs !== now) {
      pcpu.declinedAtNs = now;
      writer.call1(CPU_OP.DISPATCH, now, pcpu.index);
      this.#queries.add(CPU_OP.DISPATCH, pcpu.index);
    }
  }

  apply(reply: Reply): void {
    const queries = this.#queries, reader = queries.reader;
    for (let q = queries.start(reply); q >= 0; q = queries.next()) {
      const n = queries.values, arg = queries.arg[q]!;
      switch (queries.kind[q]) {
        case CPU_OP.DISPATCH:
          this.#applyDispatch(this.pcpus[arg]!, n, reader);
          break;
        case CPU_OP.PREEMPT: {
          if (n === 0) break;
          const target = reader.next();
          if (n !== 1 || !this.#isPcpu(target)) {
            throw invalid("bad-pcpu", `preempt for vCPU ${arg} named pCPU ${target}`);
          }
          const pcpu = this.pcpus[target]!;
          if (pcpu.vcpu >= 0) {
            this.#kernel.log.record(LOG.cpu, CPU_LOG.PREEMPT, this.#kernel.now, target, arg, 0);
            this.#stop(this.vcpus[pcpu.vcpu]!, STOP_PREEMPT);
          }
          break;
        }
        case CPU_OP.TICK: {
          const preempt = reader.next();
          if (n !== 1 || (preempt !== 0 && preempt !== 1)) {
            throw invalid("malformed-reply", `tick on pCPU ${arg} answered ${preempt}`);
          }
          const pcpu = this.pcpus[arg]!;
          if (preempt === 1 && pcpu.vcpu >= 0) {
            this.#kernel.log.record(LOG.cpu, CPU_LOG.TICK_PREEMPT, this.#kernel.now, arg, 0, 0);
            this.#stop(this.vcpus[pcpu.vcpu]!, STOP_PREEMPT);
          }
          break;
        }
        case CPU_OP.TIMER:
          for (let i = 0; i < n; i++) {
            const target = reader.next();
            if (!this.#isPcpu(target)) {
              throw invalid("bad-pcpu", `timer at ${this.#kernel.now} ns named pCPU ${target}`);
            }
            const pcpu = this.pcpus[target]!;
            if (pcpu.vcpu >= 0) {
              this.#kernel.log.record(
                LOG.cpu,
                CPU_LOG.TIMER_PREEMPT,
                this.#kernel.now,
                target,
                0,
                0,
              );
              this.#stop(this.vcpus[pcpu.vcpu]!, STOP_PREEMPT);
            }
          }
          break;
        case CPU_OP.SYNC:
          this.#applySync(n, reader);
          break;
      }
    }
  }

  /** Arms the timers and adds up the counters of a SYNC answer. */
  #applySync(n: number, reader: ReplyReader): void {
    const now = this.#kernel.now, timers = n > 0 ? reader.next() : 0;
    if (!Number.isInteger(timers) || timers < 0 || (n - 1 - timers) % 3 !== 0 || n < 1 + timers) {
      throw invalid("malformed-reply", `sync answered ${n} values announcing ${timers} timers`);
    }
    for (let i = 0; i < timers; i++) {
      const at = reader.next();
      if (!Number.isInteger(at) || at < 0) {
        throw invalid("bad-timer", `timer at ${at}; expected an integer time in ns`);
      }
      // A timer asked for at an earlier instant may reach the kernel late: it fires at once.
      const fireAt = at > now ? at : now + 1;
      if (this.#timers.has(fireAt)) continue;
      if (at - now < this.bounds.minTimer && this.bounds.minTimer > 0) this.#nearTimer(at);
      if (this.#timers.size >= MAX_TIMERS) {
        throw invalid(
          "too-many-timers",
          `timer at ${fireAt} ns would be pending timer ${
            MAX_TIMERS + 1
          }; the limit is ${MAX_TIMERS}`,
        );
      }
      this.#timers.add(fireAt);
      this.#kernel.schedule(fireAt, this.#base + EV_TIMER, 0, this.slot.generation);
    }
    for (let i = 1 + timers; i < n; i += 3) {
      const vm = this.vms[reader.next()], counter = this.#counterNames[reader.next()];
      const delta = reader.next();
      if (vm === undefined || counter === undefined || !Number.isFinite(delta)) {
        throw invalid("bad-counter", "sync named an unknown VM or counter, or a non-finite delta");
      }
      vm.counters[counter] = (vm.counters[counter] ?? 0) + delta;
    }
  }

  /** Draws a timer nearer than the minimum distance from the allowance, or refuses it. */
  #nearTimer(at: number): void {
    const minimum = this.bounds.minTimer;
    if (this.#draw(this.pcpus.length, minimum, SHORT_ALLOWANCE * this.pcpus.length)) return;
    throw invalid(
      "timer-too-soon",
      `timer at ${at} ns, ${
        at - this.#kernel.now
      } ns from now (${this.#kernel.now} ns): below the minimum timer distance of ${minimum} ns (host.cpu.minTimer), and the allowance of ${
        SHORT_ALLOWANCE * this.pcpus.length
      } nearer timers is spent`,
    );
  }

  /**
   * Takes one from allowance `lane` (capacity `capacity`, refilled by one per `minimum` ns of
   * simulated time); false when it is spent.
   */
  #draw(lane: number, minimum: number, capacity: number): boolean {
    const now = this.#kernel.now, allowance = this.#allowance;
    const refilled = allowance[lane]! + (now - this.#allowanceAtNs[lane]!) / minimum;
    this.#allowanceAtNs[lane] = now;
    allowance[lane] = refilled > capacity ? capacity : refilled;
    if (allowance[lane]! < 1) return false;
    allowance[lane]!--;
    return true;
  }

  /** A timer is due: asks the policy's `timer` hook (stale generations are dropped). */
  #timer(generation: number): void {
    const now = this.#kernel.now;
    if (generation !== this.slot.generation || !this.#timers.delete(now)) return;
    if (!this.slot.has("timer")) return;
    this.slot.writer.callN(CPU_OP.TIMER, now, NO_ARGS, 0);
    this.#queries.add(CPU_OP.TIMER, 0);
  }

  #isPcpu(value: number): boolean {
    return Number.isInteger(value) && value >= 0 && value < this.pcpus.length;
  }

  #applyDispatch(asked: Pcpu, n: number, reader: ReplyReader): void {
    if (n % 2 !== 0) {
      throw invalid("malformed-reply", `dispatch on pCPU ${asked.index}: odd answer`);
    }
    // A pair [-(q + 1), 0] sends the pairs after it to pCPU q's local queue.
    let pcpu = asked;
    for (let i = 0; i < n; i += 2) {
      const id = reader.next(), slice = reader.next();
      if (id < 0) {
        const target = -id - 1;
        if (!this.#isPcpu(target) || slice !== 0) {
          throw invalid(
            "bad-pcpu",
            `dispatch on pCPU ${asked.index} sent vCPUs to pCPU ${target}; expected 0 to ${
              this.pcpus.length - 1
            }`,
          );
        }
        pcpu = this.pcpus[target]!;
        continue;
      }
      if (!Number.isInteger(id) || id >= this.vcpus.length) {
        throw invalid(
          "unknown-vcpu",
          `dispatch on pCPU ${asked.index} named vCPU ${id}, which does not exist`,
        );
      }
      const vcpu = this.vcpus[id]!;
      if (vcpu.state !== READY || vcpu.queued) {
        if (vcpu.vm.removedNs !== null) {
          // The policy may not have heard of the removal yet (its vCPUs are done): drop the
          // stale choice, ask again.
          asked.declinedAtNs = -1;
          continue;
        }
        const what = vcpu.state === READY ? "already queued on a pCPU" : STATUS[vcpu.state];
        throw invalid(
          vcpu.state === RUNNING ? "vcpu-running" : "vcpu-not-runnable",
          `dispatch on pCPU ${asked.index} named vCPU ${id} (VM ${vcpu.vm.id}), which is ${what}`,
        );
      }
      if (!(slice === Infinity || (Number.isInteger(slice) && slice > 0))) {
        throw invalid(
          "bad-slice",
          `dispatch of vCPU ${id} on pCPU ${asked.index} with slice ${slice}; expected a positive integer of ns or none`,
        );
      }
      if (
        slice < this.bounds.minSlice &&
        !this.#draw(pcpu.index, this.bounds.minSlice, SHORT_ALLOWANCE)
      ) {
        throw invalid(
          "slice-too-short",
          `dispatch of vCPU ${id} on pCPU ${pcpu.index} with slice ${slice} ns: below the minimum slice of ${this.bounds.minSlice} ns (host.cpu.minSlice), and the allowance of ${SHORT_ALLOWANCE} shorter slices on this pCPU is spent`,
        );
      }
      if (i === 0 && pcpu.vcpu < 0) {
        this.#run(vcpu, pcpu, slice);
      } else {
        // The rest wait in local queues; an idle pCPU starts its own in this instant.
        vcpu.queued = true;
        this.#unqueued--;
        this.#queued++;
        pcpu.localVcpus.push(id);
        pcpu.localSlices.push(slice);
      }
    }
  }

  #run(vcpu: Vcpu, pcpu: Pcpu, slice: number): void {
    const now = this.#kernel.now;
    if (vcpu.queued) vcpu.queued = false, this.#queued--;
    else this.#unqueued--;
    const waited = now - vcpu.sinceNs;
    vcpu.waitNs += waited;
    this.#waits.record(vcpu.vmIndex, waited);
    vcpu.state = RUNNING;
    vcpu.pcpu = pcpu.index;
    vcpu.sinceNs = vcpu.switchedInNs = now;
    vcpu.sliceEndNs = now + slice;
    vcpu.dispatches++;
    if (pcpu.lastVcpu !== vcpu.id) vcpu.switches++, this.switches++;
    pcpu.vcpu = pcpu.lastVcpu = vcpu.id;
    this.#idle[pcpu.index >>> 5]! &= ~(1 << (pcpu.index & 31));
    this.#idleCount--;
    this.#kernel.log.record(LOG.cpu, CPU_LOG.RUN, now, vcpu.id, pcpu.index, slice);
    this.slot.writer.call3(CPU_OP.RUNNING, now, vcpu.id, pcpu.index, slice);
    this.#armRunEnd(vcpu);
    this.onRunChange?.(vcpu.id, true);
  }

  #armRunEnd(vcpu: Vcpu): void {
    const end = Math.min(vcpu.sinceNs + vcpu.remainingNs, vcpu.sliceEndNs);
    if (end !== Infinity) this.#kernel.schedule(end, this.#base + EV_RUN_END, vcpu.id, ++vcpu.gen);
    else vcpu.gen++;
  }

  #runEnd(vcpu: Vcpu): void {
    const now = this.#kernel.now;
    if (vcpu.sinceNs + vcpu.remainingNs > now) return this.#stop(vcpu, STOP_SLICE);
    // The run step is complete: account it, then see what the program does next.
    this.#account(vcpu);
    const program = vcpu.program!;
    program.next(vcpu.cursor, now);
    if (vcpu.cursor.kind === STEP.RUN) {
      // Straight into another run step, within the same slice.
      vcpu.remainingNs = vcpu.cursor.ns;
      if (vcpu.sliceEndNs > now) return this.#armRunEnd(vcpu);
      return this.#stop(vcpu, STOP_SLICE, true);
    }
    const done = vcpu.cursor.kind === STEP.END;
    this.#release(vcpu, done ? STOP_DONE : STOP_BLOCK);
    // Replay the step just fetched: the program cursor is already past it.
    this.#continueWith(vcpu, REASON_WAKE);
  }

  /**
   * Handles the step the cursor holds, for a vCPU that is not running: a run makes it ready (for
   * `reason`), a sleep or an I/O blocks it, the end finishes it. Every step goes through here, so
   * that the first end of a program, late in a run, finds call sites with type feedback. The
   * cases are the STEP numbers as literals, as in `onEvent`.
   */
  #continueWith(vcpu: Vcpu, reason: number): void {
    const cursor = vcpu.cursor, kernel = this.#kernel, now = kernel.now;
    switch (cursor.kind) {
      case 0: // STEP.RUN
        vcpu.remainingNs = cursor.ns;
        vcpu.burstNs = 0;
        return this.#makeReady(vcpu, reason);
      case 1: // STEP.SLEEP
      case 2: { // STEP.SLEEP_UNTIL
        const wakeAt = cursor.kind === STEP.SLEEP ? now + cursor.ns : cursor.ns;
        vcpu.state = BLOCKED;
        kernel.schedule(Math.max(now, wakeAt), this.#base + EV_WAKE, vcpu.id, ++vcpu.gen);
        return;
      }
      case 3: // STEP.END
        return programDone(this, vcpu, kernel);
      case 4: // STEP.IO
        return ioStep(this, vcpu);
    }
  }

  /** Adds the time run since `sinceNs` to the vCPU's books and moves `sinceNs` to now. */
  #account(vcpu: Vcpu): number {
    const now = this.#kernel.now, ran = now - vcpu.sinceNs;
    vcpu.runNs += ran;
    vcpu.burstNs += ran;
    vcpu.remainingNs -= ran;
    this.pcpus[vcpu.pcpu]!.busyNs += ran;
    vcpu.sinceNs = now;
    return ran;
  }

  /** Takes a running vCPU off its pCPU; it becomes ready again (slice end, preemption). */
  #stop(vcpu: Vcpu, reason: number, accounted = false): void {
    if (!accounted) this.#account(vcpu);
    this.#release(vcpu, reason);
    this.#makeReady(vcpu, reason === STOP_SLICE ? REASON_SLICE : REASON_PREEMPT);
  }

  /** Frees the vCPU's pCPU and tells the policy. */
  #release(vcpu: Vcpu, reason: number): void {
    const now = this.#kernel.now, pcpu = this.pcpus[vcpu.pcpu]!;
    const ranNs = now - vcpu.switchedInNs;
    pcpu.vcpu = -1;
    this.#idle[pcpu.index >>> 5]! |= 1 << (pcpu.index & 31);
    this.#idleCount++;
    vcpu.gen++;
    this.#kernel.log.record(LOG.cpu, CPU_LOG.STOP, now, vcpu.id, pcpu.index, reason);
    const burst = reason === STOP_BLOCK || reason === STOP_DONE ? vcpu.burstNs : -1;
    this.slot.writer.call5(CPU_OP.STOPPING, now, vcpu.id, pcpu.index, reason, ranNs, burst);
    vcpu.pcpu = -1;
    this.onRunChange?.(vcpu.id, false);
  }

  #ticks(generation: number): void {
    if (!this.#tick.current(generation)) return;
    const now = this.#kernel.now, writer = this.slot.writer;
    for (const pcpu of this.pcpus) {
      if (pcpu.vcpu < 0) continue;
      writer.call2(CPU_OP.TICK, now, pcpu.index, pcpu.vcpu);
      this.#queries.add(CPU_OP.TICK, pcpu.index);
    }
    this.#tick.next(generation);
  }

  check(declared: StartResult): void {
    this.#tick.check(declared);
  }

  installed(): void {
    // Timers belong to the policy that asked for them; a new policy starts with none, and with
    // its allowances of short slices and near timers full.
    this.#timers.clear();
    this.#allowance.fill(SHORT_ALLOWANCE);
    this.#allowance[this.pcpus.length] = SHORT_ALLOWANCE * this.pcpus.length;
    this.#allowanceAtNs.fill(this.#kernel.now);
    this.#syncedAtNs = -1;
    this.#takesPreempt = this.slot.has("preempt");
    this.#takesSync = this.slot.has("sync");
    const declared = this.slot.declared.counters;
    this.#counterNames = Array.isArray(declared)
      ? declared.filter((name) => typeof name === "string").slice(0, MAX_COUNTERS)
      : [];
    for (const vm of this.vms) {
      for (const name of this.#counterNames) vm.counters[name] ??= 0;
    }
    this.#tick.install();
  }

  replay(): void {
    const writer = this.slot.writer, now = this.#kernel.now;
    this.#queries.clear();
    // Give back what the old policy had queued on pCPUs: the new one decides afresh.
    for (const pcpu of this.pcpus) {
      for (let i = pcpu.localHead; i < pcpu.localVcpus.length; i++) {
        const vcpu = this.vcpus[pcpu.localVcpus[i]!]!;
        if (vcpu.queued) vcpu.queued = false, this.#queued--, this.#unqueued++;
      }
      pcpu.localVcpus.length = pcpu.localSlices.length = pcpu.localHead = 0;
      pcpu.declinedAtNs = -1;
    }
    for (const vm of this.vms) {
      if (vm.arrived && vm.removedNs === null) {
        writer.call1(CPU_OP.VM_ADD, now, writer.obj(this.#vmSpec(vm)));
      }
    }
    for (const pcpu of this.pcpus) {
      if (pcpu.vcpu < 0) continue;
      const vcpu = this.vcpus[pcpu.vcpu]!;
      writer.call3(CPU_OP.RUNNING, now, vcpu.id, pcpu.index, vcpu.sliceEndNs - now);
    }
    const ready = this.vcpus.filter((vcpu) => vcpu.state === READY)
      .sort((a, b) => a.sinceNs - b.sinceNs || a.id - b.id);
    for (const vcpu of ready) {
      const declared = vcpu.cursor.declared && Number.isFinite(vcpu.remainingNs);
      writer.call4(
        CPU_OP.ENQUEUE,
        now,
        vcpu.id,
        REASON_REPLAY,
        declared ? vcpu.cursor.ns : -1,
        declared ? vcpu.remainingNs : -1,
      );
    }
  }

  /** The watchdog's event: ejects the policy when the oldest runnable vCPU waited too long. */
  #watchdogDue(): void {
    const now = this.#kernel.now;
    if (!this.#watchdog.due(now)) return;
    let oldest: Vcpu | undefined;
    for (const vcpu of this.vcpus) {
      if (vcpu.state === READY && (oldest === undefined || vcpu.sinceNs < oldest.sinceNs)) {
        oldest = vcpu;
      }
    }
    if (!this.#watchdog.overdue(now, oldest?.sinceNs ?? Infinity) || oldest === undefined) return;
    const stall = this.#kernel.stallNs;
    throw new PolicyFailure(
      "stall",
      "watchdog",
      `vCPU ${oldest.id} of VM ${oldest.vm.id} was runnable for ${
        (now - oldest.sinceNs) / 1e9
      } s without running (watchdog timeout ${stall / 1e9} s)`,
    );
  }

  finish(endNs: number): void {
    for (const vcpu of this.vcpus) {
      if (vcpu.state === RUNNING) {
        const ran = endNs - vcpu.sinceNs;
        vcpu.runNs += ran;
        this.pcpus[vcpu.pcpu]!.busyNs += ran;
        vcpu.sinceNs = endNs;
      } else if (vcpu.state === READY) {
        vcpu.waitNs += endNs - vcpu.sinceNs;
        vcpu.sinceNs = endNs;
      }
    }
  }

  /** The domain's figures now, per VM and per pCPU. */
  figures(nowNs: number): CpuFigures {
    return cpuFigures(this, nowNs);
  }

  /** The status of a vCPU, as policies name it. */
  status(vcpu: Vcpu): VcpuStatus {
    return STATUS[vcpu.state]!;
  }
}

const NO_ARGS: readonly number[] = [];

/** A vCPU reached the end of its program. */
function programDone(domain: CpuDomain, vcpu: Vcpu, kernel: Kernel): void {
  vcpu.state = DONE;
  if (vcpu.program!.finite) kernel.pendingWork--;
  maybeFinish(domain, vcpu.vm, kernel.now);
}

/** Sets the VM's finish time once all its vCPUs are done. */
function maybeFinish(domain: CpuDomain, vm: Vm, now: number): void {
  if (vm.vcpus.every((id) => domain.vcpus[id]!.state === DONE)) vm.finishNs = now;
}

/** A vCPU's `{io}` step: it blocks until the I/O domain completes the request. */
function ioStep(domain: CpuDomain, vcpu: Vcpu): void {
  vcpu.state = BLOCKED;
  if (domain.onIoStep === undefined) {
    throw new Error(`VM ${vcpu.vm.id}: an {io} step needs the I/O domain (host.disks)`);
  }
  domain.onIoStep(vcpu.id, vcpu.cursor.payload);
}

/**
 * A copy of a VM's parameters for the policy (which may keep or change what it is given): what
 * `structuredClone` gives for the JSON they come from, at a fraction of its cost (a cold
 * `structuredClone` takes some 20 µs a call, and a workload of thousands of VMs copies each VM's
 * twice before it runs). A value that is not plain data is left to `structuredClone`.
 */
function copyParams(params: VmParams): VmParams {
  // The usual parameters, plain values in plain objects, copied by spreading (native and quick on
  // cold code, where the generic copy took some 10 µs a VM).
  const sched = params.sched;
  if (isFlat(params, sched) && isFlat(sched, undefined)) return { ...params, sched: { ...sched } };
  return copyData(params, 0) as VmParams;
}

/** Whether `value` is a plain object whose own values, `except` aside, are not objects. */
function isFlat(value: unknown, except: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== except && typeof field === "object" && field !== null) return false;
  }
  return true;
}

function copyData(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth > 64) return structuredClone(value);
  if (Array.isArray(value)) return value.map((item) => copyData(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    copy[key] = copyData((value as Record<string, unknown>)[key], depth + 1);
  }
  return copy;
}

/** The index of the lowest set bit of a non-zero 32-bit word. */
function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
