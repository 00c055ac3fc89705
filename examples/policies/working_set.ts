/**
 * A working-set-aware memory balancer, after Denning's working-set model (1968): a VM's working
 * set is the pages it used in the last `window` of time, and a VM should hold its working set or
 * nothing at all.
 *
 * - The policy notes when each frame was last used (`loaded`, `touched`).
 * - Every `period` it measures each VM's working set (its resident frames used within `window`),
 *   adds `headroom`, and more when the VM faulted while held at its target (what it could not show
 *   it wanted), and sets balloon targets: all of that when it fits, else a weighted max-min fair
 *   share of the host's frames. A VM that streams through memory cannot crowd out one whose small
 *   working set is used slowly, which is exactly what global LRU lets happen.
 * - A victim is the least recently used frame of the VM that must give one up; when any VM's
 *   will do, of a VM holding more than its target, else of any VM.
 *
 * @example A slow loop beside a fast scan
 * ```sh
 * deno task sim my_workload.json --memory examples/policies/working_set.ts
 * ```
 *
 * @module
 */

import {
  type Balloon,
  defineMemoryPolicy,
  type MemoryPolicy,
  type MemoryVmView,
  param,
} from "@hyperhook/hyperhook/policy";

/** The working-set balancer: balloon targets from measured working sets, LRU victims. */
const policy: MemoryPolicy = defineMemoryPolicy({
  name: "working-set",
  config: {
    window: param.duration("20ms", { min: "1us" }),
    period: param.duration("50ms", { min: "1ms" }),
    headroom: param.number(0.2, { min: 0, max: 10 }),
    minFrames: param.number(2, { min: 1, integer: true }),
  },
  balanceNs: (config) => config.period,
  create({ config, frames }) {
    const lastUse = new Float64Array(frames.count);

    /** The least recently used frame whose owner `may` give it up, or -1. */
    function leastRecent(may: (owner: number) => boolean): number {
      let best = -1;
      for (let frame = 0; frame < frames.count; frame++) {
        const owner = frames.vm[frame]!;
        if (owner < 0 || !may(owner)) continue;
        if (best === -1 || lastUse[frame]! < lastUse[best]!) best = frame;
      }
      return best;
    }

    function workingSet(now: number, vm: MemoryVmView): number {
      let size = 0;
      for (let frame = 0; frame < frames.count; frame++) {
        if (frames.vm[frame] === vm.index && now - lastUse[frame]! <= config.window) size++;
      }
      return size;
    }

    return {
      loaded(ctx, frame) {
        lastUse[frame] = ctx.now;
      },
      touched(ctx, touched) {
        for (let i = 0; i < touched.length; i++) lastUse[touched[i]!] = ctx.now;
      },
      victim(ctx, fault) {
        const scope = fault.scope;
        if (scope !== null) return leastRecent((owner) => owner === scope.index);
        const over = (owner: number) => {
          const vm = ctx.vms[owner]!;
          return vm.target !== null && vm.resident > vm.target;
        };
        const frame = leastRecent(over);
        return frame >= 0 ? frame : leastRecent(() => true);
      },
      balance(ctx): Balloon[] {
        const vms = ctx.vms.filter((vm): vm is MemoryVmView => vm !== undefined && vm.alive);
        const wants = vms.map((vm) => {
          // Pages used lately that are resident, or all the distinct pages it touched in the
          // period (the kernel's accessed-bit scan), evicted ones included: whichever is more.
          const used = Math.max(workingSet(ctx.now, vm), vm.accessed);
          let want = Math.ceil(used * (1 + config.headroom));
          // Held at its target and faulting: it wants more than it could show.
          if (vm.faults > 0 && vm.target !== null && vm.resident >= vm.target) {
            want = Math.max(want, Math.ceil(vm.target * (1 + config.headroom)) + 1);
          }
          return Math.min(vm.pages, Math.max(config.minFrames, want));
        });
        const given = waterFill(frames.count, vms.map((vm) => vm.weight), wants);
        // Frames nobody wants go by weight, so that a VM that starts to grow finds room.
        let spare = frames.count - given.reduce((sum, n) => sum + n, 0);
        const weights = vms.reduce((sum, vm) => sum + vm.weight, 0);
        const extra = given.map((_, i) => Math.floor(spare * vms[i]!.weight / weights));
        spare -= extra.reduce((sum, n) => sum + n, 0);
        return vms.map((vm, i) => ({ vm, frames: given[i]! + extra[i]! + (i < spare ? 1 : 0) }));
      },
    };
  },
});

/** Shares `total` whole frames by `weights`, never giving one more than it `wants`. */
function waterFill(total: number, weights: number[], wants: number[]): number[] {
  const given = wants.map(() => 0);
  let open = wants.map((_, i) => i);
  let left = total;
  while (open.length > 0 && left > 0) {
    const sum = open.reduce((s, i) => s + weights[i]!, 0);
    const full = open.filter((i) => wants[i]! - given[i]! <= Math.floor(left * weights[i]! / sum));
    if (full.length === 0) {
      for (const i of open) given[i] = given[i]! + Math.floor(left * weights[i]! / sum);
      break;
    }
    for (const i of full) left -= wants[i]! - given[i]!, given[i] = wants[i]!;
    open = open.filter((i) => !full.includes(i));
  }
  return given;
}

export default policy;
