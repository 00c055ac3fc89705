/**
 * What a CPU policy writes: its hooks ({@linkcode CpuHooks}), the context every hook receives
 * ({@linkcode CpuContext}) and the decisions hooks return ({@linkcode Dispatch}).
 *
 * The hooks follow sched_ext: `enqueue` (a vCPU became runnable), `dispatch` (a pCPU needs work),
 * `preempt` (should a vCPU that just woke take a pCPU now?), `tick`, `running`, `stopping`,
 * `timer`, and the VM hooks. Hooks that answer (`dispatch`, `preempt`, `tick`, `timer`) return
 * their decision; the others only inform. The kernel checks every decision: an invalid one ejects
 * the policy (an incident), and a trusted built-in takes over.
 *
 * @module
 */

import type { Rng } from "../../engine/rng.ts";
import type { EnqueueReason, StopReason } from "../../protocol/ops.ts";
import type { VcpuView, VmView } from "./views.ts";

/** A dispatch decision: run `vcpu` for at most `sliceNs` (absent: until it blocks or ends). */
export interface Dispatch {
  /** The vCPU to run: a view or its id. */
  vcpu: VcpuView | number;
  /**
   * The slice in ns: a positive integer, or absent/Infinity for no limit. The host sets a minimum
   * (`host.cpu.minSlice`, default 10 µs): a shorter slice now and then passes (an allowance of 8
   * per pCPU, refilled by one per minimum of simulated time), a habit of them is `invalid`
   * (`slice-too-short`).
   */
  sliceNs?: number;
  /**
   * The pCPU whose local queue takes it (absent: the pCPU that asked). A centralized dispatcher
   * fills every pCPU's queue in one answer, as ghOSt's global agent does, and is asked far less
   * often; an idle pCPU given work this way starts it in the same instant.
   */
  pcpu?: number;
}

/** What every hook receives. `C` is the resolved configuration, `S` the vCPUs' slot type. */
export interface CpuContext<C, S = unknown> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** How many pCPUs the host has. */
  readonly pcpus: number;
  /** Every VM seen so far, by index. */
  readonly vms: readonly VmView<S>[];
  /** Every vCPU seen so far, by id. */
  readonly vcpus: readonly VcpuView<S>[];
  /**
   * The vCPU running on a pCPU as far as the policy knows, or null.
   *
   * @param pcpu The pCPU's index.
   */
  running(pcpu: number): VcpuView<S> | null;
  /**
   * How many vCPUs this policy put in a pCPU's local queue that have not started there yet (as
   * far as the policy knows: they leave it when it hears they run, or their VM is removed).
   *
   * @param pcpu The pCPU's index.
   */
  queued(pcpu: number): number;
  /**
   * Asks for the `timer` hook to be called at simulated time `atNs` (sched_ext's and Xen's timers:
   * budget replenishment, the end of a cap period). Timers cannot be cancelled: the hook checks
   * what is due. Asking twice for the same time gives one call. The kernel hears of it with the
   * policy's reply to this instant, so ask from any hook but `running` (whose call may reach the
   * policy after its instant, and then fires 1 ns after the kernel hears of it). At most
   * `MAX_TIMERS` (1024) may be pending; one more is an invalid decision. The host sets a minimum
   * distance from now (`host.cpu.minTimer`, default 10 µs): a nearer timer (or a late one) now and
   * then passes (an allowance of 8 per pCPU, refilled by one per minimum), a habit of them is
   * `invalid` (`timer-too-soon`).
   *
   * @param atNs When, in ns: after `now` (rounded up to an integer).
   * @throws {Error} When the policy has no `timer` hook, or `atNs` is not after `now`.
   */
  timer(atNs: number): void;
  /**
   * Adds `delta` to one of the per-VM counters the policy declared (`counters` in
   * `defineCpuPolicy`); reports show them under `vms[].cpu.counters`.
   *
   * @param vm The VM (a view or its index).
   * @param counter A declared counter name, such as `deadlineMisses`.
   * @param delta How much to add (default 1).
   * @throws {Error} When the counter was not declared.
   */
  count(vm: VmView<S> | number, counter: string, delta?: number): void;
}

/**
 * The hooks of a CPU policy. Every one is optional; a policy without `dispatch` gets the SDK's
 * FIFO (every runnable vCPU in turn, {@linkcode DEFAULT_SLICE_NS} at a time). `C` is the resolved
 * configuration, `S` the type of the vCPUs' `slot` (what `vcpuSlot` returns).
 */
export interface CpuHooks<C, S = undefined> {
  /**
   * Makes the policy's own state for a vCPU, kept in `vcpu.slot` and typed: called once for each
   * vCPU when its VM appears (and again when the policy takes over a running kernel), before
   * `vmAdded`. Without it, `slot` stays undefined.
   *
   * @param ctx The context (`ctx.now` is when the VM appeared).
   * @param vcpu The new vCPU, whose `vm` and id are set.
   * @returns The vCPU's state.
   */
  vcpuSlot?(ctx: CpuContext<C, S>, vcpu: VcpuView<S>): S;
  /**
   * A vCPU became runnable: remember it, to name it in a later `dispatch`.
   *
   * @param ctx The context.
   * @param vcpu The vCPU; `burstNs` and `remainingNs` hold its run step when its program declares
   *   it (textbook workloads), else null.
   * @param reason Why: `arrive` (its VM arrived), `wake` (after a sleep, an I/O or a fault),
   *   `slice` (its slice ended), `preempt` (it was preempted), `replay` (the policy took over a
   *   running kernel, which replays every runnable vCPU in the order it became runnable).
   */
  enqueue?(ctx: CpuContext<C, S>, vcpu: VcpuView<S>, reason: EnqueueReason): void;
  /**
   * A pCPU is idle and vCPUs are runnable: name the next vCPU, or several (the first runs, the
   * rest wait in the pCPU's local queue and run in order without asking again), or null to leave
   * it idle. A pCPU left idle asks again at the next instant anything happens. Naming a vCPU that
   * is not runnable, or is already in a local queue, is an invalid decision (the policy is
   * ejected), except a vCPU of a VM removed since the policy last heard: that one is dropped.
   *
   * @param ctx The context.
   * @param pcpu The index of the pCPU that asks.
   * @returns The decision(s), or null (or undefined) to idle.
   */
  dispatch?(
    ctx: CpuContext<C, S>,
    pcpu: number,
  ): Dispatch | readonly Dispatch[] | null | undefined;
  /**
   * A vCPU arrived or woke (it was just `enqueue`d): return a pCPU to preempt in its favour, or
   * null. The vCPU running there stops (`stopping` with reason `preempt`) and becomes runnable
   * again; the freed pCPU then runs the next vCPU of its local queue, or asks `dispatch`: the
   * woken vCPU runs there only when the policy names it. Naming an idle pCPU does nothing (an idle
   * pCPU asks for work by itself); naming one that does not exist is an invalid decision.
   *
   * @param ctx The context.
   * @param vcpu The vCPU that arrived or woke.
   * @returns A pCPU index, or null (or undefined) to preempt none.
   */
  preempt?(ctx: CpuContext<C, S>, vcpu: VcpuView<S>): number | null | undefined;
  /**
   * A periodic tick on a busy pCPU: return true to preempt its vCPU (it stops with reason
   * `preempt` and is enqueued again). Ticks fall on multiples of the period (`tickNs` in
   * `defineCpuPolicy`, default `DEFAULT_TICK_NS`, 10 ms), once for every busy pCPU, in pCPU
   * order; idle pCPUs get none.
   *
   * @param ctx The context.
   * @param pcpu The pCPU's index.
   * @param vcpu The vCPU running on it.
   * @returns True to preempt.
   */
  tick?(ctx: CpuContext<C, S>, pcpu: number, vcpu: VcpuView<S>): boolean | void;
  /**
   * A vCPU started running on a pCPU (the one that asked for it, or one whose local queue held
   * it). The call reaches the policy with its next batch, which may be in a later instant than
   * `ctx.now`.
   *
   * @param ctx The context (`ctx.now` is when it started).
   * @param vcpu The vCPU.
   * @param pcpu The pCPU's index.
   */
  running?(ctx: CpuContext<C, S>, vcpu: VcpuView<S>, pcpu: number): void;
  /**
   * A vCPU stopped running. `vcpu.ranNs` already includes `ranNs`; after `block` and `done`,
   * `vcpu.lastBurstNs` holds the CPU burst that just ended (from its wake to this stop).
   *
   * @param ctx The context.
   * @param vcpu The vCPU.
   * @param reason `slice` (its slice ended; it is enqueued again), `block` (it sleeps, waits for
   *   I/O or stalls on a page fault), `done` (its program ended or its VM was removed), `preempt`
   *   (a `preempt`, `tick` or `timer` answer took its pCPU; it is enqueued again).
   * @param ranNs The CPU time of this stint alone: since it was put on its pCPU (the `running`
   *   call), not its total (`vcpu.ranNs`).
   */
  stopping?(ctx: CpuContext<C, S>, vcpu: VcpuView<S>, reason: StopReason, ranNs: number): void;
  /**
   * A VM appeared (at its arrival, or when the policy takes over a running kernel). Its vCPUs'
   * slots are made already.
   *
   * @param ctx The context.
   * @param vm The VM, with its vCPUs and parameters.
   */
  vmAdded?(ctx: CpuContext<C, S>, vm: VmView<S>): void;
  /**
   * A VM's parameters changed (workload timeline, live control); the view already holds the new
   * values.
   *
   * @param ctx The context.
   * @param vm The VM.
   */
  vmChanged?(ctx: CpuContext<C, S>, vm: VmView<S>): void;
  /**
   * A VM was removed (live control): its vCPUs are done and never run again; the SDK already
   * dropped them from the local-queue counts. Forget them.
   *
   * @param ctx The context.
   * @param vm The VM (`alive` is false).
   */
  vmRemoved?(ctx: CpuContext<C, S>, vm: VmView<S>): void;
  /**
   * A timer asked for with `ctx.timer` is due (`ctx.now`): return the pCPUs whose vCPUs to preempt
   * (a budget was replenished, a parked vCPU may run again), or nothing. Naming an idle pCPU does
   * nothing: idle pCPUs ask for work by themselves at this instant.
   *
   * @param ctx The context.
   * @returns A pCPU index, several, or nothing.
   */
  timer?(ctx: CpuContext<C, S>): number | readonly number[] | null | undefined | void;
}

/**
 * The slice given by the default FIFO of a policy without a `dispatch` hook (sched_ext's).
 *
 * @example
 * ```ts
 * import { DEFAULT_SLICE_NS, defineCpuPolicy } from "./mod.ts";
 *
 * // No dispatch hook: the SDK's FIFO gives every vCPU DEFAULT_SLICE_NS (20 ms) at a time.
 * export default defineCpuPolicy({ name: "plain-fifo", create: () => ({}) });
 * console.assert(DEFAULT_SLICE_NS === 20_000_000);
 * ```
 */
export const DEFAULT_SLICE_NS = 20_000_000;
