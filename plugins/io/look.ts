/**
 * LOOK: SCAN that reverses at the last request instead of the last cylinder. From 53 moving down,
 * 98, 183, 37, 122, 14, 124, 65, 67 cost 39 (down to 14) + 169 (up to 183) = 208 cylinders.
 *
 * @module
 */

import { defineIoPolicy, SortedRequests } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "look",
  create({ disks }) {
    const queues = disks.map(() => new SortedRequests("cylinder"));
    const up = disks.map((disk) => disk.direction === "up");
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!, i = disk.index;
        let next = up[i] ? queue.ceiling(disk.head) : queue.floor(disk.head);
        if (next === undefined) {
          up[i] = !up[i];
          next = up[i] ? queue.ceiling(disk.head) : queue.floor(disk.head);
        }
        if (next !== undefined) queue.remove(next);
        return next;
      },
    };
  },
});
