/**
 * The CPU policy's side of the hook protocol: decodes each batch the kernel sends, keeps the
 * policy's views up to date, calls its hooks in order and encodes their answers.
 *
 * @module
 */

import { DOUBLE } from "../../engine/double_fields.ts";
import type { Rng } from "../../engine/rng.ts";
import { type Batch, type Reply, ReplyWriter } from "../../protocol/batch.ts";
import type { PolicyHandler } from "../../protocol/definition.ts";
import { CPU_OP, ENQUEUE_REASONS, STOP_REASONS } from "../../protocol/ops.ts";
import type { VmParams, VmSpec } from "../../protocol/payloads.ts";
import { type CpuContext, type CpuHooks, DEFAULT_SLICE_NS, type Dispatch } from "./hooks.ts";
import { VcpuView, VmView } from "./views.ts";

/**
 * Decodes the kernel's batches for a CPU policy: keeps the views up to date, calls the hooks in
 * call order, and writes their answers. It is also the `ctx` every hook receives.
 */
export class CpuHandler<C, S> implements PolicyHandler, CpuContext<C, S> {
  now = DOUBLE;
  readonly rng: Rng;
  readonly config: C;
  readonly pcpus: number;
  readonly vms: VmView<S>[] = [];
  readonly vcpus: VcpuView<S>[] = [];
  #onPcpu: (VcpuView<S> | null)[];
  /** How many vCPUs wait in each pCPU's local queue, and where each such vCPU waits (by id). */
  #queuedCount: Int32Array;
  #queuedOn: number[] = [];
  /** The pCPU the dispatch answer being written fills, and whether it has a vCPU yet. */
  #target = DOUBLE;
  #started = false;
  #hooks: CpuHooks<C, S>;
  #reply = new ReplyWriter();
  #fifo: VcpuView<S>[] | undefined;
  /** Timers asked for since the last sync, and the same as a set. */
  #timers: number[] = [];
  #timerSet = new Set<number>();
  /** Counter increments since the last sync: `(vmIndex, counter, delta)` triples. */
  #counts: number[] = [];
  #counterIndex: Map<string, number>;
  #checkVm: ((id: string, params: VmParams) => void) | undefined;

  constructor(
    hooks: CpuHooks<C, S>,
    config: C,
    pcpus: number,
    rng: Rng,
    counters: string[],
    checkVm: ((id: string, params: VmParams) => void) | undefined,
  ) {
    this.#hooks = hooks;
    this.#checkVm = checkVm;
    // Doubles from the start (`engine/double_fields.ts`): copied from a batch's `Float64Array`.
    this.now = this.#target = 0;
    this.#counterIndex = new Map(counters.map((name, i) => [name, i]));
    this.config = config;
    this.pcpus = pcpus;
    this.rng = rng;
    this.#onPcpu = new Array(pcpus).fill(null);
    this.#queuedCount = new Int32Array(pcpus);
    if (hooks.dispatch === undefined) this.#fifo = [];
  }

  running(pcpu: number): VcpuView<S> | null {
    return this.#onPcpu[pcpu] ?? null;
  }

  timer(atNs: number): void {
    if (this.#hooks.timer === undefined) {
      throw new Error("ctx.timer: expected a policy with a timer hook, got none");
    }
    const at = Math.ceil(atNs);
    if (!(at > this.now) || !Number.isFinite(at)) {
      throw new Error(`ctx.timer: expected a time after now (${this.now} ns), got ${atNs}`);
    }
    if (this.#timerSet.has(at)) return;
    this.#timerSet.add(at);
    this.#timers.push(at);
  }

  count(vm: VmView<S> | number, counter: string, delta = 1): void {
    const index = this.#counterIndex.get(counter);
    if (index === undefined) {
      throw new Error(
        `ctx.count: expected a declared counter (${
          [...this.#counterIndex.keys()].join(", ") || "none declared"
        }), got ${JSON.stringify(counter)}`,
      );
    }
    this.#counts.push(typeof vm === "number" ? vm : vm.index, index, delta);
  }

  /** Where in the last batch the call that threw starts (an offset into its numbers). */
  failedCall = -1;

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    // Where the call being run starts: a hook that throws is named in the incident, with its
    // arguments (the kernel reads them from its own copy of the batch).
    let at = 0;
    try {
      for (let i = 0; i < batch.length;) {
        at = i;
        const op = nums[i]!, args = i + 3;
        this.now = nums[i + 1]!;
        i = args + nums[i + 2]!;
        switch (op) {
          case CPU_OP.VM_ADD:
            this.#addVm(batch.objs[nums[args]!] as VmSpec);
            break;
          case CPU_OP.VM_PARAMS: {
            const params = batch.objs[nums[args]!] as VmParams;
            const vm = this.vms[params.index]!;
            this.#checkVm?.(vm.id, params);
            this.#setParams(vm, params);
            hooks.vmChanged?.(this, vm);
            break;
          }
          case CPU_OP.VM_REMOVE: {
            const vm = this.vms[nums[args]!]!;
            vm.alive = false;
            for (const vcpu of vm.vcpus) this.#dequeue(vcpu.id);
            hooks.vmRemoved?.(this, vm);
            break;
          }
          case CPU_OP.ENQUEUE: {
            const vcpu = this.vcpus[nums[args]!]!;
            vcpu.status = "ready";
            vcpu.readySinceNs = this.now;
            const burst = nums[args + 2]!, remaining = nums[args + 3]!;
            vcpu.burstNs = burst < 0 ? null : burst;
            vcpu.remainingNs = remaining < 0 ? null : remaining;
            const reason = ENQUEUE_REASONS[nums[args + 1]!]!;
            this.#fifo?.push(vcpu);
            hooks.enqueue?.(this, vcpu, reason);
            break;
          }
          case CPU_OP.RUNNING: {
            const vcpu = this.vcpus[nums[args]!]!, pcpu = nums[args + 1]!;
            vcpu.status = "running";
            vcpu.pcpu = pcpu;
            this.#onPcpu[pcpu] = vcpu;
            this.#dequeue(vcpu.id);
            hooks.running?.(this, vcpu, pcpu);
            break;
          }
          case CPU_OP.STOPPING: {
            const vcpu = this.vcpus[nums[args]!]!, pcpu = nums[args + 1]!;
            const reason = STOP_REASONS[nums[args + 2]!]!, ranNs = nums[args + 3]!;
            const burst = nums[args + 4]!;
            if (this.#onPcpu[pcpu] === vcpu) this.#onPcpu[pcpu] = null;
            vcpu.pcpu = -1;
            vcpu.ranNs += ranNs;
            vcpu.status = reason === "done" ? "done" : reason === "block" ? "blocked" : "ready";
            // Stored at every stop: a store first reached at a run's first block, in code optimized
            // before it, would throw that code away (it has no type feedback).
            vcpu.lastBurstNs = burst >= 0 ? burst : vcpu.lastBurstNs;
            hooks.stopping?.(this, vcpu, reason, ranNs);
            break;
          }
          case CPU_OP.DISPATCH:
            this.#answerDispatch(nums[args]!);
            break;
          case CPU_OP.PREEMPT: {
            const pcpu = hooks.preempt?.(this, this.vcpus[nums[args]!]!);
            if (pcpu === null || pcpu === undefined) reply.begin(0);
            else reply.begin(1), reply.push(Number(pcpu));
            break;
          }
          case CPU_OP.TICK: {
            const preempt = hooks.tick?.(this, nums[args]!, this.vcpus[nums[args + 1]!]!);
            reply.begin(1);
            reply.push(preempt === true ? 1 : 0);
            break;
          }
          case CPU_OP.TIMER: {
            const answer = hooks.timer?.(this);
            if (answer === null || answer === undefined) reply.begin(0);
            else if (typeof answer === "number") reply.begin(1), reply.push(answer);
            else {
              reply.begin(answer.length);
              for (const pcpu of answer) reply.push(Number(pcpu));
            }
            break;
          }
          case CPU_OP.SYNC:
            this.#answerSync();
            break;
        }
      }
    } catch (error) {
      this.failedCall = at;
      throw error;
    }
    return reply;
  }

  #answerSync(): void {
    const reply = this.#reply, timers = this.#timers, counts = this.#counts;
    reply.begin(1 + timers.length + counts.length);
    reply.push(timers.length);
    for (const at of timers) reply.push(at);
    for (const value of counts) reply.push(value);
    timers.length = counts.length = 0;
    this.#timerSet.clear();
  }

  #answerDispatch(pcpu: number): void {
    const reply = this.#reply;
    if (this.#fifo !== undefined) {
      const next = this.#fifo.shift();
      if (next === undefined) reply.begin(0);
      else reply.begin(2), reply.push(next.id), reply.push(DEFAULT_SLICE_NS);
      return;
    }
    const answer = this.#hooks.dispatch!(this, pcpu);
    if (answer === null || answer === undefined) {
      reply.begin(0);
      return;
    }
    // The count is written once the values are: a pair `[-(q + 1), 0]` switches to pCPU q.
    const at = reply.length;
    reply.begin(0);
    this.#target = pcpu;
    this.#started = false;
    if (Array.isArray(answer)) {
      for (const one of answer as readonly Dispatch[]) this.#pushDispatch(one, pcpu);
    } else this.#pushDispatch(answer as Dispatch, pcpu);
    reply.nums[at] = reply.length - at - 1;
  }

  #pushDispatch(decision: Dispatch, asked: number): void {
    const reply = this.#reply, to = decision?.pcpu ?? asked;
    if (to !== this.#target) {
      if (!Number.isInteger(to) || to < 0 || to >= this.pcpus) {
        throw new Error(
          `dispatch: expected pcpu to be a pCPU index from 0 to ${this.pcpus - 1}, got ${
            JSON.stringify(to)
          }`,
        );
      }
      this.#target = to;
      reply.push(-(to + 1));
      reply.push(0);
    }
    const vcpu = decision?.vcpu;
    const id = typeof vcpu === "object" && vcpu !== null ? vcpu.id : Number(vcpu);
    reply.push(id);
    const slice = decision?.sliceNs;
    reply.push(slice === undefined ? Infinity : Number(slice));
    // The answer's first vCPU, when it is for the asked pCPU, runs at once; the rest wait in
    // local queues.
    if (this.#started || to !== asked) this.#enqueueOn(id, to);
    this.#started = true;
  }

  #enqueueOn(id: number, pcpu: number): void {
    if (!Number.isInteger(id) || id < 0 || this.vcpus[id] === undefined) return;
    this.#dequeue(id);
    this.#queuedOn[id] = pcpu;
    this.#queuedCount[pcpu]!++;
  }

  /** Forgets that vCPU `id` waits in a local queue (it runs, or its VM is gone). */
  #dequeue(id: number): void {
    const on = this.#queuedOn[id];
    if (on === undefined || on < 0) return;
    this.#queuedCount[on]!--;
    this.#queuedOn[id] = -1;
  }

  queued(pcpu: number): number {
    return this.#queuedCount[pcpu] ?? 0;
  }

  #addVm(spec: VmSpec): void {
    this.#checkVm?.(spec.id, spec.params);
    const vm = new VmView<S>(spec.index, spec.id);
    this.#setParams(vm, spec.params);
    this.vms[spec.index] = vm;
    const vcpuSlot = this.#hooks.vcpuSlot;
    spec.vcpus.forEach((id, index) => {
      const vcpu = new VcpuView<S>(id, vm, index);
      vcpu.status = spec.states[index] ?? "new";
      vm.vcpus.push(vcpu);
      this.vcpus[id] = vcpu;
    });
    if (vcpuSlot !== undefined) { for (const vcpu of vm.vcpus) vcpu.slot = vcpuSlot(this, vcpu); }
    this.#hooks.vmAdded?.(this, vm);
  }

  #setParams(vm: VmView<S>, params: VmParams): void {
    vm.weight = params.weight;
    vm.cap = params.cap;
    vm.priority = params.priority;
    vm.sched = params.sched;
  }
}
