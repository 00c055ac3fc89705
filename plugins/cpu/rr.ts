/**
 * Round robin: first come, first served, but a vCPU runs for at most one quantum, then goes to
 * the back of the queue.
 *
 * @module
 */

import { defineCpuPolicy, Fifo, param, type VcpuView } from "../../core/policy/mod.ts";

export default defineCpuPolicy({
  name: "rr",
  config: { quantum: param.duration("10ms", { min: "1us" }) },
  create({ config }) {
    const queue = new Fifo<VcpuView>();
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch() {
        const vcpu = queue.shift();
        return vcpu === undefined ? null : { vcpu, sliceNs: config.quantum };
      },
    };
  },
});
