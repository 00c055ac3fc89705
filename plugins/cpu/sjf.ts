/**
 * Shortest job first (non-preemptive): when a pCPU is free, run the runnable vCPU whose next CPU
 * burst is shortest, to its end. The burst is the program's declared run step when it declares
 * one, otherwise the exponential average of the vCPU's past bursts. Ties go to the VM listed first.
 *
 * @module
 */

import { BurstPredictor, defineCpuPolicy, param, type VcpuView } from "../../core/policy/mod.ts";

export default defineCpuPolicy({
  name: "sjf",
  config: {
    alpha: param.number(0.5, { min: 0, max: 1 }),
    initialBurst: param.duration("10ms"),
  },
  create({ config }) {
    const predictor = new BurstPredictor({ alpha: config.alpha, initialNs: config.initialBurst });
    const ready: VcpuView[] = [];
    return {
      enqueue(_ctx, vcpu) {
        ready.push(vcpu);
      },
      stopping(_ctx, vcpu, reason) {
        if (reason === "block") predictor.observe(vcpu);
      },
      dispatch() {
        if (ready.length === 0) return null;
        let best = 0;
        for (let i = 1; i < ready.length; i++) {
          const a = predictor.burst(ready[i]!), b = predictor.burst(ready[best]!);
          if (a < b || (a === b && ready[i]!.id < ready[best]!.id)) best = i;
        }
        const [vcpu] = ready.splice(best, 1);
        return { vcpu: vcpu! };
      },
    };
  },
});
