/**
 * An I/O policy for per-VM deadlines: SCAN-EDF (Reddy and Wyllie, 1993), simplified. A VM's
 * requests carry its deadline (`vms[].io.deadline` in the workload, or one per request).
 *
 * - While no queued request is close to its deadline, a disk sweeps like C-LOOK: the nearest
 *   request at or beyond the head, in increasing cylinder order, then back to the lowest one.
 *   Sweeping keeps seeks short, which is what keeps every VM's latency down.
 * - Once less than `urgency` of a request's time to its deadline is left (by default 70 %: a
 *   request due within 100 ms becomes urgent after 30 ms), the disk serves the urgent request with
 *   the earliest deadline first, then resumes its sweep from there. The threshold scales with each
 *   VM's own deadline.
 *
 * Requests without a deadline never preempt the sweep, so a bulk VM cannot push a
 * latency-sensitive VM past its deadline by queueing deeply, while the sweep keeps the bulk VM's
 * throughput.
 *
 * @example Compare it with C-LOOK on a shared disk
 * ```sh
 * deno task compare examples/workloads/disk_hdd.json --io clook,examples/policies/deadline_scan.ts
 * ```
 *
 * @module
 */

import {
  defineIoPolicy,
  type IoPolicy,
  type IoRequestView,
  param,
} from "@hyperhook/hyperhook/policy";

/** SCAN-EDF: sweep, but serve a request about to miss its deadline first. */
const policy: IoPolicy = defineIoPolicy({
  name: "deadline-scan",
  config: { urgency: param.number(0.7, { min: 0, max: 1 }) },
  create({ config, disks }) {
    const queues = disks.map(() => new Set<IoRequestView>());
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(ctx, disk) {
        const queue = queues[disk.index]!;
        let urgent: IoRequestView | undefined;
        let ahead: IoRequestView | undefined, lowest: IoRequestView | undefined;
        for (const request of queue) {
          const window = request.deadlineNs - request.submittedNs;
          if (
            Number.isFinite(window) && request.deadlineNs - ctx.now <= config.urgency * window &&
            (urgent === undefined || earlier(request, urgent))
          ) {
            urgent = request;
          }
          if (request.cylinder >= disk.head && (ahead === undefined || nearer(request, ahead))) {
            ahead = request;
          }
          if (lowest === undefined || nearer(request, lowest)) lowest = request;
        }
        const next = urgent ?? ahead ?? lowest;
        if (next !== undefined) queue.delete(next);
        return next;
      },
    };
  },
});

/** Earliest deadline first; the oldest request on a tie. */
function earlier(a: IoRequestView, b: IoRequestView): boolean {
  return a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.id < b.id);
}

/** Lowest cylinder first, then lowest block, then the oldest request. */
function nearer(a: IoRequestView, b: IoRequestView): boolean {
  if (a.cylinder !== b.cylinder) return a.cylinder < b.cylinder;
  return a.lba < b.lba || (a.lba === b.lba && a.id < b.id);
}

export default policy;
