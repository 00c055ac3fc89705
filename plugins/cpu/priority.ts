/**
 * Static priority: run the runnable vCPU whose VM has the best priority (lower number = higher
 * priority). Non-preemptive by default; with `preemptive: true` a vCPU that arrives or wakes with a
 * better priority takes the pCPU of the worst running one. Ties go to the VM listed first.
 *
 * @module
 */

import { defineCpuPolicy, param, type VcpuView } from "../../core/policy/mod.ts";

export default defineCpuPolicy({
  name: "priority",
  config: { preemptive: param.boolean(false) },
  create({ config, pcpus }) {
    const ready: VcpuView[] = [];
    const before = (a: VcpuView, b: VcpuView) =>
      a.vm.priority < b.vm.priority || (a.vm.priority === b.vm.priority && a.id < b.id);
    return {
      enqueue(_ctx, vcpu) {
        ready.push(vcpu);
      },
      preempt(ctx, vcpu) {
        if (!config.preemptive) return null;
        let victim: VcpuView | null = null;
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const running = ctx.running(pcpu);
          if (running === null) return null;
          if (victim === null || before(victim, running)) victim = running;
        }
        return victim !== null && vcpu.vm.priority < victim.vm.priority ? victim.pcpu : null;
      },
      dispatch() {
        if (ready.length === 0) return null;
        let best = 0;
        for (let i = 1; i < ready.length; i++) if (before(ready[i]!, ready[best]!)) best = i;
        const [vcpu] = ready.splice(best, 1);
        return { vcpu: vcpu! };
      },
    };
  },
});
