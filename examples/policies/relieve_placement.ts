import { definePlacementPolicy, param } from "@hyperhook/hyperhook/policy";

// First fit, then relieve any host asked for more than `threshold` of its MIPS.
export default definePlacementPolicy({
  name: "relieve",
  config: { threshold: param.number(0.8, { min: 0 }) },
  create: ({ config }) => ({
    place: (ctx, vm) => ctx.hosts.find((host) => ctx.fits(vm, host, vm.mips)) ?? null,
    evaluate(ctx) {
      for (const host of ctx.hosts) {
        if (host.requestedMips <= config.threshold * host.mips) continue;
        const vm = host.vms.find((candidate) => !candidate.migrating);
        const to = vm && ctx.hosts.find((other) => other !== host && ctx.fits(vm, other));
        if (vm && to) ctx.migrate(vm, to);
      }
    },
  }),
});
