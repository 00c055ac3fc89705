/**
 * The memory bench's workload: 16 VMs, each referencing 1 GiB (262,144 pages) with zipf
 * (s = 0.99) popularity, on 16 pCPUs and a host of 4 GiB (a quarter of what the VMs span), so
 * that the policy must evict.
 *
 * @module
 */

import { createSimulation, type Simulation } from "../core/simulate.ts";
import { parseWorkload } from "../core/workload/load.ts";
import type { Isolation } from "../core/protocol/runtime.ts";

/** How the bench's host and policy are set up. */
export interface MemoryBenchOptions {
  /** The memory policy (default `lru`). */
  policy?: string;
  /** Where the policy runs (default `none`). */
  isolation?: Isolation;
  /** References per VM (default 1,000,000). */
  refsPerVm?: number;
  /** Stall per fault (default "0us": the bench measures the simulator, not the VMs). */
  faultCost?: string;
  /** Batched reclaim below this many free frames (default 0: a victim per fault). */
  lowWatermark?: number;
}

/** Builds (and starts) the memory bench's simulation. */
export function memorySimulation(options: MemoryBenchOptions = {}): Promise<Simulation> {
  const refs = options.refsPerVm ?? 1_000_000;
  const low = options.lowWatermark ?? 0;
  const workload = parseWorkload({
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
  });
  return createSimulation(workload, {
    isolation: options.isolation,
    sandbox: { batchDeadlineMs: 60_000 },
  });
}
