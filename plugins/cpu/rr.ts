/**
 * Round robin: first come, first served, but a vCPU runs for at most one quantum, then goes to
 * the back of the queue.
 *
 * `ahead` > 1 hands an idle pCPU up to that many vCPUs at once, which it runs in order before it
 * asks again (its local queue, as per-CPU run queues and sched_ext's dispatch queues work). On one
 * pCPU the order is the same; on several, each pCPU serves its own batch. Fewer questions is what
 * keeps a sandboxed policy fast.
 *
 * `spread` makes it a centralized dispatcher (ghOSt's global agent): asked by one pCPU, it deals
 * the queue out to every pCPU's local queue, one vCPU per pCPU per round starting with the one
 * that asked, until each holds `ahead` or the queue is empty. The pCPUs then rarely ask at all.
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
    spread: param.boolean(false),
  },
  create({ config }) {
    const queue = new Fifo<VcpuView>();
    // The SDK reads a dispatch answer as soon as the hook returns and keeps nothing of it, so one
    // object serves every single-vCPU answer: no allocation per decision.
    const answer: Dispatch = { vcpu: -1, sliceNs: config.quantum };
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch(ctx, pcpu) {
        if (config.ahead === 1 && !config.spread) {
          const vcpu = queue.shift();
          if (vcpu === undefined) return null;
          answer.vcpu = vcpu;
          return answer;
        }
        const batch: Dispatch[] = [];
        if (!config.spread) {
          while (batch.length < config.ahead && queue.size > 0) {
            batch.push({ vcpu: queue.shift()!, sliceNs: config.quantum });
          }
          return batch;
        }
        // Deal like cards: in each round, one vCPU to every pCPU holding no more than `round`,
        // starting with the one that asked (its first vCPU runs at once).
        const given = new Array<number>(ctx.pcpus).fill(0);
        for (let round = 0; round < config.ahead; round++) {
          for (let k = 0; k < ctx.pcpus && queue.size > 0; k++) {
            const to = (pcpu + k) % ctx.pcpus;
            if (ctx.queued(to) + given[to]! > round) continue;
            given[to]!++;
            batch.push({ vcpu: queue.shift()!, sliceNs: config.quantum, pcpu: to });
          }
        }
        return batch;
      },
    };
  },
});
