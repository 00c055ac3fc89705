/**
 * my-policy: weighted round robin. Runnable vCPUs wait in one queue; each runs for a slice
 * proportional to its VM's weight (a VM of weight 256 gets one `quantum`), then goes to the back.
 *
 * @example Run it on the example workload
 * ```sh
 * deno task sim
 * ```
 *
 * @module
 */

import {
  type CpuPolicy,
  defineCpuPolicy,
  Fifo,
  param,
  type VcpuView,
} from "@hyperhook/hyperhook/policy";

/** Weighted round robin: each turn lasts `quantum × weight / 256`. */
const policy: CpuPolicy = defineCpuPolicy({
  name: "my-policy",
  config: { quantum: param.duration("10ms", { min: "100us" }) },
  create({ config }) {
    const queue = new Fifo<VcpuView>();
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch() {
        const vcpu = queue.shift();
        if (vcpu === undefined) return null;
        return { vcpu, sliceNs: Math.max(1, Math.round(config.quantum * vcpu.vm.weight / 256)) };
      },
    };
  },
});

export default policy;
