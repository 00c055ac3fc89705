/**
 * Least recently used: the victim is the page whose last reference is the oldest. The kernel
 * reports the frames referenced since the last batch in order of last reference, so moving each
 * to the back of a list keeps the exact LRU order.
 *
 * @module
 */

import { defineMemoryPolicy, FrameList } from "../../core/policy/mod.ts";

export default defineMemoryPolicy({
  name: "lru",
  create({ frames }) {
    const recency = new FrameList(frames); // least recently used first
    return {
      loaded(_ctx, frame) {
        recency.push(frame);
      },
      touched(_ctx, touched) {
        recency.pushAll(touched);
      },
      evicted(_ctx, frame) {
        recency.remove(frame);
      },
      victim(_ctx, fault) {
        return recency.first(fault.scope);
      },
    };
  },
});
