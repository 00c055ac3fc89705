/**
 * A flash disk: pages spread round-robin over independent channels, no mechanics.
 *
 * A request touches the pages holding its blocks; page `p` lives on channel `p mod channels`, and
 * channels work in parallel, each doing its pages one after another. The service time is the
 * busiest channel's time (`ceil(pages / channels)` page operations) plus the transfer of the
 * request's bytes over the host interface. Writes cost `writeNs` per page whatever the page's
 * fill (no read-modify-write, no garbage collection, no wear).
 *
 * @module
 */

import { BLOCK_BYTES, checkRequest, type DiskModel, type DiskRequestShape } from "./model.ts";

/** Parameters of an {@linkcode SsdDiskModel}. */
export interface SsdDiskParams {
  /** Independent channels (at least 1). */
  channels: number;
  /** Time to read one page on a channel, ns. */
  readNs: number;
  /** Time to program one page on a channel, ns. */
  writeNs: number;
  /** Page size in bytes, a multiple of 512 (default 4096). */
  pageBytes?: number;
  /** Host transfer rate in MB/s (10^6 bytes per second); default: no transfer cost. */
  transferMBps?: number;
  /** Fixed cost of every request, ns (default 0). */
  overheadNs?: number;
  /** Capacity in 512-byte blocks (default 16,777,216: 8 GiB). */
  totalBlocks?: number;
}

/**
 * The channel-parallel SSD.
 *
 * @example
 * ```ts
 * import { SsdDiskModel } from "./ssd.ts";
 * const ssd = new SsdDiskModel({ channels: 4, readNs: 50_000, writeNs: 200_000 });
 * console.log(ssd.service({ lba: 0, blocks: 8, write: false }, 0)); // 50000 (one 4 KiB page)
 * console.log(ssd.service({ lba: 0, blocks: 32, write: false }, 1e6)); // 50000 (4 pages, 4 channels)
 * console.log(ssd.service({ lba: 0, blocks: 40, write: false }, 2e6)); // 100000 (5 pages)
 * ```
 */
export class SsdDiskModel implements DiskModel {
  /** Always `"ssd"`. */
  readonly kind = "ssd" as const;
  /** Capacity in blocks. */
  readonly totalBlocks: number;
  /** Always 1. */
  readonly cylinders = 1;
  /** Channels. */
  readonly channels: number;
  /** Page read time, ns. */
  readonly readNs: number;
  /** Page program time, ns. */
  readonly writeNs: number;
  /** Page size, bytes. */
  readonly pageBytes: number;
  /** Host transfer rate, MB/s (0: free). */
  readonly transferMBps: number;
  /** Fixed per-request cost, ns. */
  readonly overheadNs: number;
  #busyUntil = 0;

  /**
   * Builds an idle SSD.
   *
   * @param params See {@linkcode SsdDiskParams}.
   * @throws {RangeError} When a parameter is out of range.
   */
  constructor(params: SsdDiskParams) {
    this.channels = params.channels;
    this.readNs = params.readNs;
    this.writeNs = params.writeNs;
    this.pageBytes = params.pageBytes ?? 4096;
    this.transferMBps = params.transferMBps ?? 0;
    this.overheadNs = params.overheadNs ?? 0;
    this.totalBlocks = params.totalBlocks ?? 16_777_216;
    const positive = (name: string, value: number): void => {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`SSD ${name}: expected a positive integer, got ${value}`);
      }
    };
    const nonNegative = (name: string, value: number): void => {
      if (!Number.isInteger(value) || value < 0) {
        throw new RangeError(`SSD ${name}: expected a non-negative integer, got ${value}`);
      }
    };
    positive("channels", this.channels);
    positive("totalBlocks", this.totalBlocks);
    positive("pageBytes", this.pageBytes);
    if (this.pageBytes % BLOCK_BYTES !== 0) {
      throw new RangeError(`SSD pageBytes: expected a multiple of 512, got ${this.pageBytes}`);
    }
    nonNegative("readNs", this.readNs);
    nonNegative("writeNs", this.writeNs);
    nonNegative("overheadNs", this.overheadNs);
    if (!(this.transferMBps >= 0) || !Number.isFinite(this.transferMBps)) {
      throw new RangeError(
        `SSD transferMBps: expected a non-negative number, got ${this.transferMBps}`,
      );
    }
  }

  /**
   * An SSD has no cylinders; everything is on "cylinder" 0.
   *
   * @returns 0.
   */
  cylinderOf(_lba: number): number {
    return 0;
  }

  /**
   * An SSD has no head; it is always on "cylinder" 0.
   *
   * @returns 0.
   */
  headCylinder(): number {
    return 0;
  }

  /**
   * Nothing moves in an SSD.
   *
   * @returns 0.
   */
  lastSeekCylinders(): number {
    return 0;
  }

  /**
   * Nothing moves in an SSD: a seek is free.
   *
   * @param _cylinder Ignored.
   * @param nowNs The time, in ns.
   * @returns Only the wait for a previous service still running at `nowNs` (usually 0).
   */
  seekTo(_cylinder: number, nowNs: number): number {
    return Math.max(0, this.#busyUntil - nowNs);
  }

  /**
   * Nothing moves in an SSD.
   *
   * @returns 0.
   */
  movedCylinders(): number {
    return 0;
  }

  /**
   * Serves a request on the channels holding its pages.
   *
   * @param request The request.
   * @param nowNs The arrival time, ns.
   * @returns `overheadNs + ceil(pages / channels) * (readNs | writeNs) + transfer`, plus any wait
   *   for a previous service still running at `nowNs`.
   */
  service(request: DiskRequestShape, nowNs: number): number {
    checkRequest(request, this.totalBlocks);
    const blocksPerPage = this.pageBytes / BLOCK_BYTES;
    const firstPage = Math.floor(request.lba / blocksPerPage);
    const lastPage = Math.floor((request.lba + request.blocks - 1) / blocksPerPage);
    const rounds = Math.ceil((lastPage - firstPage + 1) / this.channels);
    const bytes = request.blocks * BLOCK_BYTES;
    const transferNs = this.transferMBps > 0 ? Math.round((bytes * 1000) / this.transferMBps) : 0;
    const start = Math.max(nowNs, this.#busyUntil);
    const end = start + this.overheadNs +
      rounds * (request.write ? this.writeNs : this.readNs) + transferNs;
    this.#busyUntil = end;
    return end - nowNs;
  }
}
