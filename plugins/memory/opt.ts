/**
 * OPT (Belady's MIN): the victim is the page that will not be used for the longest time. It needs
 * the future, so it only runs on workloads whose VMs all give explicit reference strings; it is
 * the yardstick other policies are measured against. Across VMs, "longest" counts each VM's own
 * references.
 *
 * @module
 */

import { defineMemoryPolicy } from "../../core/policy/mod.ts";

export default defineMemoryPolicy({
  name: "opt",
  touches: false,
  future: true,
  create({ frames }) {
    return {
      victim(ctx, fault) {
        let victim = -1, farthest = -1;
        for (let frame = 0; frame < frames.count; frame++) {
          const owner = frames.vm[frame]!;
          if (owner < 0 || (fault.scope !== null && owner !== fault.scope.index)) continue;
          const nextUse = ctx.vms[owner]!.nextUse(frames.page[frame]!);
          if (nextUse > farthest) [victim, farthest] = [frame, nextUse];
          if (nextUse === Infinity) break; // never used again: nothing is farther
        }
        return victim;
      },
    };
  },
});
