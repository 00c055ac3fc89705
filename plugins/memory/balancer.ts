/**
 * A VM-level memory balancer, in the spirit of VMware ESX. Every period it estimates each VM's
 * working set from the kernel's accessed-bit scan (the distinct pages the VM referenced in the
 * period, smoothed so that a quiet period does not shrink it at once) and sets balloon targets:
 *
 * 1. each VM wants its estimate plus headroom (a VM held below its working set still shows all of
 *    it: the scan counts pages it faulted in and lost again within the period), except a VM that
 *    streams, referencing its pages about once each, which more memory would not help;
 * 2. when the host is short, frames are shared by weight, never giving a VM more than it wants
 *    (weighted max-min fairness: proportional share);
 * 3. frames nobody wants go out by weight too, less to VMs whose frames sit idle (the idle-memory
 *    tax: an idle frame counts `tax` less), and never beyond a VM's address space.
 *
 * Inside each VM, CLOCK picks the victims, and the kernel enforces the targets.
 *
 * @module
 */

import { defineMemoryPolicy, type MemoryVmView, param } from "../../core/policy/mod.ts";

export default defineMemoryPolicy({
  name: "balancer",
  config: {
    period: param.duration("100ms", { min: "1us" }),
    headroom: param.number(0.25, { min: 0, max: 10 }),
    tax: param.number(0.75, { min: 0, max: 1 }),
    minFrames: param.number(4, { min: 1, integer: true }),
  },
  balanceNs: (config) => config.period,
  create({ config, frames }) {
    const estimate = new Map<number, number>(); // working-set estimate per VM, in pages
    let hand = 0;
    return {
      victim(_ctx, fault) {
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
      balance(ctx) {
        const vms = ctx.vms.filter((vm): vm is MemoryVmView => vm !== undefined && vm.alive);
        const wants = vms.map((vm) => {
          const previous = estimate.get(vm.index) ?? vm.accessed;
          const workingSet = Math.max(vm.accessed, (previous + vm.accessed) / 2);
          estimate.set(vm.index, workingSet);
          // A VM that referenced its pages about once each in the period is streaming: more
          // memory would not give it hits, so it wants only the minimum.
          if (vm.refs < 2 * vm.accessed) return Math.min(config.minFrames, vm.pages);
          const want = Math.ceil(workingSet * (1 + config.headroom)) + config.minFrames;
          return Math.min(want, vm.pages);
        });
        const weights = vms.map((vm) => vm.weight);
        const given = waterFill(frames.count, weights, wants);
        const spare = frames.count - given.reduce((sum, frames) => sum + frames, 0);
        if (spare > 1e-9) {
          // Idle frames pay the tax: a VM gets less of what is spare the less it uses what it has.
          const taxed = vms.map((vm, i) => {
            const idle = vm.resident === 0 ? 0 : 1 - Math.min(1, vm.accessed / vm.resident);
            return weights[i]! * (1 - config.tax * idle);
          });
          // Nobody gets more than its whole address space.
          const room = vms.map((vm, i) => vm.pages - given[i]!);
          waterFill(spare, taxed, room).forEach((extra, i) => given[i] = given[i]! + extra);
        }
        return vms.map((vm, i) => ({ vm, frames: Math.max(1, Math.floor(given[i]!)) }));
      },
    };
  },
});

/** Shares `total` by `weights`, never giving anyone more than it `wants` (water filling). */
function waterFill(total: number, weights: number[], wants: number[]): number[] {
  const given = wants.map(() => 0);
  let open = wants.map((_, i) => i).filter((i) => wants[i]! > 0);
  let left = total;
  while (open.length > 0 && left > 1e-9) {
    const sum = open.reduce((s, i) => s + weights[i]!, 0);
    const full = open.filter((i) => wants[i]! - given[i]! <= left * weights[i]! / sum);
    if (full.length === 0) {
      for (const i of open) given[i] = given[i]! + left * weights[i]! / sum;
      break;
    }
    for (const i of full) left -= wants[i]! - given[i]!, given[i] = wants[i]!;
    open = open.filter((i) => !full.includes(i));
  }
  return given;
}
