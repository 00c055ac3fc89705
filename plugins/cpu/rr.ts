/**
 * Round robin: first come, first served, but a vCPU runs for at most one quantum, then goes to
 * the back of the queue.
 *
 * `ahead` > 1 hands an idle pCPU up to that many vCPUs at once, which it runs in order before it
 * asks again (its local queue, as per-CPU run queues and sched_ext's dispatch queues work). On one
 * pCPU the order is the same; on several, each pCPU serves its own batch. Fewer questions is what
 * keeps a sandboxed policy fast.
 *
 * @module
 */

import {
  defineCpuPolicy,
  type Dispatch,
  Fifo,
  param,
  type VcpuView,
} from "../../core/policy/mod.ts";

export default defineCpuPolicy({
  name: "rr",
  config: {
    quantum: param.duration("10ms", { min: "1us" }),
    ahead: param.number(1, { min: 1, max: 64, integer: true }),
  },
  create({ config }) {
    const queue = new Fifo<VcpuView>();
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch() {
        if (config.ahead === 1) {
          const vcpu = queue.shift();
          return vcpu === undefined ? null : { vcpu, sliceNs: config.quantum };
        }
        const batch: Dispatch[] = [];
        while (batch.length < config.ahead && queue.size > 0) {
          batch.push({ vcpu: queue.shift()!, sliceNs: config.quantum });
        }
        return batch;
      },
    };
  },
});
