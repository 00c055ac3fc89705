/**
 * What a domain is to the kernel ({@linkcode KernelDomain}: events, settling, replies, replay),
 * and the one shape every domain of VMs shares ({@linkcode VmDomain}: add a VM, change its
 * parameters now or on the timeline, remove it, give its figures). The simulation composes the
 * domains and wires them to each other explicitly ({@linkcode VcpuControl}); the kernel knows
 * none of them by name.
 *
 * @module
 */

import type { Reply } from "../protocol/batch.ts";
import type { Domain, StartResult } from "../protocol/definition.ts";
import type { PolicySlot } from "./slot.ts";

/** What a domain provides to the kernel. */
export interface KernelDomain {
  /** The domain's name. */
  readonly name: Domain;
  /** Its policy slot. */
  readonly slot: PolicySlot;
  /** The id of the VM a vCPU belongs to (the CPU domain's), for incidents. */
  vmOfVcpu?(index: number): string | undefined;
  /** Handles one of the domain's events. */
  onEvent(kind: number, target: number, tag: number): void;
  /** Adds the queries of the current instant to the slot's batch. */
  settle(): void;
  /**
   * Validates and applies the reply to the batch just sent.
   *
   * @throws {PolicyFailure} Of kind `invalid` on the first invalid decision.
   */
  apply(reply: Reply): void;
  /** Forgets unanswered queries and writes the domain's current state for a fresh policy. */
  replay(): void;
  /** The host as the domain's policies see it (sent at start). */
  host(): Record<string, unknown>;
  /**
   * Checks what a freshly started policy declared against the domain's bounds (a tick period
   * too short, for instance), before it takes charge.
   *
   * @throws {PolicyFailure} Of kind `invalid`, naming the bound.
   */
  check?(declared: StartResult): void;
  /** Called once a new policy is in charge (arms its tick, for instance). */
  installed(): void;
  /** Closes the books at the end of the run (partial run times, waits). */
  finish(endNs: number): void;
  /** Lets go of what the domain holds outside the kernel (helper threads), when it has any. */
  close?(): void;
  /**
   * Goes on in the current instant, as asked with `Kernel.again`: at once when `direct` (no
   * event of the instant is left), else by queueing an event at the current time.
   */
  again?(direct: boolean): void;
}

/**
 * A domain of VMs: every VM of the kernel has its place in it, by the same index in every domain.
 * `A` is what the domain needs to add a VM, `S` a change of a VM's parameters, `F` its figures.
 */
export interface VmDomain<A, S, F> extends KernelDomain {
  /**
   * Adds a VM at the next index (it arrives later, at its arrival time).
   *
   * @param vm What this domain needs of the VM.
   */
  addVm(vm: A): void;
  /**
   * Changes a VM's parameters now (live control); the policy hears of it in its next batch.
   *
   * @param index The VM's index.
   * @param set The parameters that change.
   */
  setVmParams(index: number, set: S): void;
  /**
   * Changes a VM's parameters at `atNs` (the workload's timeline): an event of the domain, so
   * that changes happen in the order they were scheduled.
   *
   * @param atNs When.
   * @param index The VM's index.
   * @param set The parameters that change.
   */
  scheduleVmParams(atNs: number, index: number, set: S): void;
  /**
   * Removes a VM now (live control): it stops for good, the policy hears `VM_REMOVE` in its next
   * batch; its index is never reused. Removing a removed VM does nothing.
   *
   * @param index The VM's index.
   */
  removeVm(index: number): void;
  /**
   * The domain's figures now, per VM and for the host: what reports and the live state show.
   *
   * @param nowNs The current simulated time.
   */
  figures(nowNs: number): F;
}

/**
 * What the CPU domain lets the other domains do with its vCPUs, by vCPU id: the memory domain
 * stalls a vCPU on a fault, the I/O domain wakes one whose request completed. Handed to them
 * where the simulation is composed.
 */
export interface VcpuControl {
  /**
   * Blocks a running vCPU in the middle of its run step (a fault being served); does nothing to a
   * vCPU that is not running.
   *
   * @param vcpu The vCPU's id.
   */
  stall(vcpu: number): void;
  /**
   * Wakes a vCPU blocked by another domain (a stall served, an I/O completed).
   *
   * @param vcpu The vCPU's id.
   */
  resume(vcpu: number): void;
  /**
   * Whether a vCPU runs now.
   *
   * @param vcpu The vCPU's id.
   */
  isRunning(vcpu: number): boolean;
}
