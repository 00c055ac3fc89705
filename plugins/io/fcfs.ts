/**
 * First come, first served: each disk serves its requests in the order they were submitted. The
 * textbook baseline (98, 183, 37, 122, 14, 124, 65, 67 from cylinder 53: 640 cylinders), and the
 * I/O domain's fallback.
 *
 * @module
 */

import { defineIoPolicy, Fifo, type IoRequestView } from "../../core/policy/mod.ts";

export default defineIoPolicy({
  name: "fcfs",
  create({ disks }) {
    const queues = disks.map(() => new Fifo<IoRequestView>());
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.push(request);
      },
      dispatch(_ctx, disk) {
        return queues[disk.index]!.shift();
      },
    };
  },
});
