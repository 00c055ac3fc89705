/**
 * First in, first out: the victim is the page that was loaded longest ago, however often it is
 * used. Simple, and the policy that shows Belady's anomaly (more frames, more faults).
 *
 * @module
 */

import { defineMemoryPolicy, FrameList } from "../../core/policy/mod.ts";

export default defineMemoryPolicy({
  name: "fifo",
  touches: false,
  create({ frames }) {
    const queue = new FrameList(frames); // frames in the order their pages were loaded
    return {
      loaded(_ctx, frame) {
        queue.push(frame);
      },
      evicted(_ctx, frame) {
        queue.remove(frame);
      },
      victim(_ctx, fault) {
        return queue.first(fault.scope);
      },
    };
  },
});
