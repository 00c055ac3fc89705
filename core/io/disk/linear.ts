/**
 * The textbook disk: a head moving over numbered cylinders at a constant cost per cylinder.
 *
 * This is the disk of operating-systems courses (FCFS, SSTF, SCAN, C-SCAN, LOOK on a queue such as
 * 98, 183, 37, 122, 14, 124, 65, 67 with the head at 53): the service time is a fixed overhead plus
 * the seek distance times a cost per cylinder, plus an optional transfer cost per block. There is
 * no rotation and no cache, so total head movement, the number textbooks compare, is exact.
 *
 * @module
 */

import { checkRequest, type DiskModel, type DiskRequestShape } from "./model.ts";

/** Which way the head last moved (or starts moving); elevator policies read it. */
export type HeadDirection = "up" | "down";

/** Parameters of a {@linkcode LinearDiskModel}. */
export interface LinearDiskParams {
  /** Number of cylinders, numbered `0 .. cylinders - 1`. */
  cylinders: number;
  /** Starting head cylinder (default 0). */
  head?: number;
  /** Starting direction (default `"up"`). */
  direction?: HeadDirection;
  /** Cost of moving the head by one cylinder, in ns (default 0: count movement only). */
  seekNsPerCylinder?: number;
  /** Fixed cost of every request, in ns (default 0). */
  overheadNs?: number;
  /** Cost of transferring one block, in ns (default 0). */
  transferNsPerBlock?: number;
  /**
   * Capacity in blocks (default: one block per cylinder). Requests without a `cylinder` are mapped
   * linearly: block `lba` lies on cylinder `floor(lba * cylinders / totalBlocks)`.
   */
  totalBlocks?: number;
}

/**
 * The textbook linear-seek disk.
 *
 * @example
 * ```ts
 * import { LinearDiskModel } from "./linear.ts";
 * const disk = new LinearDiskModel({ cylinders: 200, head: 53, seekNsPerCylinder: 1 });
 * let moved = 0;
 * for (const cylinder of [98, 183, 37, 122, 14, 124, 65, 67]) {
 *   disk.service({ lba: 0, blocks: 1, write: false, cylinder }, 0);
 *   moved += disk.lastSeekCylinders();
 * }
 * console.log(moved); // 640, the FCFS total of the textbook example
 * ```
 */
export class LinearDiskModel implements DiskModel {
  /** Always `"linear"`. */
  readonly kind = "linear" as const;
  /** Capacity in blocks. */
  readonly totalBlocks: number;
  /** Number of cylinders. */
  readonly cylinders: number;
  /** Cost of one cylinder of head movement, in ns. */
  readonly seekNsPerCylinder: number;
  /** Fixed cost of each request, in ns. */
  readonly overheadNs: number;
  /** Cost of one block of transfer, in ns. */
  readonly transferNsPerBlock: number;
  #head: number;
  #direction: HeadDirection;
  #lastSeek = 0;
  #moved = 0;
  #busyUntil = 0;

  /**
   * Builds a disk with its head at `head`.
   *
   * @param params The geometry and costs; see {@linkcode LinearDiskParams}.
   * @throws {RangeError} When a parameter is out of range.
   */
  constructor(params: LinearDiskParams) {
    const { cylinders } = params;
    if (!Number.isInteger(cylinders) || cylinders < 1) {
      throw new RangeError(`Linear disk cylinders: expected a positive integer, got ${cylinders}`);
    }
    const head = params.head ?? 0;
    if (!Number.isInteger(head) || head < 0 || head >= cylinders) {
      throw new RangeError(
        `Linear disk head: expected an integer in [0, ${cylinders}), got ${head}`,
      );
    }
    this.cylinders = cylinders;
    this.totalBlocks = params.totalBlocks ?? cylinders;
    this.seekNsPerCylinder = params.seekNsPerCylinder ?? 0;
    this.overheadNs = params.overheadNs ?? 0;
    this.transferNsPerBlock = params.transferNsPerBlock ?? 0;
    for (
      const [name, value] of [
        ["totalBlocks", this.totalBlocks],
        ["seekNsPerCylinder", this.seekNsPerCylinder],
        ["overheadNs", this.overheadNs],
        ["transferNsPerBlock", this.transferNsPerBlock],
      ] as const
    ) {
      if (!Number.isInteger(value) || value < 0 || (name === "totalBlocks" && value < 1)) {
        throw new RangeError(`Linear disk ${name}: expected a non-negative integer, got ${value}`);
      }
    }
    this.#head = head;
    this.#direction = params.direction ?? "up";
  }

  /** The direction of the last head movement (the starting direction until the head moves). */
  get direction(): HeadDirection {
    return this.#direction;
  }

  /**
   * Maps a block to its cylinder linearly.
   *
   * @param lba A block number.
   * @returns `floor(lba * cylinders / totalBlocks)`.
   */
  cylinderOf(lba: number): number {
    return Math.floor((lba * this.cylinders) / this.totalBlocks);
  }

  /**
   * Where the head is.
   *
   * @returns The head's cylinder.
   */
  headCylinder(): number {
    return this.#head;
  }

  /**
   * How far the head moved for the last request.
   *
   * @returns The cylinders moved by the last service.
   */
  lastSeekCylinders(): number {
    return this.#lastSeek;
  }

  /**
   * Moves the head to the request's cylinder (its `cylinder`, or the one holding `lba`).
   *
   * @param request The request.
   * @param nowNs The arrival time in ns.
   * @returns `overheadNs + distance * seekNsPerCylinder + blocks * transferNsPerBlock`, plus any
   *   wait for a previous service still running at `nowNs`.
   */
  service(request: DiskRequestShape, nowNs: number): number {
    let target = request.cylinder;
    if (target === undefined) {
      checkRequest(request, this.totalBlocks);
      target = this.cylinderOf(request.lba);
    } else if (!Number.isInteger(target) || target < 0 || target >= this.cylinders) {
      throw new RangeError(
        `Disk request cylinder: expected an integer in [0, ${this.cylinders}), got ${target}`,
      );
    }
    const distance = this.#move(target);
    const start = Math.max(nowNs, this.#busyUntil);
    const end = start + this.overheadNs + distance * this.seekNsPerCylinder +
      request.blocks * this.transferNsPerBlock;
    this.#busyUntil = end;
    return end - nowNs;
  }

  /**
   * Moves the head to `cylinder` without a request (no overhead, no transfer).
   *
   * @param cylinder The target cylinder.
   * @param nowNs The time the movement starts, in ns.
   * @returns `distance * seekNsPerCylinder`, plus any wait for a previous service still running.
   */
  seekTo(cylinder: number, nowNs: number): number {
    if (!Number.isInteger(cylinder) || cylinder < 0 || cylinder >= this.cylinders) {
      throw new RangeError(
        `Disk seek: expected a cylinder in [0, ${this.cylinders}), got ${cylinder}`,
      );
    }
    const distance = this.#move(cylinder);
    const end = Math.max(nowNs, this.#busyUntil) + distance * this.seekNsPerCylinder;
    this.#busyUntil = end;
    return end - nowNs;
  }

  /**
   * The head's total travel.
   *
   * @returns Cylinders moved since the model was built.
   */
  movedCylinders(): number {
    return this.#moved;
  }

  #move(target: number): number {
    const distance = Math.abs(target - this.#head);
    if (target > this.#head) this.#direction = "up";
    else if (target < this.#head) this.#direction = "down";
    this.#head = target;
    this.#lastSeek = distance;
    this.#moved += distance;
    return distance;
  }
}
