/**
 * Building the I/O domain from a validated workload: the disk models, then every VM's weight,
 * limits and sources of requests (see `requests.ts`), in workload order.
 *
 * @module
 */

import type { CpuDomain } from "../cpu/domain.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import { WorkloadError } from "../workload/load.ts";
import type { Workload } from "../workload/types.ts";
import { createDiskModel } from "./disk/factory.ts";
import { IoDomain } from "./domain.ts";
import { Disk } from "./model.ts";

/** Options of {@linkcode buildIoDomain}. */
export interface BuildIoOptions {
  /** The CPU domain, whose vCPUs block on `{io}` program steps. */
  cpu?: CpuDomain;
  /** Reads trace files. */
  readText: (path: string) => string;
}

/**
 * Builds the I/O domain of a workload, or returns undefined when the host has no disks (a
 * workload whose VMs use I/O without disks is refused by its schema).
 *
 * @param kernel The kernel.
 * @param slot The I/O policy slot.
 * @param workload The validated workload.
 * @param options The CPU domain and the trace reader.
 * @returns The domain, registered with the kernel, its sources armed.
 * @throws {WorkloadError} When a request, generator, trace or step does not fit its disk, a trace
 *   cannot be read or parsed, or a VM submits forever without `stopAt`.
 */
export function buildIoDomain(
  kernel: Kernel,
  slot: PolicySlot,
  workload: Workload,
  options: BuildIoOptions,
): IoDomain | undefined {
  const specs = workload.host.disks ?? [];
  if (specs.length === 0) return undefined;
  const disks = specs.map((spec, index) => {
    let model;
    try {
      model = createDiskModel(spec, { path: `host.disks[${index}]` });
    } catch (error) {
      throw new WorkloadError(`Workload: ${(error as Error).message}`);
    }
    const direction = spec.model === "linear" ? spec.direction ?? "up" : "up";
    return new Disk(index, spec.id, model, direction);
  });
  const domain = new IoDomain(kernel, slot, disks, options);
  workload.vms.forEach((vm, index) => domain.addVm(index, vm));
  return domain;
}
