/**
 * A weighted fair policy in the spirit of Linux's BFQ: each VM has a queue per disk, and the disk
 * serves one VM's queue at a time, for up to a *budget* of bytes (or until the queue empties or a
 * `timeout` passes), in block order within the queue. Which VM goes next is decided by B-WF2Q+
 * virtual times: serving `bytes` advances a VM's virtual time by `bytes / io.weight`, so over time
 * each backlogged VM receives bytes in proportion to its cgroup `io.weight` (1..10000, default 100).
 * A VM that overstays its `timeout` is charged its full budget, as BFQ does to seeky queues.
 * Left out: BFQ's idling for the next request of the VM in service (no timers here), its
 * heuristics for interactive and soft real-time queues, and budget auto-tuning.
 *
 * @module
 */

import {
  defineIoPolicy,
  type IoRequestView,
  type IoVmView,
  param,
  SortedRequests,
} from "../../core/policy/mod.ts";

/** One VM's queue on one disk. */
class VmQueue {
  readonly vm: IoVmView;
  readonly requests = new SortedRequests("lba");
  /** Virtual start and finish times. */
  start = 0;
  finish = 0;
  /** Bytes served in the current turn, when it started, and where the last request ended. */
  served = 0;
  sinceNs = 0;
  position = 0;

  constructor(vm: IoVmView) {
    this.vm = vm;
  }
}

/** One disk's scheduler state. */
class DiskState {
  readonly queues = new Map<number, VmQueue>();
  active: VmQueue | null = null;
  /** The disk's virtual time. */
  vtime = 0;
}

export default defineIoPolicy({
  name: "bfq",
  config: {
    budget: param.number(1 << 20, { min: 4096, integer: true }),
    timeout: param.duration("125ms"),
  },
  create({ config, disks }) {
    const states = disks.map(() => new DiskState());

    function queueOf(state: DiskState, vm: IoVmView): VmQueue {
      let queue = state.queues.get(vm.index);
      if (queue === undefined) state.queues.set(vm.index, queue = new VmQueue(vm));
      return queue;
    }

    // The turn of the queue in service ends: charge it, and move its virtual times on.
    function expire(state: DiskState, queue: VmQueue, nowNs: number): void {
      const timedOut = nowNs - queue.sinceNs >= config.timeout;
      const charged = timedOut ? Math.max(queue.served, config.budget) : queue.served;
      let weights = 0;
      for (const q of state.queues.values()) {
        if (q.requests.size > 0 || q === queue) weights += q.vm.weight;
      }
      state.vtime += charged / weights;
      queue.start += charged / queue.vm.weight;
      queue.finish = queue.start + config.budget / queue.vm.weight;
      state.active = null;
    }

    // B-WF2Q+: among the backlogged queues already eligible (start <= vtime), the earliest finish.
    function select(state: DiskState): VmQueue | null {
      let best: VmQueue | null = null, earliest: VmQueue | null = null;
      for (const queue of state.queues.values()) {
        if (queue.requests.size === 0) continue;
        if (earliest === null || queue.start < earliest.start) earliest = queue;
        if (queue.start <= state.vtime && (best === null || queue.finish < best.finish)) {
          best = queue;
        }
      }
      if (best === null && earliest !== null) {
        state.vtime = earliest.start;
        best = earliest;
      }
      return best;
    }

    return {
      submitted(_ctx, request) {
        const state = states[request.disk.index]!, queue = queueOf(state, request.vm);
        if (queue.requests.size === 0 && state.active !== queue) {
          // Newly backlogged: it may not claim virtual time it left unused while idle.
          queue.start = Math.max(queue.start, state.vtime);
          queue.finish = queue.start + config.budget / queue.vm.weight;
        }
        queue.requests.add(request);
      },
      dispatch(ctx, disk) {
        const state = states[disk.index]!;
        let queue = state.active;
        if (
          queue !== null &&
          (queue.requests.size === 0 || queue.served >= config.budget ||
            ctx.now - queue.sinceNs >= config.timeout)
        ) {
          expire(state, queue, ctx.now);
          queue = null;
        }
        if (queue === null) {
          queue = select(state);
          if (queue === null) return null;
          state.active = queue;
          queue.served = 0;
          queue.sinceNs = ctx.now;
        }
        const request: IoRequestView = queue.requests.ceiling(queue.position) ??
          queue.requests.first()!;
        queue.requests.remove(request);
        queue.served += request.bytes;
        queue.position = request.lba + request.blocks;
        return request;
      },
    };
  },
});
