/**
 * A domain's watchdog: it ejects a policy that leaves something waiting for the stall timeout
 * (`--stall`, 30 s by default): a runnable vCPU that never runs, a disk left idle with requests
 * queued. It keeps one event, at the time the oldest waiter would pass the timeout, so it costs
 * nothing while things move; the domain says what waits and for how long.
 *
 * @module
 */

import type { Kernel } from "./kernel.ts";

/** One domain's watchdog and its event. */
export class Watchdog {
  #kernel: Kernel;
  #kind: number;
  #atNs = Infinity;

  /**
   * @param kernel The kernel (its clock, queue and stall timeout).
   * @param kind The domain's event kind for the watchdog.
   */
  constructor(kernel: Kernel, kind: number) {
    this.#kernel = kernel;
    this.#kind = kind;
  }

  /**
   * Something began waiting at `nowNs`: arms the watchdog for a timeout from now, unless it is
   * armed already (for something that waits longer).
   */
  start(nowNs: number): void {
    if (this.#atNs === Infinity) this.#arm(nowNs + this.#kernel.stallNs);
  }

  /** Whether an event of the watchdog at `nowNs` is its current one (a stale one does nothing). */
  due(nowNs: number): boolean {
    return nowNs === this.#atNs;
  }

  /**
   * At the watchdog's event: arms it again for the oldest waiter and says whether that one has
   * waited the stall timeout. Nothing waiting puts it to sleep until the next `start`.
   *
   * @param nowNs The current time.
   * @param oldestSinceNs When the oldest waiter began waiting, or Infinity when none waits.
   * @returns True when the policy must be ejected.
   */
  overdue(nowNs: number, oldestSinceNs: number): boolean {
    if (oldestSinceNs === Infinity) {
      this.#atNs = Infinity;
      return false;
    }
    const stall = this.#kernel.stallNs, limit = oldestSinceNs + stall;
    this.#arm(limit > nowNs ? limit : nowNs + stall);
    return limit <= nowNs;
  }

  #arm(atNs: number): void {
    this.#atNs = atNs;
    this.#kernel.schedule(atNs, this.#kind, 0);
  }
}
