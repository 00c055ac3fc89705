/**
 * Builds a disk model from its workload description, `{ id, model, ...params }`, checked first
 * (`core/workload/disk_specs.ts`) so that errors name the offending field
 * (`host.disks[0].cylinders: expected a positive integer, got -3`).
 *
 * @module
 */

import { checkDiskSpec } from "../../workload/disk_specs.ts";
import { HddDiskModel, type HddParams } from "./hdd.ts";
import { HP_C2247A } from "./hp_c2247a.ts";
import { LinearDiskModel } from "./linear.ts";
import type { DiskModel } from "./model.ts";
import { SsdDiskModel } from "./ssd.ts";

export type {
  DiskSpec,
  HddDiskSpec,
  LinearDiskSpec,
  SsdDiskSpec,
} from "../../workload/disk_specs.ts";

/** The hdd presets by name (`HDD_PRESET_NAMES` in the workload's disk specs names them). */
export const HDD_PRESETS: Readonly<Record<string, HddParams>> = { hp_c2247a: HP_C2247A };

/**
 * Builds the model a disk description asks for.
 *
 * @param spec The parsed JSON description, `{ id, model: "linear" | "hdd" | "ssd", ...params }`.
 * @param options `path`: where the description sits, for error messages (default `"disk"`).
 * @returns A fresh model.
 * @throws {TypeError} On an invalid description; the message names the field, what was expected
 *   and what was found.
 *
 * @example
 * ```ts
 * import { createDiskModel } from "./factory.ts";
 * const disk = createDiskModel({ id: "d0", model: "linear", cylinders: 200, head: 53 });
 * console.log(disk.kind, disk.headCylinder()); // linear 53
 * try {
 *   createDiskModel({ id: "d0", model: "linear", cylinders: -3 }, { path: "host.disks[0]" });
 * } catch (error) {
 *   console.log((error as Error).message); // host.disks[0].cylinders: expected a positive integer, got -3
 * }
 * ```
 */
export function createDiskModel(spec: unknown, options: { path?: string } = {}): DiskModel {
  const disk = checkDiskSpec(spec, options);
  if (disk.model === "linear") {
    return new LinearDiskModel({
      cylinders: disk.cylinders,
      head: disk.head,
      direction: disk.direction,
      seekNsPerCylinder: disk.seekNsPerCylinder,
      overheadNs: disk.overheadNs,
      transferNsPerBlock: disk.transferNsPerBlock,
      totalBlocks: disk.totalBlocks,
    });
  }
  if (disk.model === "hdd") {
    const base = HDD_PRESETS[disk.preset]!;
    return new HddDiskModel({
      ...base,
      rpm: disk.rpm ?? base.rpm,
      cache: {
        ...base.cache,
        segments: disk.cacheSegments ?? base.cache.segments,
        segmentBlocks: disk.segmentBlocks ?? base.cache.segmentBlocks,
        readAheadBlocks: disk.readAheadBlocks ?? base.cache.readAheadBlocks,
      },
    });
  }
  return new SsdDiskModel({
    channels: disk.channels,
    readNs: disk.readNs,
    writeNs: disk.writeNs,
    pageBytes: disk.pageBytes,
    transferMBps: disk.transferMBps,
    overheadNs: disk.overheadNs,
    totalBlocks: disk.totalBlocks,
  });
}
