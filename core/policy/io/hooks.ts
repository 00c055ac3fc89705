/**
 * What an I/O policy writes: its hooks ({@linkcode IoHooks}), the context every hook receives
 * ({@linkcode IoContext}) and the items of a dispatch answer ({@linkcode IoDispatch}).
 *
 * The kernel checks every item of an answer: a request that is not live, is for another disk or
 * was dispatched already, a cylinder that does not exist, more than two head movements in a row,
 * each ejects the policy (an incident), and a trusted built-in takes over.
 *
 * @module
 */

import type { Rng } from "../../engine/rng.ts";
import type { DiskView, IoRequestView, IoVmView } from "./views.ts";

/** Move the head to `seekTo` (a cylinder) before the next request: SCAN's sweep to the edge. */
export interface HeadSeek {
  /** The cylinder to move the head to. */
  seekTo: number;
}

/** One item of a dispatch answer: a request (view or id), or a head movement. */
export type IoDispatch = IoRequestView | number | HeadSeek;

/** What every hook receives. `C` is the resolved configuration. */
export interface IoContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG: deterministic across runs and isolations. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** The host's disks, by index. */
  readonly disks: readonly DiskView[];
  /** Every VM seen so far, by index (sparse: VMs appear with their first request). */
  readonly vms: readonly IoVmView[];
  /**
   * The live request with this id (queued, dispatched or started), or undefined.
   *
   * @param id The request's id.
   */
  request(id: number): IoRequestView | undefined;
}

/** The hooks of an I/O policy. Every one is optional. `C` is the resolved configuration. */
export interface IoHooks<C> {
  /**
   * A request reached the scheduler (past the kernel's `io.max` throttling, which the policy
   * never sees): remember it, to name it in a later `dispatch`.
   *
   * @param ctx The context.
   * @param request The request (`status` is `queued`).
   */
  submitted?(ctx: IoContext<C>, request: IoRequestView): void;
  /**
   * A disk is idle and requests are queued for it: name the next request, or several (they fill
   * the disk's queue and are served in order without asking again), optionally after head
   * movements (at most two in a row); null to leave the disk idle until the next instant anything
   * happens. A disk left idle with requests queued for the stall timeout (`--stall`, 30 s)
   * ejects the policy. Without this hook, each disk serves its requests in submission order.
   *
   * @param ctx The context.
   * @param disk The idle disk (`head` is where its head is).
   * @returns The request(s) and head movements, or null (or undefined) to idle.
   */
  dispatch?(
    ctx: IoContext<C>,
    disk: DiskView,
  ): IoDispatch | readonly IoDispatch[] | null | undefined;
  /**
   * A request started on its disk (`status` is `started`).
   *
   * @param ctx The context.
   * @param request The request.
   */
  started?(ctx: IoContext<C>, request: IoRequestView): void;
  /**
   * A request completed (`status` is `done`); its disk's `head` is where the request left it.
   *
   * @param ctx The context.
   * @param request The request.
   * @param serviceNs How long the disk took, from its start (seek, rotation, transfer).
   */
  completed?(ctx: IoContext<C>, request: IoRequestView, serviceNs: number): void;
  /**
   * A VM appeared (with its first request, or when the policy takes over a running kernel).
   *
   * @param ctx The context.
   * @param vm The VM, with its weight and limits.
   */
  vmAdded?(ctx: IoContext<C>, vm: IoVmView): void;
  /**
   * A VM's weight or limits changed (workload timeline, live control); the view already holds
   * the new values.
   *
   * @param ctx The context.
   * @param vm The VM.
   */
  vmChanged?(ctx: IoContext<C>, vm: IoVmView): void;
  /**
   * A VM was removed (live control): it submits no more; its requests already submitted are
   * still served.
   *
   * @param ctx The context.
   * @param vm The VM (`alive` is false).
   */
  vmRemoved?(ctx: IoContext<C>, vm: IoVmView): void;
}
