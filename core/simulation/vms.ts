/**
 * Adding a VM to a simulation: one way for a workload's VMs and for `POST /v1/vms`. Everything
 * that can refuse the VM (its program, a trace, a request that does not fit its disk, work
 * forever without `stopAt`) is checked before any domain changes, so a refused VM leaves no trace;
 * then the VM takes the next index in every domain.
 *
 * @module
 */

import { buildProgram } from "../cpu/programs.ts";
import { parseDuration } from "../engine/duration.ts";
import { memoryOnlyCpu } from "../memory/pace.ts";
import type { VmWorkload } from "../workload/types.ts";
import type { SimulationParts } from "./build.ts";

/** Why a VM cannot be added, for the caller to say in its own words. */
export type VmRefusal =
  | {
    /** Its program (or its trace, when `trace`) could not be built. */
    field: "cpu";
    /** Whether the program is a trace's. */
    trace: boolean;
    /** What went wrong. */
    error: unknown;
  }
  | {
    /** It works forever and the run has no `stopAt`. */
    field: "stopAt";
    /** What it does forever: `runs forever (pattern cpu-bound)`, `references memory forever (…)`. */
    what: string;
  }
  | {
    /** Its I/O does not fit the disks, or a trace of it cannot be read. */
    field: "io";
    /** What went wrong (a `WorkloadError` naming the place). */
    error: unknown;
  };

/** Options of {@linkcode addVm}. */
export interface AddVmOptions {
  /** Where the VM sits, for messages: `vms[2]` in a workload, `body` for the API. */
  place: string;
  /** Where its memory spec sits, for messages (default `<place>.memory`). */
  memoryPlace?: string;
  /** Reads its trace files. */
  readText: (path: string) => string;
  /** Turns a refusal into the error the caller throws. */
  refuse: (refusal: VmRefusal) => Error;
}

/**
 * Adds a VM to every domain at the next index; it arrives `cpu.arrive` from now.
 *
 * @param parts The simulation's kernel and domains.
 * @param spec The VM's validated description.
 * @param options Where it sits, how traces are read, how refusals are said.
 * @returns The VM's index.
 * @throws {Error} What `options.refuse` makes of a refusal; nothing has changed then.
 */
export function addVm(parts: SimulationParts, spec: VmWorkload, options: AddVmOptions): number {
  const { kernel, cpu, memory, io } = parts;
  const forever = kernel.stopAtNs === undefined;
  if (spec.cpu === undefined && spec.memory !== undefined && forever) {
    if (spec.memory.refs === undefined && spec.memory.count === undefined) {
      throw options.refuse({
        field: "stopAt",
        what: `references memory forever (memory.pattern "${spec.memory.pattern}" without "count")`,
      });
    }
  }
  // A VM whose only work is memory runs until its references are issued.
  const cpuSpec = spec.cpu ??
    (spec.memory === undefined ? undefined : memoryOnlyCpu(spec.memory, spec.vcpus));
  let program;
  try {
    program = buildProgram(cpuSpec, options.readText);
  } catch (error) {
    throw options.refuse({ field: "cpu", trace: spec.cpu?.trace !== undefined, error });
  }
  if (program !== null && !program.finite && forever) {
    throw options.refuse({ field: "stopAt", what: `runs forever (${program.label})` });
  }
  const index = cpu.vms.length;
  let prepared;
  try {
    // Every VM has its place in the I/O domain, with or without I/O of its own.
    prepared = io?.prepareVm(index, spec, options.place, options.readText);
  } catch (error) {
    throw options.refuse({ field: "io", error });
  }
  const added = cpu.addVm({
    id: spec.id,
    vcpus: spec.vcpus,
    params: {
      weight: spec.weight,
      cap: spec.cap,
      priority: spec.priority,
      sched: normaliseSched(spec.sched),
    },
    program,
    arriveNs: kernel.now + (cpuSpec?.arrive ?? 0),
  });
  if (spec.memory !== undefined) {
    memory!.addVm({
      index,
      id: spec.id,
      vcpus: added.vcpus,
      arriveNs: added.arriveNs,
      weight: spec.memory.weight,
      memory: spec.memory,
      place: options.memoryPlace ?? `${options.place}.memory`,
    });
  }
  if (prepared !== undefined) io!.addVm(prepared);
  return index;
}

/**
 * Turns duration strings in `sched` parameters into ns, so policies get numbers.
 *
 * @example
 * ```ts
 * import { normaliseSched } from "./vms.ts";
 *
 * console.assert(normaliseSched({ period: "10ms", mode: "edf" }).period === 10_000_000);
 * ```
 */
export function normaliseSched(sched: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sched)) out[key] = parseDuration(value) ?? value;
  return out;
}
