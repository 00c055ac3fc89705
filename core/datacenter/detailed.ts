/**
 * The `detailed` host model: every host of the datacenter runs hyperhook's own kernel (a host
 * simulation from `createSimulation`, with the workload's CPU policy, and a memory domain when
 * VM types describe their memory), advanced in step with the datacenter.
 *
 * A VM placed on a host becomes a one-vCPU VM of that host's kernel, whose program releases, at
 * the start of every `period`, the work its demand asks for then (demand over one core's MIPS,
 * times the period). The CPU policy decides who runs; what each VM and each host actually ran in
 * a frame between two datacenter instants is measured from the kernel's books and replaces the
 * fluid model's shares in the datacenter's books (energy, SLA, losses). A migrating VM runs on
 * its source until it pauses or arrives, then starts again on its target (its pages fault in
 * anew there). Pre-copy rounds read the source memory domain's own dirty bits: at the start of
 * each round the VM's page-table dirty bits are cleared (Xen's log-dirty mode), and what is
 * dirty at its end is what the next round sends.
 *
 * Why in-process built-ins only: the datacenter advances every host kernel synchronously at each
 * of its instants, so a host's CPU policy must answer in the same call; built-ins do.
 *
 * @module
 */

import { type Program, type ProgramCursor, STEP } from "../cpu/programs.ts";
import type { Vm } from "../cpu/domain.ts";
import { isBuiltin } from "../simulation/loader.ts";
import type { SimulationParts } from "../simulation/build.ts";
import { internals } from "../simulation/internals.ts";
import { createSimulation, type Simulation } from "../simulation/mod.ts";
import { parseWorkload, WorkloadError } from "../workload/load.ts";
import { VM_DEFAULTS } from "../workload/defaults.ts";
import type { MemoryWorkload } from "../workload/types.ts";
import type { DatacenterModel } from "./model.ts";
import type { DatacenterWorkload } from "./types.ts";

/** 4 KiB pages in one MB of RAM (MB as the datacenter counts RAM: 2^20 bytes). */
export const PAGES_PER_MB = 256;

/** The default CPU policy of detailed hosts. */
export const DEFAULT_HOST_CPU = "credit";

/**
 * Work released at the start of every period: the VM's demand now over one core, times the
 * period. Periods are absolute (period k starts at k × period), so a VM that joins a kernel
 * mid-run starts at the next one.
 */
class DemandProgram implements Program {
  readonly label = "datacenter demand";
  readonly finite = false;
  #periodNs: number;
  #first: number;
  #load: () => number;

  constructor(periodNs: number, startNs: number, load: () => number) {
    this.#periodNs = periodNs;
    this.#first = Math.ceil(startNs / periodNs);
    this.#load = load;
  }

  next(cursor: ProgramCursor, nowNs: number): void {
    if (cursor.period < this.#first) cursor.period = this.#first;
    let work = 0;
    while (cursor.period * this.#periodNs <= nowNs) {
      work += Math.round(Math.min(1, Math.max(0, this.#load())) * this.#periodNs);
      cursor.period++;
    }
    cursor.declared = false;
    if (work > 0) cursor.kind = STEP.RUN, cursor.ns = work;
    else cursor.kind = STEP.SLEEP_UNTIL, cursor.ns = cursor.period * this.#periodNs;
  }

  demandNs(): null {
    return null;
  }
}

/** Where a datacenter VM lives in a host kernel. */
interface Resident {
  /** The datacenter VM. */
  v: number;
  host: number;
  vm: Vm;
  /** Its vCPU's run time at the last measurement. */
  ranNs: number;
}

/** What a frame measured: each host's busy time and each VM's run time, in ns. */
export interface FrameMeasure {
  /** Per host: run time of all its VMs in the frame. */
  hostBusyNs: Float64Array;
  /** Per VM: run time in the frame (0 for VMs not in any kernel). */
  vmRanNs: Float64Array;
}

/** The host kernels of a detailed datacenter. */
export class DetailedHosts {
  /** One host simulation per datacenter host. */
  readonly hosts: Simulation[];
  /** Each host's kernel and domains, which the datacenter drives directly. */
  readonly #parts: SimulationParts[];
  #model: DatacenterModel;
  #periodNs: number;
  #demand: (v: number) => number;
  #memory: (MemoryWorkload | undefined)[];
  #resident: (Resident | undefined)[];
  #measure: FrameMeasure;

  /**
   * Use {@linkcode DetailedHosts.create}.
   *
   * @ignore
   */
  constructor(
    hosts: Simulation[],
    model: DatacenterModel,
    periodNs: number,
    memory: (MemoryWorkload | undefined)[],
    demand: (v: number) => number,
  ) {
    this.hosts = hosts;
    this.#parts = hosts.map((host) => internals(host));
    this.#model = model;
    this.#periodNs = periodNs;
    this.#memory = memory;
    this.#demand = demand;
    this.#resident = new Array(model.vmType.length).fill(undefined);
    this.#measure = {
      hostBusyNs: new Float64Array(hosts.length),
      vmRanNs: new Float64Array(model.vmType.length),
    };
  }

  /**
   * Creates one host kernel per datacenter host.
   *
   * @param workload The datacenter workload (`hostModel: "detailed"`).
   * @param model The flattened workload.
   * @param options When the run ends, and each VM's demand now in MIPS (read as kernels run).
   * @throws {WorkloadError} For a CPU policy that is not a built-in, or a bad memory spec.
   */
  static async create(
    workload: DatacenterWorkload,
    model: DatacenterModel,
    options: {
      endNs: number;
      demand: (v: number) => number;
      cpu?: { use: string; config?: Record<string, unknown> };
    },
  ): Promise<DetailedHosts> {
    const spec = workload.datacenter;
    const cpu = options.cpu ?? workload.policies.cpu ?? { use: DEFAULT_HOST_CPU, config: {} };
    if (!isBuiltin("cpu", cpu.use)) {
      throw new WorkloadError(
        `Workload: policies.cpu: expected a built-in CPU policy for detailed hosts (they run in-process, in step with the datacenter), got ${
          JSON.stringify(cpu.use)
        }`,
      );
    }
    const memory = spec.vmTypes.map((type, t) =>
      type.memory === undefined ? undefined : validMemory(type.memory, t)
    );
    const withMemory = memory.some((entry) => entry !== undefined);
    const hosts: Simulation[] = [];
    try {
      for (let h = 0; h < model.hostType.length; h++) {
        const type = model.hostTypes[model.hostType[h]!]!;
        const host = parseWorkload({
          schema: "hyperhook.workload/v1",
          name: `${workload.name}/${model.hostIds[h]}`,
          // Each host's own stream, the same from run to run.
          seed: (workload.seed + h) % Number.MAX_SAFE_INTEGER,
          host: {
            pcpus: type.cores,
            ...(withMemory ? { memory: { frames: Math.floor(type.ram * PAGES_PER_MB) } } : {}),
          },
          policies: { cpu: { use: cpu.use, config: cpu.config ?? {} } },
          stopAt: `${options.endNs}ns`,
          // A host kernel needs one VM to start: this one asks for nothing.
          vms: [{ id: "idle" }],
        });
        hosts.push(await createSimulation(host, { isolation: "none", replay: false }));
      }
    } catch (error) {
      for (const host of hosts) await host.close();
      throw error;
    }
    const periodNs = spec.detailed.period;
    return new DetailedHosts(hosts, model, periodNs, memory, options.demand);
  }

  /** VM `v` starts on host `h` at `nowNs` (the datacenter's now). */
  add(v: number, h: number, nowNs: number): void {
    const host = this.#parts[h]!, now = nowNs;
    const core = this.#model.hostTypes[this.#model.hostType[h]!]!.mips;
    const program = new DemandProgram(this.#periodNs, now, () => this.#demand(v) / core);
    const id = `${this.#model.vmIds[v]}@${host.cpu.vms.length}`;
    const vm = host.cpu.addVm({
      id,
      vcpus: 1,
      params: {
        weight: VM_DEFAULTS.weight,
        cap: VM_DEFAULTS.cap,
        priority: VM_DEFAULTS.priority,
        sched: {},
      },
      program,
      arriveNs: now,
    });
    const memory = this.#memory[this.#model.vmType[v]!];
    if (memory !== undefined) {
      host.memory!.addVm({
        index: vm.index,
        id,
        vcpus: vm.vcpus,
        arriveNs: vm.arriveNs,
        weight: memory.weight,
        memory,
        place: `vm ${this.#model.vmIds[v]}`,
      });
    }
    this.#resident[v] = { v, host: h, vm, ranNs: 0 };
  }

  /** VM `v` stops on the host it runs on (it left, pauses, or moved). */
  remove(v: number): void {
    const resident = this.#resident[v];
    if (resident === undefined) return;
    const host = this.#parts[resident.host]!;
    this.#count(resident);
    host.cpu.removeVm(resident.vm.index);
    host.memory?.removeVm(resident.vm.index);
    this.#resident[v] = undefined;
  }

  /** Advances every host kernel to `nowNs` and measures the frame since the last call. */
  advance(nowNs: number): FrameMeasure {
    const measure = this.#measure;
    for (const { kernel } of this.#parts) {
      if (kernel.now >= nowNs) continue;
      if (kernel.advance(nowNs) !== undefined) {
        throw new Error("A detailed host's kernel waited for its CPU policy (expected in-process)");
      }
    }
    for (let v = 0; v < this.#resident.length; v++) {
      const resident = this.#resident[v];
      if (resident !== undefined) this.#count(resident);
    }
    return measure;
  }

  /** Takes the frame's measure out (and starts the next frame's at zero). */
  take(): FrameMeasure {
    const measure = this.#measure;
    this.#measure = {
      hostBusyNs: new Float64Array(measure.hostBusyNs.length),
      vmRanNs: new Float64Array(measure.vmRanNs.length),
    };
    return measure;
  }

  #count(resident: Resident): void {
    const host = this.#parts[resident.host]!, now = host.kernel.now;
    const vcpu = host.cpu.vcpus[resident.vm.vcpus[0]!]!;
    // Run time in the books, plus the run going on now.
    const ran = vcpu.runNs + (host.cpu.status(vcpu) === "running" ? now - vcpu.sinceNs : 0);
    const delta = ran - resident.ranNs;
    resident.ranNs = ran;
    this.#measure.vmRanNs[resident.v]! += delta;
    this.#measure.hostBusyNs[resident.host]! += delta;
  }

  /**
   * Pre-copy's log-dirty mode on VM `v`'s source: the MB its pages dirtied since the last call
   * (the dirty bits of its page table), which are then cleared. 0 without memory.
   */
  dirtyMb(v: number): number {
    const resident = this.#resident[v];
    if (resident === undefined) return 0;
    const memory = this.#parts[resident.host]!.memory?.vms[resident.vm.index];
    if (memory === undefined) return 0;
    const pte = memory.pte;
    let dirty = 0;
    for (let entry = 1; entry < pte.length; entry += 4) {
      if ((pte[entry]! & 1) === 0) continue;
      dirty++;
      pte[entry] = pte[entry]! & ~1;
    }
    return dirty / PAGES_PER_MB;
  }

  /** Stops every host kernel. */
  async close(): Promise<void> {
    for (const host of this.hosts) await host.close();
  }
}

/** A VM type's memory, validated as a host workload's VM memory. */
function validMemory(memory: Record<string, unknown>, type: number): MemoryWorkload {
  try {
    return parseWorkload({
      schema: "hyperhook.workload/v1",
      name: "memory",
      host: { pcpus: 1, memory: { frames: 1 } },
      stopAt: "1s",
      vms: [{ id: "m", memory }],
    }).vms[0]!.memory!;
  } catch (error) {
    const message = (error as Error).message.replace(/^Workload: vms\[0\]\.memory\.?/, "");
    throw new WorkloadError(`Workload: datacenter.vmTypes[${type}].memory.${message}`);
  }
}
