/**
 * C-LOOK: C-SCAN that turns back at the last request and jumps straight to the first request at
 * the other end. The jump is head movement and counts in `seekCylinders`: from 53 moving up,
 * 98, 183, 37, 122, 14, 124, 65, 67 cost 130 (up to 183) + 169 (back to 14) + 23 (up to 37) = 322
 * cylinders.
 *
 * @module
 */

import { defineIoPolicy, SortedRequests } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "clook",
  create({ disks }) {
    const queues = disks.map(() => new SortedRequests("cylinder"));
    const up = disks.map((disk) => disk.direction === "up");
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!, i = disk.index;
        const next = (up[i] ? queue.ceiling(disk.head) : queue.floor(disk.head)) ??
          (up[i] ? queue.first() : queue.last());
        if (next !== undefined) queue.remove(next);
        return next;
      },
    };
  },
});
