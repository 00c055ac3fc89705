/**
 * Building a simulation's kernel and domains from a validated workload: the domains are made in
 * the order they settle (CPU, memory, I/O), wired to each other here and nowhere else (the memory
 * domain stalls and resumes vCPUs and hears when they run; the I/O domain wakes vCPUs and takes
 * their `{io}` steps), then every VM is added ({@linkcode addVm}) and the timeline scheduled.
 *
 * @module
 */

import { CpuDomain } from "../cpu/domain.ts";
import type { IoDomain } from "../io/domain.ts";
import type { VmDomain } from "../kernel/domain.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { type LoadedPolicy, PolicySlot } from "../kernel/slot.ts";
import type { MemoryDomain } from "../memory/domain.ts";
import { WorkloadError } from "../workload/error.ts";
import type { Workload } from "../workload/types.ts";
import { addVm, normaliseSched } from "./vms.ts";

/** A simulation's kernel and domains, wired. */
export interface SimulationParts {
  /** The kernel. */
  readonly kernel: Kernel;
  /** The CPU domain. */
  readonly cpu: CpuDomain;
  /** The memory domain, when the host has memory. */
  readonly memory: MemoryDomain | undefined;
  /** The I/O domain, when the host has disks. */
  readonly io: IoDomain | undefined;
  /** Every domain, in the order they settle: what callers loop over. */
  readonly domains: readonly VmDomain<never, never, unknown>[];
}

/** The policies a simulation starts with, loaded, by domain. */
export interface LoadedPolicies {
  /** The CPU policy. */
  cpu: LoadedPolicy;
  /** The memory policy, when the host has memory. */
  memory?: LoadedPolicy;
  /** The I/O policy, when the host has disks. */
  io?: LoadedPolicy;
}

/** The memory and I/O domains' modules, loaded for a workload that has those domains. */
export interface DomainModules {
  /** The memory domain's module, when the host has memory. */
  memory?: typeof import("../memory/domain.ts");
  /** The I/O domain's classes, when the host has disks. */
  io?: {
    IoDomain: typeof import("../io/domain.ts").IoDomain;
    createDiskModel: typeof import("../io/disk/factory.ts").createDiskModel;
    Disk: typeof import("../io/model.ts").Disk;
  };
}

/**
 * Loads the modules of the domains `workload` has: a run without memory or disks loads neither.
 *
 * @param workload The validated workload.
 * @returns The modules {@linkcode buildDomains} needs for it.
 */
export async function domainModules(workload: Workload): Promise<DomainModules> {
  const [memory, io] = await Promise.all([
    workload.host.memory === undefined ? undefined : import("../memory/domain.ts"),
    (workload.host.disks ?? []).length === 0 ? undefined : Promise.all([
      import("../io/domain.ts"),
      import("../io/disk/factory.ts"),
      import("../io/model.ts"),
    ]).then(([domain, factory, model]) => ({
      IoDomain: domain.IoDomain,
      createDiskModel: factory.createDiskModel,
      Disk: model.Disk,
    })),
  ]);
  return { memory, io };
}

/**
 * Makes the domains of a workload's host, registered with the kernel in the order they settle,
 * and wires them to each other.
 *
 * @param kernel The kernel.
 * @param workload The validated workload.
 * @param policies The loaded policies (one per domain the host has).
 * @param readText Reads trace files.
 * @param modules The memory and I/O domains' modules ({@linkcode domainModules}).
 * @returns The kernel and its domains, with no VM yet.
 * @throws {WorkloadError} When a disk cannot be modelled.
 */
export function buildDomains(
  kernel: Kernel,
  workload: Workload,
  policies: LoadedPolicies,
  readText: (path: string) => string,
  modules: DomainModules,
): SimulationParts {
  const cpu = new CpuDomain(
    kernel,
    new PolicySlot("cpu", policies.cpu),
    workload.host.pcpus,
    workload.host.cpu,
  );
  let memory: MemoryDomain | undefined;
  if (workload.host.memory !== undefined && policies.memory !== undefined) {
    const { MemoryDomain } = modules.memory!;
    const slot = new PolicySlot("memory", policies.memory);
    memory = new MemoryDomain(kernel, slot, cpu, workload.host.memory);
    const domain = memory;
    cpu.onRunChange = (vcpu, running) => domain.runChanged(vcpu, running);
  }
  let io: IoDomain | undefined;
  const specs = workload.host.disks ?? [];
  if (specs.length > 0 && policies.io !== undefined) {
    const { IoDomain, createDiskModel, Disk } = modules.io!;
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
    io = new IoDomain(kernel, new PolicySlot("io", policies.io), disks, { cpu, readText });
    const domain = io;
    cpu.onIoStep = (vcpu, payload) => domain.ioStep(vcpu, payload);
  }
  const domains: VmDomain<never, never, unknown>[] = [cpu];
  if (memory !== undefined) domains.push(memory);
  if (io !== undefined) domains.push(io);
  return { kernel, cpu, memory, io, domains };
}

/**
 * Adds a workload's VMs, in order, and schedules its timeline.
 *
 * @param parts The kernel and its domains.
 * @param workload The validated workload.
 * @param readText Reads trace files.
 * @throws {WorkloadError} When a VM cannot run (an unreadable trace, a request that does not fit
 *   its disk, work forever without `stopAt`).
 */
export function populate(
  parts: SimulationParts,
  workload: Workload,
  readText: (path: string) => string,
): void {
  workload.vms.forEach((vm, index) => {
    addVm(parts, vm, { place: `vms[${index}]`, readText, refuse: workloadRefusal(vm.id, index) });
  });
  const vmIndex = new Map(workload.vms.map((vm, index) => [vm.id, index]));
  // The CPU's changes first, then each change's memory and I/O parts, each an event of its domain
  // at `at`: the order events are queued in is the order an instant's events are handled in.
  for (const change of workload.timeline) {
    // A change of memory or I/O alone leaves the CPU's parameters be.
    const { memory: memorySet, io: ioSet, ...cpuSet } = change.set;
    if (Object.keys(cpuSet).length === 0 && (memorySet ?? ioSet) !== undefined) continue;
    const set = { ...cpuSet, sched: cpuSet.sched && normaliseSched(cpuSet.sched) };
    if (set.sched === undefined) delete set.sched;
    parts.cpu.scheduleVmParams(change.at, vmIndex.get(change.vm)!, set);
  }
  // The schema refuses memory and I/O changes without a memory section or disks.
  for (const change of workload.timeline) {
    const { memory: memorySet, io: ioSet } = change.set, index = vmIndex.get(change.vm)!;
    if (memorySet !== undefined) parts.memory!.scheduleVmParams(change.at, index, memorySet);
    if (ioSet !== undefined) parts.io!.scheduleVmParams(change.at, index, ioSet);
  }
}

/** How a workload's VM refuses to be added: one line naming the field. */
function workloadRefusal(id: string, index: number): Parameters<typeof addVm>[2]["refuse"] {
  return (refusal) => {
    switch (refusal.field) {
      case "cpu":
        return new WorkloadError(
          `Workload: vms[${index}].cpu${refusal.trace ? ".trace" : ""}: ${
            (refusal.error as Error).message
          }`,
        );
      case "stopAt":
        return new WorkloadError(
          `Workload: stopAt: expected a duration such as "10s", because vms[${index}] (${id}) ${refusal.what}`,
        );
      case "io":
        return refusal.error instanceof Error ? refusal.error : new Error(String(refusal.error));
    }
  };
}
