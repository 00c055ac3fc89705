/**
 * The foundation's scale workload: `pcpus` pCPUs, `vcpus` vCPUs, half CPU-bound and half
 * interactive, under `rr`, for `seconds` of simulated time.
 *
 * @module
 */

import { createSimulation, type Simulation } from "../core/simulation/mod.ts";
import { parseWorkload } from "../core/workload/load.ts";
import type { Isolation } from "../core/protocol/runtime.ts";
import type { SandboxOptions } from "../core/sandbox/options.ts";

/** Builds (and starts) the scale simulation. */
export function scaleSimulation(
  vcpus: number,
  options: {
    pcpus?: number;
    seconds?: number;
    isolation?: Isolation;
    policy?: string;
    config?: Record<string, unknown>;
    sandbox?: SandboxOptions;
  } = {},
): Promise<Simulation> {
  const vms = Array.from({ length: vcpus / 2 }, (_, i) => ({
    id: `vm-${i}`,
    vcpus: 2,
    cpu: i % 2 === 0
      ? { pattern: "cpu-bound" }
      : { pattern: "interactive", run: "1ms", sleep: "10ms" },
  }));
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: `scale-${vcpus}`,
    seed: 1,
    host: { pcpus: options.pcpus ?? 64 },
    policies: { cpu: { use: options.policy ?? "rr", config: options.config } },
    stopAt: `${options.seconds ?? 1}s`,
    vms,
  });
  return createSimulation(workload, { isolation: options.isolation, sandbox: options.sandbox });
}
