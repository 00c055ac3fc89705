/**
 * DVFS (Beloglazov and Buyya 2012's baseline): each VM goes to the first host, in host order, that
 * has room for its full MIPS; nothing ever migrates. Power follows utilisation (an idle host is
 * off). The placement domain's fallback.
 *
 * @module
 */

import { definePlacementPolicy } from "../../core/policy/mod.ts";

export default definePlacementPolicy({
  name: "dvfs",
  create: () => ({
    place: (ctx, vm) => ctx.hosts.find((host) => ctx.fits(vm, host, vm.mips)) ?? null,
  }),
});
