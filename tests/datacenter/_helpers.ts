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
      interval: "300s",
      hostTypes: [{
        id: "h",
        cores: 1,
        mips: 1000,
        ram: 4096,
        bandwidth: 1000,
        power: LINEAR_POWER,
      }],
      hosts: [{ type: "h", count: 2 }],
      vmTypes: [{ id: "v", mips: 500, ram: 1000, bandwidth: 100 }],
      vms: [
        { id: "A", type: "v", demand: { utilization: steady, interval: "100s" } },
        { id: "B", type: "v", demand: { utilization: steady, interval: "100s" } },
        { id: "C", type: "v", demand: { utilization: rising, interval: "100s" } },
        { id: "D", type: "v", demand: { utilization: rising, interval: "100s" } },
      ],
    },
  };
}
