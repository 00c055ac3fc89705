/**
 * NPA, non power-aware (Beloglazov and Buyya 2012's baseline): first fit, no migrations, and no
 * power management at all: every host draws its full (100 %) power for the whole run.
 *
 * @module
 */

import { definePlacementPolicy } from "../../core/policy/mod.ts";

export default definePlacementPolicy({
  name: "npa",
  power: "peak",
  create: () => ({
    place: (ctx, vm) => ctx.hosts.find((host) => ctx.fits(vm, host, vm.mips)) ?? null,
  }),
});
