/**
 * Filter and weigh, after OpenStack Nova's scheduler: hosts that fail a filter are dropped, the
 * rest are weighed, and the VM goes to the heaviest (or, with `subset` above 1, to one of the
 * `subset` heaviest drawn at random, Nova's `host_subset_size`). Nothing migrates afterwards.
 *
 * Filters: RAM (`ramAllocationRatio` × the host's RAM, at most 1: the kernel does not overcommit
 * memory), cores (vCPUs placed ≤ `cpuAllocationRatio` × cores, Nova's default 16) and room for
 * the VM's MIPS now. Weighers, each normalised to 0..1 over the hosts that passed, then multiplied:
 * free RAM (`ramWeight`) and free vCPUs (`cpuWeight`). Positive multipliers spread VMs out (Nova's
 * defaults), negative ones stack them.
 *
 * @module
 */

import { definePlacementPolicy, type HostView, param } from "../../core/policy/mod.ts";

export default definePlacementPolicy({
  name: "nova",
  config: {
    ramWeight: param.number(1),
    cpuWeight: param.number(1),
    cpuAllocationRatio: param.number(16, { min: 0 }),
    ramAllocationRatio: param.number(1, { min: 0, max: 1 }),
    subset: param.number(1, { min: 1, integer: true }),
  },
  create({ config }) {
    return {
      place(ctx, vm) {
        const passed = ctx.hosts.filter((host) =>
          host.usedRam + vm.type.ram <= host.type.ram * config.ramAllocationRatio &&
          host.vms.length + 1 <= host.type.cores * config.cpuAllocationRatio &&
          ctx.fits(vm, host, vm.mips)
        );
        if (passed.length === 0) return null;
        const freeRam = (host: HostView) => host.type.ram - host.usedRam;
        const freeCpus = (host: HostView) =>
          host.type.cores * config.cpuAllocationRatio - host.vms.length;
        const weigh = (raw: (host: HostView) => number, multiplier: number) => {
          const values = passed.map(raw);
          const low = Math.min(...values), high = Math.max(...values);
          return values.map((x) => high === low ? 0 : multiplier * (x - low) / (high - low));
        };
        const ram = weigh(freeRam, config.ramWeight), cpu = weigh(freeCpus, config.cpuWeight);
        const ranked = passed.map((host, i) => ({ host, weight: ram[i]! + cpu[i]! }))
          .sort((a, b) => b.weight - a.weight || a.host.index - b.host.index);
        const pick = Math.floor(ctx.rng.float() * Math.min(config.subset, ranked.length));
        return ranked[config.subset === 1 ? 0 : pick]!.host;
      },
    };
  },
});
