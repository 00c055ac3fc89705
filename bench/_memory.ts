/**
 * The memory bench's simulation: the workload of `_workloads.ts`'s `memoryWorkload` (16 VMs, each
 * referencing 1 GiB with zipf popularity, on a host of 4 GiB), built and started.
 *
 * @module
 */

import { createSimulation, type Simulation } from "../core/simulation/mod.ts";
import { parseWorkload } from "../core/workload/load.ts";
import type { Isolation } from "../core/protocol/runtime.ts";
import { memoryWorkload, type MemoryWorkloadOptions } from "./_workloads.ts";

/** How the bench's host and policy are set up. */
export interface MemoryBenchOptions extends MemoryWorkloadOptions {
  /** Where the policy runs (default `none`). */
  isolation?: Isolation;
}

/** Builds (and starts) the memory bench's simulation. */
export function memorySimulation(options: MemoryBenchOptions = {}): Promise<Simulation> {
  return createSimulation(parseWorkload(memoryWorkload(options)), {
    isolation: options.isolation,
    sandbox: { batchDeadlineMs: 60_000 },
  });
}
