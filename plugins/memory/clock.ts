/**
 * CLOCK (second chance): the frames form a circle and a hand sweeps it. A frame whose referenced
 * bit is set loses the bit and is spared once; the first frame found without it is the victim,
 * and the hand moves past it. A page's bit is set when it is loaded and at every reference.
 *
 * @module
 */

import { defineMemoryPolicy } from "../../core/policy/mod.ts";

export default defineMemoryPolicy({
  name: "clock",
  create({ frames }) {
    let hand = 0;
    return {
      victim(_ctx, fault) {
        // Two sweeps at most: the first clears every bit it passes.
        for (let step = 0; step < 2 * frames.count + 1; step++) {
          const frame = hand;
          hand = (hand + 1) % frames.count;
          const owner = frames.vm[frame]!;
          if (owner < 0 || (fault.scope !== null && owner !== fault.scope.index)) continue;
          if (frames.referenced[frame] === 1) frames.referenced[frame] = 0; // second chance
          else return frame;
        }
        return null;
      },
    };
  },
});
