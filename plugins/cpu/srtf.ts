/**
 * Shortest remaining time first: SJF that preempts. A vCPU that arrives or wakes with less
 * remaining time than a running one takes its pCPU. Remaining time is declared by the program, or
 * predicted from past bursts. Ties go to the VM listed first; equal times never preempt.
 *
 * @module
 */

import { BurstPredictor, defineCpuPolicy, param, type VcpuView } from "../../core/policy/mod.ts";

/** When a vCPU last started running. */
interface Started {
  startedAt: number;
}

export default defineCpuPolicy({
  name: "srtf",
  config: {
    alpha: param.number(0.5, { min: 0, max: 1 }),
    initialBurst: param.duration("10ms"),
  },
  create({ config, pcpus }) {
    const predictor = new BurstPredictor({ alpha: config.alpha, initialNs: config.initialBurst });
    const ready: VcpuView<Started>[] = [];
    const remainingNow = (vcpu: VcpuView<Started>, now: number) =>
      predictor.remaining(vcpu) - (now - vcpu.slot.startedAt);
    return {
      vcpuSlot: (): Started => ({ startedAt: 0 }),
      enqueue(_ctx, vcpu) {
        ready.push(vcpu);
      },
      running(ctx, vcpu) {
        vcpu.slot.startedAt = ctx.now;
      },
      stopping(_ctx, vcpu, reason) {
        if (reason === "block") predictor.observe(vcpu);
      },
      preempt(ctx, vcpu) {
        let victim = -1, longest = predictor.remaining(vcpu);
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const running = ctx.running(pcpu);
          if (running === null) return null;
          const left = remainingNow(running, ctx.now);
          if (left > longest) victim = pcpu, longest = left;
        }
        return victim < 0 ? null : victim;
      },
      dispatch() {
        if (ready.length === 0) return null;
        let best = 0;
        for (let i = 1; i < ready.length; i++) {
          const a = predictor.remaining(ready[i]!), b = predictor.remaining(ready[best]!);
          if (a < b || (a === b && ready[i]!.id < ready[best]!.id)) best = i;
        }
        const [vcpu] = ready.splice(best, 1);
        return { vcpu: vcpu! };
      },
    };
  },
});
