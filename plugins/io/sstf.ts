/**
 * Shortest seek time first: each disk serves the queued request nearest to its head. Ties go to
 * the older request. Fast, but a far request can wait while nearer ones keep arriving.
 * (98, 183, 37, 122, 14, 124, 65, 67 from cylinder 53: 236 cylinders.)
 *
 * @module
 */

import { defineIoPolicy, SortedRequests } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "sstf",
  create({ disks }) {
    const queues = disks.map(() => new SortedRequests("cylinder"));
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!;
        const below = queue.floor(disk.head), above = queue.ceiling(disk.head);
        let next = below ?? above;
        if (below !== undefined && above !== undefined) {
          const down = disk.head - below.cylinder, up = above.cylinder - disk.head;
          next = down < up || (down === up && below.id < above.id) ? below : above;
        }
        if (next !== undefined) queue.remove(next);
        return next;
      },
    };
  },
});
