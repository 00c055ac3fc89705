/**
 * Disk service-time models for the I/O domain, and their validation against a real drive.
 *
 * - {@linkcode LinearDiskModel}: the textbook disk (constant cost per cylinder), for elevator
 *   algorithms.
 * - {@linkcode HddDiskModel}: a mechanical disk modelled on DiskSim (zones, skews, spare tracks,
 *   seek curve, rotation, head switches, a segmented read-ahead cache, SCSI controller overheads),
 *   with the {@linkcode HP_C2247A} preset validated against the drive's measured service times.
 * - {@linkcode SsdDiskModel}: flash pages spread over parallel channels.
 *
 * {@linkcode createDiskModel} builds one from a workload's `{ id, model, ...params }`.
 *
 * @example
 * ```ts
 * import { createDiskModel } from "./mod.ts";
 * const disk = createDiskModel({ id: "d0", model: "hdd", preset: "hp_c2247a" });
 * const ns = disk.service({ lba: 1000, blocks: 8, write: false }, 0);
 * console.log(Number.isInteger(ns), disk.headCylinder()); // true 2
 * ```
 *
 * @module
 */

export {
  BLOCK_BYTES,
  checkRequest,
  type DiskKind,
  type DiskModel,
  type DiskRequestShape,
} from "./model.ts";
export { type HeadDirection, LinearDiskModel, type LinearDiskParams } from "./linear.ts";
export {
  type HddCacheParams,
  type HddControllerParams,
  HddDiskModel,
  type HddParams,
  type HddServiceKind,
} from "./hdd.ts";
export { HddLayout, type HddZone, newTrackPosition, type TrackPosition } from "./hdd_layout.ts";
export { type HddSeekParams, SeekCurve } from "./hdd_seek.ts";
export { HP_C2247A } from "./hp_c2247a.ts";
export { SsdDiskModel, type SsdDiskParams } from "./ssd.ts";
export {
  createDiskModel,
  type DiskSpec,
  HDD_PRESETS,
  type HddDiskSpec,
  type LinearDiskSpec,
  type SsdDiskSpec,
} from "./factory.ts";
export { parseValidationTrace, type ValidationRecord } from "./disksim_trace.ts";
export {
  cdfRmsDistance,
  type GapMode,
  type OutcomeStats,
  type ReplayResult,
  replayValidationTrace,
  summarizeValidation,
  type ValidationSummary,
} from "./validate.ts";
