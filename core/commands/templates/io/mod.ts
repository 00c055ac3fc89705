/**
 * my-policy: C-LOOK. Each disk serves its queued requests in increasing cylinder order from
 * where the head is, then jumps back to the lowest queued cylinder and sweeps up again.
 *
 * @example Run it on the example workload
 * ```sh
 * deno task sim
 * ```
 *
 * @module
 */

import { defineIoPolicy, type IoPolicy, type IoRequestView } from "@hyperhook/hyperhook/policy";

/** C-LOOK: sweep up from the head, wrap to the lowest cylinder. */
const policy: IoPolicy = defineIoPolicy({
  name: "my-policy",
  create({ disks }) {
    const queues = disks.map(() => new Set<IoRequestView>());
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!;
        let ahead: IoRequestView | undefined, lowest: IoRequestView | undefined;
        for (const request of queue) {
          if (request.cylinder >= disk.head && request.cylinder < (ahead?.cylinder ?? Infinity)) {
            ahead = request;
          }
          if (request.cylinder < (lowest?.cylinder ?? Infinity)) lowest = request;
        }
        const next = ahead ?? lowest;
        if (next !== undefined) queue.delete(next);
        return next;
      },
    };
  },
});

export default policy;
