// Lottery scheduling: every runnable vCPU holds as many tickets as its VM's weight.
import { defineCpuPolicy, param, type VcpuView } from "@hyperhook/hyperhook/policy";

export default defineCpuPolicy({
  name: "lottery",
  config: { quantum: param.duration("5ms") },
  create({ config }) {
    const ready = new Set<VcpuView>();
    return {
      enqueue: (_ctx, vcpu) => void ready.add(vcpu),
      dispatch(ctx) {
        let tickets = 0;
        for (const vcpu of ready) tickets += vcpu.vm.weight;
        let draw = ctx.rng.float() * tickets;
        for (const vcpu of ready) {
          if ((draw -= vcpu.vm.weight) >= 0) continue;
          ready.delete(vcpu);
          return { vcpu, sliceNs: config.quantum };
        }
        return null;
      },
    };
  },
});
