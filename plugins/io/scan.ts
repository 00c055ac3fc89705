/**
 * SCAN, the elevator: the head sweeps in one direction serving every request on its way, travels
 * on to the last cylinder, then reverses. The starting direction is the disk's (`direction` in
 * `host.disks`). The trip to the edge is a head movement the policy orders (`{ seekTo }`), so it
 * counts in `seekCylinders`: from 53 moving down, 98, 183, 37, 122, 14, 124, 65, 67 cost
 * 53 (down to 0) + 183 (up to 183) = 236 cylinders.
 *
 * @module
 */

import { defineIoPolicy, SortedRequests } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "scan",
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
          const edge = up[i] ? disk.cylinders - 1 : 0;
          if (disk.head !== edge) return { seekTo: edge };
          up[i] = !up[i];
          next = up[i] ? queue.ceiling(disk.head) : queue.floor(disk.head);
        }
        if (next !== undefined) queue.remove(next);
        return next;
      },
    };
  },
});
