/**
 * my-policy: second chance (CLOCK). The frames form a circle and a hand sweeps it; a frame
 * referenced since the hand last passed loses its bit and is spared once, and the first frame
 * found without the bit is the victim.
 *
 * @example Run it on the example workload
 * ```sh
 * deno task sim
 * ```
 *
 * @module
 */

import { defineMemoryPolicy, type MemoryPolicy } from "@hyperhook/hyperhook/policy";

/** Second chance: evict the first frame the hand finds unreferenced. */
const policy: MemoryPolicy = defineMemoryPolicy({
  name: "my-policy",
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
          if (frames.referenced[frame] === 1) frames.referenced[frame] = 0;
          else return frame;
        }
        return null;
      },
    };
  },
});

export default policy;
