/**
 * Disks as a workload describes them, `{ id, model, ...params }`, and the checks of those
 * descriptions, with errors that name the offending field
 * (`host.disks[0].cylinders: expected a positive integer, got -3`). The models themselves are the
 * I/O domain's (`core/io/disk/`).
 *
 * @module
 */

/**
 * A `linear` disk as a workload describes it (see `LinearDiskParams`).
 *
 * @example
 * ```ts
 * import type { LinearDiskSpec } from "./disk_specs.ts";
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
 * import type { HddDiskSpec } from "./disk_specs.ts";
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
 * import type { SsdDiskSpec } from "./disk_specs.ts";
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

/** The names of the hdd presets. */
export const HDD_PRESET_NAMES: readonly string[] = ["hp_c2247a"];

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
 * Checks a disk description and returns it typed; the message of a bad one names the field,
 * what was expected and what was found.
 *
 * @param spec The parsed JSON description, `{ id, model: "linear" | "hdd" | "ssd", ...params }`.
 * @param options `path`: where the description sits, for error messages (default `"disk"`).
 * @returns The description, unchanged.
 * @throws {TypeError} On an invalid description.
 *
 * @example
 * ```ts
 * import { checkDiskSpec } from "./disk_specs.ts";
 * try {
 *   checkDiskSpec({ id: "d0", model: "linear", cylinders: -3 }, { path: "host.disks[0]" });
 * } catch (error) {
 *   console.log((error as Error).message); // host.disks[0].cylinders: expected a positive integer, got -3
 * }
 * ```
 */
export function checkDiskSpec(spec: unknown, options: { path?: string } = {}): DiskSpec {
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
  const integer = (field: string, min: number, required: boolean): void => {
    const value = record[field];
    if (value === undefined && !required) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      fail(`.${field}`, min >= 1 ? "a positive integer" : "a non-negative integer", value);
    }
  };
  const positive = (field: string): void => {
    const value = record[field];
    if (
      value !== undefined && (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
    ) {
      fail(`.${field}`, "a positive number", value);
    }
  };
  if (model === "linear") {
    integer("cylinders", 1, true);
    const cylinders = record.cylinders as number;
    integer("head", 0, false);
    const head = record.head as number | undefined;
    if (head !== undefined && head >= cylinders) {
      fail(".head", `an integer in [0, ${cylinders})`, head);
    }
    const direction = record.direction;
    if (direction !== undefined && direction !== "up" && direction !== "down") {
      fail(".direction", `"up" or "down"`, direction);
    }
    integer("seekNsPerCylinder", 0, false);
    integer("overheadNs", 0, false);
    integer("transferNsPerBlock", 0, false);
    integer("totalBlocks", 1, false);
  } else if (model === "hdd") {
    const preset = record.preset;
    if (typeof preset !== "string" || !HDD_PRESET_NAMES.includes(preset)) {
      fail(".preset", `one of ${HDD_PRESET_NAMES.map((p) => `"${p}"`).join(", ")}`, preset);
    }
    positive("rpm");
    integer("cacheSegments", 1, false);
    integer("segmentBlocks", 1, false);
    integer("readAheadBlocks", 0, false);
  } else {
    // The SSD's fields are read in the order its model takes them, so the first bad one is named.
    integer("pageBytes", 1, false);
    const pageBytes = record.pageBytes as number | undefined;
    if (pageBytes !== undefined && pageBytes % 512 !== 0) {
      fail(".pageBytes", "a multiple of 512", pageBytes);
    }
    positive("transferMBps");
    integer("channels", 1, true);
    integer("readNs", 0, true);
    integer("writeNs", 0, true);
    integer("overheadNs", 0, false);
    integer("totalBlocks", 1, false);
  }
  return record as unknown as DiskSpec;
}
