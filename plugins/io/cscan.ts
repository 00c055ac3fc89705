/**
 * C-SCAN, the circular elevator: the head serves requests sweeping in one direction only (the
 * disk's `direction`), travels on to the last cylinder, returns to the other edge without serving
 * anything, and sweeps again: waiting times are more even than SCAN's. Both trips are head
 * movements the policy orders (`{ seekTo }`) and count in `seekCylinders`, the return sweep
 * included: from 53 moving up, 98, 183, 37, 122, 14, 124, 65, 67 cost 146 (up to 199) + 199 (back
 * to 0) + 37 (up to 37) = 382 cylinders.
 *
 * @module
 */

import { defineIoPolicy, SortedRequests } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "cscan",
  create({ disks }) {
    const queues = disks.map(() => new SortedRequests("cylinder"));
    // The sweep direction is the disk's starting one, for good (the return trip does not turn it).
    const up = disks.map((disk) => disk.direction === "up");
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!, i = disk.index;
        const next = up[i] ? queue.ceiling(disk.head) : queue.floor(disk.head);
        if (next === undefined) {
          const [far, near] = up[i] ? [disk.cylinders - 1, 0] : [0, disk.cylinders - 1];
          // Sweep on to the far edge, then return to the other one.
          return disk.head === far ? { seekTo: near } : [{ seekTo: far }, { seekTo: near }];
        }
        queue.remove(next);
        return next;
      },
    };
  },
});
