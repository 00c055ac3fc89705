/**
 * The contract every disk service-time model fulfils.
 *
 * A model is a pure, deterministic state machine over integer nanoseconds: the I/O domain calls
 * {@linkcode DiskModel.service} when it dispatches one request to an idle disk, and gets back how
 * long the disk takes to serve it. A model keeps its own mechanical and cache state between calls
 * (head position, platter angle, read-ahead segments), so the same sequence of calls with the same
 * times always yields the same answers.
 *
 * @module
 */

/** The kinds of disk model the kernel knows. */
export type DiskKind = "linear" | "hdd" | "ssd";

/** The bytes of one logical block: service times and capacities count 512-byte blocks. */
export const BLOCK_BYTES = 512;

/**
 * What a model needs to know about a request.
 *
 * @example
 * ```ts
 * import type { DiskRequestShape } from "./model.ts";
 * const read: DiskRequestShape = { lba: 564347, blocks: 2, write: false };
 * const textbook: DiskRequestShape = { lba: 0, blocks: 1, write: false, cylinder: 98 };
 * ```
 */
export interface DiskRequestShape {
  /** First logical block (512 bytes each), from 0. */
  lba: number;
  /** Number of blocks, at least 1. */
  blocks: number;
  /** True for a write, false for a read. */
  write: boolean;
  /**
   * The cylinder the request addresses, for textbook workloads that name cylinders rather than
   * blocks. Only the `linear` model honours it; the others always map `lba`.
   */
  cylinder?: number;
}

/**
 * A disk service-time model.
 *
 * @example
 * ```ts
 * import { LinearDiskModel } from "./linear.ts";
 * const disk = new LinearDiskModel({ cylinders: 200, head: 53, seekNsPerCylinder: 1000 });
 * const ns = disk.service({ lba: 0, blocks: 1, write: false, cylinder: 98 }, 0);
 * console.log(ns, disk.lastSeekCylinders(), disk.headCylinder()); // 45000 45 98
 * ```
 */
export interface DiskModel {
  /** Which family of model this is. */
  readonly kind: DiskKind;
  /** Capacity in 512-byte blocks. */
  readonly totalBlocks: number;
  /** Number of cylinders (1 for an SSD). */
  readonly cylinders: number;
  /**
   * The cylinder holding a block, for seek-distance metrics and elevator policies.
   *
   * @param lba A logical block number in `[0, totalBlocks)`.
   * @returns The cylinder, in `[0, cylinders)`.
   */
  cylinderOf(lba: number): number;
  /**
   * Where the head is.
   *
   * @returns The cylinder the head is over now (0 for an SSD).
   */
  headCylinder(): number;
  /**
   * Serves one request that reaches the disk at `nowNs`, the disk being idle.
   *
   * A model that keeps working in the background (an HDD's read-ahead) catches up to `nowNs`
   * first. Calls must come in non-decreasing time order; a call earlier than the end of the
   * previous service is treated as arriving when that service ends (and the wait is included).
   *
   * @param request The request.
   * @param nowNs The simulated time, in integer nanoseconds.
   * @returns The service time in integer nanoseconds (from `nowNs` to the completion).
   */
  service(request: DiskRequestShape, nowNs: number): number;
  /**
   * How far the head moved for the last request, for `seekCylinders` metrics.
   *
   * @returns The head movement, in cylinders, of the last call to `service` (0 before any).
   */
  lastSeekCylinders(): number;
  /**
   * Moves the head to a cylinder without transferring anything (the end-of-disk sweeps of SCAN and
   * C-SCAN), the disk being idle, under the same time-order rules as {@linkcode DiskModel.service}.
   *
   * @param cylinder The target, in `[0, cylinders)`.
   * @param nowNs The simulated time, in integer nanoseconds.
   * @returns The time the movement takes, in integer nanoseconds (0 when the head is there).
   */
  seekTo(cylinder: number, nowNs: number): number;
  /**
   * The head's total travel so far: every positioning, track-to-track move, background read-ahead
   * and {@linkcode DiskModel.seekTo}, for `seekCylinders` metrics.
   *
   * @returns Cylinders travelled since the model was built.
   */
  movedCylinders(): number;
}

/**
 * Checks a request against a model's capacity, with a message naming what is wrong.
 *
 * @param request The request to check.
 * @param totalBlocks The capacity of the disk, in blocks.
 * @throws {RangeError} When the blocks are out of range.
 *
 * @example
 * ```ts
 * import { checkRequest } from "./model.ts";
 * checkRequest({ lba: 10, blocks: 2, write: false }, 100); // fine
 * ```
 */
export function checkRequest(request: DiskRequestShape, totalBlocks: number): void {
  const { lba, blocks } = request;
  if (!Number.isInteger(lba) || lba < 0) {
    throw new RangeError(`Disk request lba: expected a non-negative integer, got ${lba}`);
  }
  if (!Number.isInteger(blocks) || blocks < 1) {
    throw new RangeError(`Disk request blocks: expected a positive integer, got ${blocks}`);
  }
  if (lba + blocks > totalBlocks) {
    throw new RangeError(
      `Disk request [${lba}, ${lba + blocks}): past the end of the disk (${totalBlocks} blocks)`,
    );
  }
}
