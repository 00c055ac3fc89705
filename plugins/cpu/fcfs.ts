/**
 * First come, first served: runnable vCPUs wait in one queue in the order they became runnable;
 * each runs until it blocks or ends. Never preempts.
 *
 * @module
 */

import { defineCpuPolicy, Fifo, type VcpuView } from "../../core/policy/mod.ts";

export default defineCpuPolicy({
  name: "fcfs",
  create() {
    const queue = new Fifo<VcpuView>();
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch() {
        const vcpu = queue.shift();
        return vcpu === undefined ? null : { vcpu };
      },
    };
  },
});
