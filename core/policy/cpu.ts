/**
 * The CPU policy SDK: `defineCpuPolicy`, the views a CPU policy sees, and the CPU opcodes.
 *
 * A CPU policy decides which runnable vCPU runs on which pCPU, and for how long. Its hooks follow
 * sched_ext: `enqueue` (a vCPU became runnable), `dispatch` (a pCPU needs work), `preempt`
 * (should a vCPU that just woke take a pCPU now?), `tick`, `running`, `stopping`, and the VM
 * hooks. Hooks that answer (`dispatch`, `preempt`, `tick`) return their decision; the others only
 * inform. The kernel validates every decision.
 *
 * @module
 */

import { Rng } from "../engine/rng.ts";
import { type ConfigOf, type Param, resolveConfig } from "./params.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";
import type { Batch, Reply } from "../protocol/batch.ts";
import { ReplyWriter } from "../protocol/batch.ts";
import {
  CPU_OP,
  ENQUEUE_REASONS,
  type EnqueueReason,
  MAX_COUNTERS,
  STOP_REASONS,
  type StopReason,
} from "../protocol/ops.ts";
import type { VcpuStatus, VmParams, VmSpec } from "../protocol/payloads.ts";

export {
  CPU_OP,
  ENQUEUE_REASONS,
  type EnqueueReason,
  MAX_COUNTERS,
  MAX_TIMERS,
  STOP_REASONS,
  type StopReason,
} from "../protocol/ops.ts";
export type { VcpuStatus, VmParams, VmSpec } from "../protocol/payloads.ts";

/**
 * A VM as a policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts

 *
 * // Priority by VM: the lowest `priority` number first, ties in arrival order.
 * export default defineCpuPolicy({
 *   name: "by-vm-priority",
 *   create() {
 *     const ready: { vm: VmView; id: number }[] = [];
 *     return {
 *       enqueue: (_ctx, vcpu) => void ready.push({ vm: vcpu.vm, id: vcpu.id }),
 *       dispatch() {
 *         if (ready.length === 0) return null;
 *         let best = 0;
 *         ready.forEach((entry, i) => {
 *           if (entry.vm.priority < ready[best]!.vm.priority) best = i;
 *         });
 *         return { vcpu: ready.splice(best, 1)[0]!.id };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class VmView {
  /** The VM's index. */
  readonly index: number;
  /** The VM's name. */
  readonly id: string;
  /** Its vCPUs. */
  readonly vcpus: VcpuView[] = [];
  /** Proportional-share weight. */
  weight: number = 256;
  /** Cap in percent of one pCPU; 0 = none. */
  cap: number = 0;
  /** Static priority; lower number = higher priority. */
  priority: number = 0;
  /** Policy-specific parameters. */
  sched: Record<string, unknown> = {};
  /** False once the VM was removed. */
  alive: boolean = true;

  /** @internal */
  constructor(index: number, id: string) {
    this.index = index;
    this.id = id;
  }
}

/**
 * A vCPU as a policy sees it. Policies may read these fields; the SDK updates them.
 *
 * @example
 * ```ts

 *
 * // Shortest declared burst first: `remainingNs` is what is left of the current run step.
 * export default defineCpuPolicy({
 *   name: "shortest-remaining",
 *   create() {
 *     const ready = new Set<VcpuView>();
 *     return {
 *       enqueue: (_ctx, vcpu) => void ready.add(vcpu),
 *       dispatch() {
 *         let best: VcpuView | undefined;
 *         for (const vcpu of ready) {
 *           if (best === undefined || (vcpu.remainingNs ?? Infinity) < (best.remainingNs ?? Infinity)) {
 *             best = vcpu;
 *           }
 *         }
 *         if (best === undefined) return null;
 *         ready.delete(best);
 *         return { vcpu: best };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export class VcpuView {
  /** Global vCPU id: the number decisions name. */
  readonly id: number;
  /** Its VM. */
  readonly vm: VmView;
  /** Index within its VM. */
  readonly index: number;
  /** Current state. */
  status: VcpuStatus = "new";
  /** The pCPU it runs on, or -1. */
  pcpu: number = -1;
  /** When it last became runnable (ns). */
  readySinceNs: number = 0;
  /** Declared length of its current run step, or null when the program does not declare it. */
  burstNs: number | null = null;
  /** Declared remaining time of its current run step, or null. */
  remainingNs: number | null = null;
  /** Length of its last complete CPU burst (from waking to blocking), or null. */
  lastBurstNs: number | null = null;
  /** CPU time it received in total (as of the last stop). */
  ranNs: number = 0;
  /** Free slot for the policy's own per-vCPU state. */
  data: unknown = undefined;

  /** @internal */
  constructor(id: number, vm: VmView, index: number) {
    this.id = id;
    this.vm = vm;
    this.index = index;
  }
}

/** A dispatch decision: run `vcpu` for at most `sliceNs` (absent: until it blocks or ends). */
export interface Dispatch {
  /** The vCPU to run: a view or its id. */
  vcpu: VcpuView | number;
  /** The slice in ns: a positive integer, or absent/Infinity for no limit. */
  sliceNs?: number;
  /**
   * The pCPU whose local queue takes it (absent: the pCPU that asked). A centralized dispatcher
   * fills every pCPU's queue in one answer, as ghOSt's global agent does, and is asked far less
   * often; an idle pCPU given work this way starts it in the same instant.
   */
  pcpu?: number;
}

/** What every hook receives. */
export interface CpuContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** How many pCPUs the host has. */
  readonly pcpus: number;
  /** Every VM seen so far, by index. */
  readonly vms: readonly VmView[];
  /** Every vCPU seen so far, by id. */
  readonly vcpus: readonly VcpuView[];
  /** The vCPU running on `pcpu` as far as the policy knows, or null. */
  running(pcpu: number): VcpuView | null;
  /**
   * How many vCPUs this policy put in `pcpu`'s local queue that have not started there yet (as far
   * as the policy knows: they leave it when it hears they run, or their VM is removed).
   */
  queued(pcpu: number): number;
  /**
   * Asks for the `timer` hook to be called at simulated time `atNs` (sched_ext's and Xen's timers:
   * budget replenishment, the end of a cap period). Timers cannot be cancelled: the hook checks
   * what is due. Asking twice for the same time gives one call. The kernel hears of it with the
   * policy's reply to this instant, so ask from any hook but `running` (whose call may reach the
   * policy after its instant, and then fires 1 ns after the kernel hears of it). At most
   * {@linkcode MAX_TIMERS} may be pending.
   *
   * @param atNs When, in ns: after `now`.
   * @throws {Error} When the policy has no `timer` hook, or `atNs` is not after `now`.
   */
  timer(atNs: number): void;
  /**
   * Adds `delta` to one of the per-VM counters the policy declared (`counters` in
   * {@linkcode defineCpuPolicy}); reports show them under `vms[].cpu.counters`.
   *
   * @param vm The VM (a view or its index).
   * @param counter A declared counter name, such as `deadlineMisses`.
   * @param delta How much to add (default 1).
   * @throws {Error} When the counter was not declared.
   */
  count(vm: VmView | number, counter: string, delta?: number): void;
}

/** The hooks of a CPU policy. Every one is optional. */
export interface CpuHooks<C> {
  /** A vCPU became runnable: remember it. */
  enqueue?(ctx: CpuContext<C>, vcpu: VcpuView, reason: EnqueueReason): void;
  /** A pCPU needs work: name the next vCPU (or several, to fill the pCPU's queue), or null to idle. */
  dispatch?(ctx: CpuContext<C>, pcpu: number): Dispatch | readonly Dispatch[] | null | undefined;
  /** A vCPU arrived or woke: return a pCPU to preempt in its favour, or null. */
  preempt?(ctx: CpuContext<C>, vcpu: VcpuView): number | null | undefined;
  /** A periodic tick on a busy pCPU: return true to preempt its vCPU. */
  tick?(ctx: CpuContext<C>, pcpu: number, vcpu: VcpuView): boolean | void;
  /** A vCPU started running on a pCPU. */
  running?(ctx: CpuContext<C>, vcpu: VcpuView, pcpu: number): void;
  /** A vCPU stopped running. */
  stopping?(ctx: CpuContext<C>, vcpu: VcpuView, reason: StopReason, ranNs: number): void;
  /** A VM appeared. */
  vmAdded?(ctx: CpuContext<C>, vm: VmView): void;
  /** A VM's parameters changed (the view already holds the new values). */
  vmChanged?(ctx: CpuContext<C>, vm: VmView): void;
  /** A VM was removed. */
  vmRemoved?(ctx: CpuContext<C>, vm: VmView): void;
  /**
   * A timer asked for with `ctx.timer` is due (`ctx.now`): return the pCPUs whose vCPUs to preempt
   * (a budget was replenished, a parked vCPU may run again), or nothing. Idle pCPUs ask for work
   * by themselves at this instant.
   */
  timer?(ctx: CpuContext<C>): number | readonly number[] | null | undefined | void;
}

/** What a policy's `create` receives. */
export interface CpuSetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** How many pCPUs the host has. */
  readonly pcpus: number;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/** The declaration of a CPU policy, given to {@linkcode defineCpuPolicy}. */
export interface CpuPolicySpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /** The tick period in ns for the `tick` hook (default 10 ms), or a function of the config. */
  tickNs?: number | ((config: ConfigOf<S>) => number);
  /** Names of per-VM counters the policy keeps with `ctx.count` (such as `deadlineMisses`). */
  counters?: readonly string[];
  /**
   * Checks one VM's parameters (`sched` above all); throw a `ConfigError` (from the SDK) naming
   * the VM to refuse them. Called at start for every VM the kernel knows (a refusal stops the run
   * before it begins, as a bad config does), and again whenever a VM appears or its parameters
   * change (a refusal then ejects the policy, with the message in the incident).
   */
  checkVm?(id: string, params: VmParams): void;
  /** Creates the policy's state and returns its hooks. */
  create(setup: CpuSetup<ConfigOf<S>>): CpuHooks<ConfigOf<S>>;
}

/**
 * The slice given by the default FIFO of a policy without a `dispatch` hook (sched_ext's).
 *
 * @example
 * ```ts

 *
 * // No dispatch hook: the SDK's FIFO gives every vCPU DEFAULT_SLICE_NS (20 ms) at a time.
 * export default defineCpuPolicy({ name: "plain-fifo", create: () => ({}) });
 * console.assert(DEFAULT_SLICE_NS === 20_000_000);
 * ```
 */
export const DEFAULT_SLICE_NS = 20_000_000;

/**
 * The default tick period.
 *
 * @example
 * ```ts

 *
 * // A tick hook is called every DEFAULT_TICK_NS unless the policy sets `tickNs`.
 * export default defineCpuPolicy({
 *   name: "ticking",
 *   tickNs: 2 * DEFAULT_TICK_NS,
 *   create: () => ({ tick: () => false }),
 * });
 * ```
 */
export const DEFAULT_TICK_NS = 10_000_000;

/** A CPU policy: what a CPU policy module exports by default. */
export interface CpuPolicy extends PolicyDefinition {
  /** Always `cpu`. */
  readonly domain: "cpu";
}

/**
 * Defines a CPU policy. The result is the module's default export.
 *
 * @example A round-robin policy in a dozen lines
 * ```ts
 * import { defineCpuPolicy, param } from "./mod.ts";
 *
 * export default defineCpuPolicy({
 *   name: "my-rr",
 *   config: { quantum: param.duration("10ms") },
 *   create({ config }) {
 *     const queue: number[] = [];
 *     return {
 *       enqueue(_ctx, vcpu) {
 *         queue.push(vcpu.id);
 *       },
 *       dispatch() {
 *         const vcpu = queue.shift();
 *         return vcpu === undefined ? null : { vcpu, sliceNs: config.quantum };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function defineCpuPolicy<S extends Record<string, Param<unknown>> = Record<never, never>>(
  spec: CpuPolicySpec<S>,
): CpuPolicy {
  const counters = spec.counters ?? [];
  if (
    counters.length > MAX_COUNTERS || new Set(counters).size !== counters.length ||
    !counters.every((name) => COUNTER_NAME.test(name))
  ) {
    throw new Error(
      `Policy ${spec.name} counters: expected at most ${MAX_COUNTERS} distinct names such as "deadlineMisses", got ${
        JSON.stringify(counters)
      }`,
    );
  }
  return {
    apiVersion: API_VERSION,
    domain: "cpu",
    name: spec.name,
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const pcpus = Number(message.host.pcpus);
      const rng = new Rng(message.seed);
      const known = message.host.vms;
      if (spec.checkVm !== undefined && Array.isArray(known)) {
        for (const vm of known as { id: string; params: VmParams }[]) {
          spec.checkVm(vm.id, vm.params);
        }
      }
      const hooks = spec.create({ config, pcpus, rng });
      const tickNs = typeof spec.tickNs === "function"
        ? spec.tickNs(config)
        : spec.tickNs ?? DEFAULT_TICK_NS;
      const counters = [...(spec.counters ?? [])];
      const handler = new CpuHandler(hooks, config, pcpus, rng, counters, spec.checkVm);
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function"
      );
      if (hooks.dispatch === undefined) names.push("dispatch");
      // A policy with timers or counters takes the SYNC query that carries them to the kernel.
      if (hooks.timer !== undefined || counters.length > 0) names.push("sync");
      const result: StartResult = { name: spec.name, config: json, hooks: names, tickNs };
      if (counters.length > 0) result.counters = counters;
      return { handler, result };
    },
  };
}

/** What a counter name looks like: a JSON-friendly identifier. */
const COUNTER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

class CpuHandler<C> implements PolicyHandler, CpuContext<C> {
  now = 0;
  readonly rng: Rng;
  readonly config: C;
  readonly pcpus: number;
  readonly vms: VmView[] = [];
  readonly vcpus: VcpuView[] = [];
  #onPcpu: (VcpuView | null)[];
  /** How many vCPUs wait in each pCPU's local queue, and where each such vCPU waits (by id). */
  #queuedCount: Int32Array;
  #queuedOn: number[] = [];
  /** The pCPU the dispatch answer being written fills, and whether it has a vCPU yet. */
  #target = 0;
  #started = false;
  #hooks: CpuHooks<C>;
  #reply = new ReplyWriter();
  #fifo: VcpuView[] | undefined;
  /** Timers asked for since the last sync, and the same as a set. */
  #timers: number[] = [];
  #timerSet = new Set<number>();
  /** Counter increments since the last sync: `(vmIndex, counter, delta)` triples. */
  #counts: number[] = [];
  #counterIndex: Map<string, number>;
  #checkVm: ((id: string, params: VmParams) => void) | undefined;

  constructor(
    hooks: CpuHooks<C>,
    config: C,
    pcpus: number,
    rng: Rng,
    counters: string[],
    checkVm: ((id: string, params: VmParams) => void) | undefined,
  ) {
    this.#hooks = hooks;
    this.#checkVm = checkVm;
    this.#counterIndex = new Map(counters.map((name, i) => [name, i]));
    this.config = config;
    this.pcpus = pcpus;
    this.rng = rng;
    this.#onPcpu = new Array(pcpus).fill(null);
    this.#queuedCount = new Int32Array(pcpus);
    if (hooks.dispatch === undefined) this.#fifo = [];
  }

  running(pcpu: number): VcpuView | null {
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

  count(vm: VmView | number, counter: string, delta = 1): void {
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

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    for (let i = 0; i < batch.length;) {
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
          if (burst >= 0) vcpu.lastBurstNs = burst;
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
    const vm = new VmView(spec.index, spec.id);
    this.#setParams(vm, spec.params);
    this.vms[spec.index] = vm;
    spec.vcpus.forEach((id, index) => {
      const vcpu = new VcpuView(id, vm, index);
      vcpu.status = spec.states[index] ?? "new";
      vm.vcpus.push(vcpu);
      this.vcpus[id] = vcpu;
    });
    this.#hooks.vmAdded?.(this, vm);
  }

  #setParams(vm: VmView, params: VmParams): void {
    vm.weight = params.weight;
    vm.cap = params.cap;
    vm.priority = params.priority;
    vm.sched = params.sched;
  }
}
