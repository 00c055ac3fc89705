/**
 * Workloads the benches share, as the JSON a user would write (so that they can also be timed
 * through the command line, by `end_to_end.ts`).
 *
 * @module
 */

/** A workload as JSON: what `parseWorkload` takes and a workload file holds. */
export type WorkloadJson = Record<string, unknown>;

/** mulberry32: a tiny seeded generator, so that the scale workload is the same file every time. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The scale workload as a user would write it: `pcpus` pCPUs, `vms` one-vCPU VMs, each an
 * explicit program of `rounds` rounds of a 200–300 ms run and a 1–9 ms sleep (whole ms), the VMs
 * arriving over the first 10 ms. The defaults (64, 1024, 30) are issue #17's: 773,120 `rr`
 * decisions.
 */
export function scaleWorkload(
  options: { pcpus?: number; vms?: number; rounds?: number } = {},
): WorkloadJson {
  const random = mulberry32(17);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const vms = Array.from({ length: options.vms ?? 1024 }, (_, i) => {
    const program: Record<string, string>[] = [];
    for (let round = 0; round < (options.rounds ?? 30); round++) {
      program.push({ run: `${between(200, 300)}ms` }, { sleep: `${between(1, 9)}ms` });
    }
    return { id: `vm-${i}`, cpu: { arrive: `${between(0, 9_999)}us`, program } };
  });
  return {
    schema: "hyperhook.workload/v1",
    name: "scale-explicit",
    description: "Issue #17's scale workload: one-vCPU VMs running explicit programs",
    seed: 1,
    host: { pcpus: options.pcpus ?? 64 },
    policies: { cpu: { use: "rr" } },
    vms,
  };
}

/** Options of the memory bench's workload. */
export interface MemoryWorkloadOptions {
  /** The memory policy (default `lru`). */
  policy?: string;
  /** References per VM (default 1,000,000). */
  refsPerVm?: number;
  /** Stall per fault (default "0us": the bench measures the simulator, not the VMs). */
  faultCost?: string;
  /** Batched reclaim below this many free frames (default 0: a victim per fault). */
  lowWatermark?: number;
}

/**
 * The memory bench's workload: 16 VMs, each referencing 1 GiB (262,144 pages) with zipf
 * (s = 0.99) popularity, on 16 pCPUs and a host of 4 GiB (a quarter of what the VMs span), so
 * that the policy must evict.
 */
export function memoryWorkload(options: MemoryWorkloadOptions = {}): WorkloadJson {
  const refs = options.refsPerVm ?? 1_000_000;
  const low = options.lowWatermark ?? 0;
  return {
    schema: "hyperhook.workload/v1",
    name: "memory-bench",
    seed: 1,
    host: {
      pcpus: 16,
      memory: {
        frames: 16 * 65_536,
        faultCost: options.faultCost ?? "0us",
        lowWatermark: low,
        ...(low > 0 ? { highWatermark: 2 * low } : {}),
      },
    },
    policies: { memory: { use: options.policy ?? "lru" } },
    vms: Array.from({ length: 16 }, (_, i) => ({
      id: `vm-${i}`,
      memory: { pattern: "zipf", size: "1GiB", count: refs, rate: 10_000_000 },
    })),
  };
}

/** VMs of the I/O bench. */
export const IO_VMS = 16;

/**
 * The I/O bench's workload: `requests` in all, spread over 16 VMs, each a closed-loop random
 * generator keeping 4 requests of 4 KiB outstanding (70 % reads), on the `hdd` model (HP C2247A).
 */
export function ioWorkload(policy: string, requests: number): WorkloadJson {
  return {
    schema: "hyperhook.workload/v1",
    name: `io-bench-${policy}`,
    seed: 1,
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    policies: { io: { use: policy } },
    vms: Array.from({ length: IO_VMS }, (_, i) => ({
      id: `vm-${i}`,
      io: {
        generate: {
          disk: "d0",
          count: requests / IO_VMS,
          depth: 4,
          readRatio: 0.7,
          size: 4096,
        },
      },
    })),
  };
}
