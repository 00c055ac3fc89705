/**
 * Builds a disk model from its workload description, `{ id, model, ...params }`, with errors that
 * name the offending field (`host.disks[0].cylinders: expected a positive integer, got -3`).
 *
 * @module
 */

import { HddDiskModel, type HddParams } from "./hdd.ts";
import { HP_C2247A } from "./hp_c2247a.ts";
import { LinearDiskModel } from "./linear.ts";
import type { DiskModel } from "./model.ts";
import { SsdDiskModel } from "./ssd.ts";

/**
 * A `linear` disk as a workload describes it (see `LinearDiskParams`).
 *
 * @example
 * ```ts
 * import type { LinearDiskSpec } from "./factory.ts";
 * const d0: LinearDiskSpec = { id: "d0", model: "linear", cylinders: 200, head: 53, direction: "down" };
 * ```
 */
export interface LinearDiskSpec {
  /** The disk's name in the workload. */
  id: string;
  /** The model. */
  model: "linear";
  /** Cylinders. */
  cylinders: number;
  /** Starting head cylinder (default 0). */
  head?: number;
  /** Starting direction (default `"up"`). */
  direction?: "up" | "down";
  /** ns per cylinder of head movement (default 0). */
  seekNsPerCylinder?: number;
  /** ns per request (default 0). */
  overheadNs?: number;
  /** ns per block transferred (default 0). */
  transferNsPerBlock?: number;
  /** Capacity in blocks (default: `cylinders`). */
  totalBlocks?: number;
}

/**
 * An `hdd` disk: a preset, with a few optional overrides.
 *
 * @example
 * ```ts
 * import type { HddDiskSpec } from "./factory.ts";
 * const d1: HddDiskSpec = { id: "d1", model: "hdd", preset: "hp_c2247a", readAheadBlocks: 0 };
 * ```
 */
export interface HddDiskSpec {
  /** The disk's name in the workload. */
  id: string;
  /** The model. */
  model: "hdd";
  /** The drive (only `"hp_c2247a"` so far). */
  preset: "hp_c2247a";
  /** Overrides the spindle speed. */
  rpm?: number;
  /** Overrides the number of cache segments. */
  cacheSegments?: number;
  /** Overrides the blocks per cache segment. */
  segmentBlocks?: number;
  /** Overrides the read-ahead (0 disables it). */
  readAheadBlocks?: number;
}

/**
 * An `ssd` disk (see `SsdDiskParams`).
 *
 * @example
 * ```ts
 * import type { SsdDiskSpec } from "./factory.ts";
 * const d2: SsdDiskSpec = { id: "d2", model: "ssd", channels: 8, readNs: 50_000, writeNs: 200_000 };
 * ```
 */
export interface SsdDiskSpec {
  /** The disk's name in the workload. */
  id: string;
  /** The model. */
  model: "ssd";
  /** Channels. */
  channels: number;
  /** ns per page read. */
  readNs: number;
  /** ns per page program. */
  writeNs: number;
  /** Page size in bytes (default 4096). */
  pageBytes?: number;
  /** Host transfer rate, MB/s (default: free). */
  transferMBps?: number;
  /** ns per request (default 0). */
  overheadNs?: number;
  /** Capacity in blocks (default 16,777,216). */
  totalBlocks?: number;
}

/** Any disk description a workload may hold. */
export type DiskSpec = LinearDiskSpec | HddDiskSpec | SsdDiskSpec;

/** The hdd presets by name. */
export const HDD_PRESETS: Readonly<Record<string, HddParams>> = { hp_c2247a: HP_C2247A };

const FIELDS: Record<DiskSpec["model"], readonly string[]> = {
  linear: [
    "cylinders",
    "head",
    "direction",
    "seekNsPerCylinder",
    "overheadNs",
    "transferNsPerBlock",
    "totalBlocks",
  ],
  hdd: ["preset", "rpm", "cacheSegments", "segmentBlocks", "readAheadBlocks"],
  ssd: ["channels", "readNs", "writeNs", "pageBytes", "transferMBps", "overheadNs", "totalBlocks"],
};

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? "an array" : "an object";
}

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
  const path = options.path ?? "disk";
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new TypeError(`${path}${field}: expected ${expected}, got ${show(got)}`);
  };
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return fail("", "an object such as { id, model, ... }", spec);
  }
  const record = spec as Record<string, unknown>;
  if (typeof record.id !== "string" || record.id === "") {
    fail(".id", "a non-empty string", record.id);
  }
  const model = record.model;
  if (model !== "linear" && model !== "hdd" && model !== "ssd") {
    return fail(".model", `"linear", "hdd" or "ssd"`, model);
  }
  const allowed = FIELDS[model];
  for (const key of Object.keys(record)) {
    if (key !== "id" && key !== "model" && !allowed.includes(key)) {
      throw new TypeError(
        `${path}.${key}: unknown field for a ${model} disk (expected one of id, model, ${
          allowed.join(", ")
        })`,
      );
    }
  }
  const integer = (field: string, min: number, required: boolean): number | undefined => {
    const value = record[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      fail(`.${field}`, min >= 1 ? "a positive integer" : "a non-negative integer", value);
    }
    return value as number;
  };
  if (model === "linear") {
    const cylinders = integer("cylinders", 1, true)!;
    const head = integer("head", 0, false);
    if (head !== undefined && head >= cylinders) {
      fail(".head", `an integer in [0, ${cylinders})`, head);
    }
    const direction = record.direction;
    if (direction !== undefined && direction !== "up" && direction !== "down") {
      fail(".direction", `"up" or "down"`, direction);
    }
    return new LinearDiskModel({
      cylinders,
      head,
      direction: direction as "up" | "down" | undefined,
      seekNsPerCylinder: integer("seekNsPerCylinder", 0, false),
      overheadNs: integer("overheadNs", 0, false),
      transferNsPerBlock: integer("transferNsPerBlock", 0, false),
      totalBlocks: integer("totalBlocks", 1, false),
    });
  }
  if (model === "hdd") {
    const preset = record.preset;
    if (typeof preset !== "string" || !Object.hasOwn(HDD_PRESETS, preset)) {
      fail(".preset", `one of ${Object.keys(HDD_PRESETS).map((p) => `"${p}"`).join(", ")}`, preset);
    }
    const base = HDD_PRESETS[preset as string]!;
    const rpm = record.rpm;
    if (rpm !== undefined && (typeof rpm !== "number" || !(rpm > 0) || !Number.isFinite(rpm))) {
      fail(".rpm", "a positive number", rpm);
    }
    return new HddDiskModel({
      ...base,
      rpm: (rpm as number | undefined) ?? base.rpm,
      cache: {
        ...base.cache,
        segments: integer("cacheSegments", 1, false) ?? base.cache.segments,
        segmentBlocks: integer("segmentBlocks", 1, false) ?? base.cache.segmentBlocks,
        readAheadBlocks: integer("readAheadBlocks", 0, false) ?? base.cache.readAheadBlocks,
      },
    });
  }
  const pageBytes = integer("pageBytes", 1, false);
  if (pageBytes !== undefined && pageBytes % 512 !== 0) {
    fail(".pageBytes", "a multiple of 512", pageBytes);
  }
  const transferMBps = record.transferMBps;
  if (
    transferMBps !== undefined &&
    (typeof transferMBps !== "number" || !(transferMBps > 0) || !Number.isFinite(transferMBps))
  ) {
    fail(".transferMBps", "a positive number", transferMBps);
  }
  return new SsdDiskModel({
    channels: integer("channels", 1, true)!,
    readNs: integer("readNs", 0, true)!,
    writeNs: integer("writeNs", 0, true)!,
    pageBytes,
    transferMBps: transferMBps as number | undefined,
    overheadNs: integer("overheadNs", 0, false),
    totalBlocks: integer("totalBlocks", 1, false),
  });
}
