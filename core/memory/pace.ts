/**
 * The pace of a VM's memory references, apart from the memory domain: the run-time builder needs
 * it for a VM whose only work is memory, and a run without memory loads no domain.
 *
 * @module
 */

import type { CpuWorkload, MemoryWorkload } from "../workload/types.ts";

/** Run time between two references of a VM: `1 / rate`, at least 1 ns. */
export function intervalOf(memory: MemoryWorkload): number {
  return Math.max(1, Math.round(1e9 / memory.rate));
}

/**
 * The CPU behaviour of a VM whose only work is memory: its vCPUs run until its references are
 * all issued (`count` for generators; an endless generator runs forever).
 *
 * @param memory The VM's validated memory spec.
 * @param vcpus How many vCPUs share the references.
 */
export function memoryOnlyCpu(memory: MemoryWorkload, vcpus: number): CpuWorkload {
  const count = memory.refs?.length ?? memory.count;
  if (count === undefined) return { arrive: 0, pattern: "cpu-bound" };
  return { arrive: 0, program: [{ run: Math.ceil(count / vcpus) * intervalOf(memory) }] };
}
