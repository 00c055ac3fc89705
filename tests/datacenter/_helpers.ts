/**
 * Small datacenters whose figures can be worked out by hand.
 *
 * @module
 */

/** A fixture policy's path. */
export function fixture(name: string): string {
  return new URL(`../fixtures/placement/${name}.ts`, import.meta.url).pathname;
}

/** Watts 100 at idle up to 200 at full load, 10 W a step: P(u) = 100 + 100u. */
export const LINEAR_POWER = [100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200];

/**
 * Two one-core hosts of 1000 MIPS with `ram` MB each, a placement interval of 300 s, and the one
 * VM type of these workloads (500 MIPS, 1000 MB).
 */
function twoHosts(ram: number): Record<string, unknown> {
  return {
    interval: "300s",
    hostTypes: [{ id: "h", cores: 1, mips: 1000, ram, bandwidth: 1000, power: LINEAR_POWER }],
    hosts: [{ type: "h", count: 2 }],
    vmTypes: [{ id: "v", mips: 500, ram: 1000, bandwidth: 100 }],
  };
}

/**
 * Two one-core hosts of 1000 MIPS (4096 MB, 1000 Mbit/s, P(u) = 100 + 100u) and four VMs of
 * 500 MIPS and 1000 MB whose demand changes every 100 s: A and B always at 100 %, C and D at
 * 10 % until 400 s, then 100 %. Six samples: the run lasts 600 s, evaluated at 300 s.
 */
export function overloadWorkload(
  placement: string | { use: string; config?: Record<string, unknown> },
): Record<string, unknown> {
  const steady = [100, 100, 100, 100, 100, 100];
  const rising = [10, 10, 10, 10, 100, 100];
  return {
    schema: "hyperhook.datacenter/v1",
    name: "overload",
    policies: { placement },
    datacenter: {
      ...twoHosts(4096),
      vms: [
        { id: "A", type: "v", demand: { utilization: steady, interval: "100s" } },
        { id: "B", type: "v", demand: { utilization: steady, interval: "100s" } },
        { id: "C", type: "v", demand: { utilization: rising, interval: "100s" } },
        { id: "D", type: "v", demand: { utilization: rising, interval: "100s" } },
      ],
    },
  };
}

/**
 * Two one-core hosts of 1000 MIPS (2048 MB: RAM for two VMs each) and three VMs of 500 MIPS and
 * 1000 MB under a policy that relieves hosts above 10 %: A and B share host 0, C is on host 1. B's
 * curve ends at 300 s, and A (200 MIPS > 10 % of host 0) moves away at 300 s onto host 1, which
 * holds C (100 MIPS, not above 10 %): host 0 is active until A's migration completes at 316 s,
 * then off. The run lasts 600 s.
 */
export function shutdownWorkload(): Record<string, unknown> {
  return {
    schema: "hyperhook.datacenter/v1",
    name: "shutdown",
    policies: { placement: { use: fixture("relieve"), config: { threshold: 0.1 } } },
    stopAt: "600s",
    datacenter: {
      ...twoHosts(2048),
      vms: [
        { id: "A", type: "v", demand: { utilization: [40, 40], interval: "300s" } },
        { id: "B", type: "v", demand: { utilization: [40], interval: "300s" } },
        { id: "C", type: "v", demand: { utilization: [20, 20], interval: "300s" } },
      ],
    },
  };
}
