/**
 * A datacenter workload flattened for the kernel: hosts and VMs by index, their types, and every
 * VM's demand curve as fractions of its MIPS (PlanetLab files read with the project's reader).
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parsePlanetlab } from "../cpu/programs.ts";
import { WorkloadError } from "../workload/load.ts";
import type { DatacenterInfo } from "../policy/placement.ts";
import type { DatacenterSpec, DatacenterWorkload, HostTypeSpec, VmTypeSpec } from "./types.ts";

/** VMs that share an arrival time and a curve interval: their demand changes together. */
export interface DemandGroup {
  /** When they arrive, in ns. */
  arriveNs: number;
  /** Length of one curve value, in ns. */
  intervalNs: number;
  /** Their indices. */
  vms: number[];
  /** The longest curve of the group, in values. */
  length: number;
}

/** The flattened datacenter. */
export interface DatacenterModel {
  /** Host types, by index. */
  hostTypes: HostTypeSpec[];
  /** Each host's type index. */
  hostType: Int32Array;
  /** Each host's id. */
  hostIds: string[];
  /** VM types, by index. */
  vmTypes: VmTypeSpec[];
  /** Each VM's type index. */
  vmType: Int32Array;
  /** Each VM's id. */
  vmIds: string[];
  /** Each VM's group index. */
  vmGroup: Int32Array;
  /** Each VM's demand curve, fractions of its MIPS (0..1). */
  curves: Float64Array[];
  /** The demand groups. */
  groups: DemandGroup[];
  /** When the last curve ends, in ns. */
  curvesEndNs: number;
}

/** Compares strings by code point (not UTF-16 unit), the order CLOUDSIM.md takes files in. */
function byCodePoint(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Builds the model: types by index, hosts and VMs in workload order, curves read from traces.
 *
 * @param readText Reads a trace file (injected for tests).
 * @throws {WorkloadError} When a trace cannot be read or holds too few files.
 */
export function buildModel(
  workload: DatacenterWorkload,
  readText: (path: string) => string = (path) => Deno.readTextFileSync(path),
): DatacenterModel {
  const spec = workload.datacenter;
  const hostTypeIndex = new Map(spec.hostTypes.map((type, i) => [type.id, i]));
  const vmTypeIndex = new Map(spec.vmTypes.map((type, i) => [type.id, i]));
  const hostTypes: number[] = [];
  for (const group of spec.hosts) {
    for (let i = 0; i < group.count; i++) {
      hostTypes.push(hostTypeIndex.get(group.types[i % group.types.length]!)!);
    }
  }
  const vmTypes: number[] = [], vmIds: string[] = [], vmGroups: number[] = [];
  const curves: Float64Array[] = [], groups: DemandGroup[] = [];
  let curvesEndNs = 0;
  spec.vms.forEach((group, g) => {
    const where = `datacenter.vms[${g}].demand`;
    let groupCurves: Float64Array[];
    const demand = group.demand;
    if (demand.utilization !== undefined) {
      const curve = Float64Array.from(demand.utilization, (percent) => percent / 100);
      groupCurves = Array.from({ length: group.count ?? 1 }, () => curve);
    } else if (demand.trace?.path !== undefined) {
      groupCurves = [readCurve(demand.trace.path, `${where}.trace.path`, readText)];
    } else {
      const folder = demand.trace!.folder!;
      let files: string[];
      try {
        files = readdirSync(folder, { withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => entry.name)
          .sort(byCodePoint);
      } catch (error) {
        throw new WorkloadError(
          `Workload: ${where}.trace.folder: cannot read the folder ${folder} (${
            (error as Error).message
          })`,
        );
      }
      const count = group.count ?? files.length;
      if (count > files.length || count === 0) {
        throw new WorkloadError(
          `Workload: ${where}.trace.folder: expected at least ${
            Math.max(count, 1)
          } trace files in ${folder}, got ${files.length}`,
        );
      }
      groupCurves = files.slice(0, count).map((file) =>
        readCurve(join(folder, file), `${where}.trace.folder`, readText)
      );
    }
    const count = groupCurves.length, types = group.types.length;
    const block = Math.ceil(count / types);
    const members: number[] = [];
    let length = 0;
    groupCurves.forEach((curve, i) => {
      const type = group.assign === "cycle"
        ? i % types
        : Math.min(types - 1, Math.floor(i / block));
      members.push(vmTypes.length);
      vmTypes.push(vmTypeIndex.get(group.types[type]!)!);
      vmIds.push(`${group.id}${vmIds.length}`);
      vmGroups.push(g);
      curves.push(curve);
      length = Math.max(length, curve.length);
    });
    groups.push({ arriveNs: group.arrive, intervalNs: demand.interval, vms: members, length });
    curvesEndNs = Math.max(curvesEndNs, group.arrive + length * demand.interval);
  });
  return {
    hostTypes: spec.hostTypes,
    hostType: Int32Array.from(hostTypes),
    hostIds: hostTypes.map((_, i) => `h${i}`),
    vmTypes: spec.vmTypes,
    vmType: Int32Array.from(vmTypes),
    vmIds,
    vmGroup: Int32Array.from(vmGroups),
    curves,
    groups,
    curvesEndNs,
  };
}

function readCurve(
  path: string,
  where: string,
  readText: (path: string) => string,
): Float64Array {
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    throw new WorkloadError(
      `Workload: ${where}: cannot read the trace ${path} (${(error as Error).message})`,
    );
  }
  try {
    const percents = parsePlanetlab(text, path), curve = new Float64Array(percents.length);
    for (let i = 0; i < curve.length; i++) curve[i] = percents[i]! / 100;
    return curve;
  } catch (error) {
    throw new WorkloadError(`Workload: ${where}: ${(error as Error).message}`);
  }
}

/**
 * CloudSim's PlanetLab utilisation at `time` s: linear between the samples around it, the sample
 * itself on a multiple of the interval, the last sample past the end.
 *
 * @example
 * ```ts
 * import { interpolated } from "./model.ts";
 * const curve = Float64Array.of(0.1, 0.4);
 * console.assert(interpolated(curve, 450, 300) === 0.4);
 * console.assert(Math.abs(interpolated(curve, 150, 300) - 0.25) < 1e-12);
 * ```
 */
export function interpolated(curve: Float64Array, time: number, interval: number): number {
  const last = curve.length - 1;
  if (time % interval === 0) return curve[Math.min(last, time / interval)]!;
  const k1 = Math.floor(time / interval), k2 = Math.ceil(time / interval);
  const u1 = curve[Math.min(last, k1)]!, u2 = curve[Math.min(last, k2)]!;
  const delta = (u2 - u1) / ((k2 - k1) * interval);
  return u1 + delta * (time - k1 * interval);
}

/**
 * The datacenter as a placement policy sees it at start (and a fresh policy after an ejection):
 * the host and VM types, the hosts, the migration model.
 *
 * @param model The flattened workload.
 * @param spec The datacenter section.
 * @param now Whether placed VMs hold their RAM now, and the current evaluation.
 * @returns What the policy's `init` gets as its host.
 */
export function policyView(
  model: DatacenterModel,
  spec: DatacenterSpec,
  now: { ramHeld: boolean; evaluation: number },
): DatacenterInfo & { ramHeld: boolean; evaluation: number } {
  return {
    mode: spec.mode,
    intervalNs: spec.interval,
    hostTypes: model.hostTypes.map((type) => ({
      id: type.id,
      cores: type.cores,
      coreMips: type.mips,
      ram: type.ram,
      bandwidth: type.bandwidth,
      power: type.power,
    })),
    hosts: model.hostIds.map((id, h) => ({ id, type: model.hostType[h]! })),
    vmTypes: model.vmTypes.map((type) => ({
      id: type.id,
      mips: type.mips,
      ram: type.ram,
      bandwidth: type.bandwidth,
    })),
    migration: {
      model: spec.migration.model,
      bandwidthShare: spec.migration.bandwidthShare,
      degradation: spec.migration.degradation,
      reservation: spec.migration.reservation,
    },
    ramOnlyAtStart: spec.quirks.ramOnlyAtStart,
    ramHeld: now.ramHeld,
    evaluation: now.evaluation,
  };
}
