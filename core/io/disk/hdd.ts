/**
 * A mechanical hard disk with a segmented read-ahead cache and a SCSI-style controller, modelled
 * on DiskSim's disk (the model DiskSim validated against real drives).
 *
 * What one request costs:
 * - **Mechanics**: a seek (DiskSim's `hplplus10` curve, at least a head switch when the surface
 *   changes, plus a settling time before writes), then the rotational latency until the first
 *   sector passes under the head (the platter angle is a pure function of the simulated time, so it
 *   is deterministic), then one sector time per block at the zone's rate, with a head switch or
 *   one-cylinder seek plus latency at every track boundary (track and cylinder skews included).
 * - **Controller**: command overheads (different for read hits, read misses and writes), the
 *   disconnect/reselect handshakes of a SCSI target, per-block bus transfer times (the bus of the
 *   HP C2247A is slower than its outer zones), and completion overheads.
 * - **Cache**: a few segments of consecutive blocks. After a read the drive keeps reading ahead in
 *   the background (up to `readAheadBlocks` past the request) until the next request arrives; a read
 *   whose first block is in a segment is a hit and is served at bus speed while the media keeps
 *   filling the segment. A read miss reconnects to the bus once a watermark fraction of its data is
 *   buffered; a write streams its data into a segment and writes it out (no write-back caching:
 *   the completion is sent once the data is on the media).
 *
 * The model works with one request at a time (the disk is idle when `service` is called), which is
 * how the I/O domain dispatches; queueing belongs to the scheduling policies.
 *
 * @module
 */

import { HddLayout, type HddZone, newTrackPosition, type TrackPosition } from "./hdd_layout.ts";
import { type HddSeekParams, SeekCurve } from "./hdd_seek.ts";
import { checkRequest, type DiskModel, type DiskRequestShape } from "./model.ts";

/** Controller overheads of an {@linkcode HddParams} (integer ns). */
export interface HddControllerParams {
  /** Command processing of a read served from the cache, before data moves. */
  readHitOverheadNs: number;
  /** Command processing of a read that must go to the media; the seek starts after it. */
  readMissOverheadNs: number;
  /** Command processing of a write; the seek starts after it. */
  writeOverheadNs: number;
  /** Preparing to move data over the bus, at each data phase. */
  dataPrepNs: number;
  /** Sending the completion of a read. */
  readCompletionNs: number;
  /** Sending the completion of a write. */
  writeCompletionNs: number;
  /** Reselecting the host for the first time after a disconnect. */
  firstReselectNs: number;
  /** Reselecting the host again (writes with an extra disconnect). */
  otherReselectNs: number;
  /** Disconnecting after a read command that followed a read. */
  readDisconnectAfterReadNs: number;
  /** Disconnecting after a read command that followed a write. */
  readDisconnectAfterWriteNs: number;
  /** Disconnecting after receiving a write's data. */
  writeDisconnectNs: number;
  /**
   * Whether a write that follows a write non-sequentially suffers an extra disconnect before its
   * data phase (the HP C2247A does; its measured trace labels these writes "Trip").
   */
  extraWriteDisconnect: boolean;
  /** Command processing of such a write. */
  extraCommandNs: number;
  /** Its first disconnect. */
  extraDisconnectNs: number;
  /** Delay between its first disconnect and the reselection for data. */
  extraInterDisconnectNs: number;
  /** Its disconnect after the data phase. */
  extraSecondDisconnectNs: number;
  /** Extra delay before its seek starts. */
  extraSeekDeltaNs: number;
}

/** Cache parameters of an {@linkcode HddParams}. */
export interface HddCacheParams {
  /** Number of segments (at least 1). */
  segments: number;
  /** Blocks per segment. */
  segmentBlocks: number;
  /** Blocks read ahead past the end of a read (0 disables read-ahead). */
  readAheadBlocks: number;
  /** Fraction of a read miss that must be buffered before the drive reconnects (DiskSim's high water mark by request size). */
  readWatermark: number;
  /**
   * Blocks a write must have buffered before its media write may start (capped at the request
   * size) when the request is smaller than `largeWriteBlocks`; 1 means "as soon as its first
   * block is in". DiskSim imposes 10 on drives with extra write disconnects.
   */
  writeStartBlocks: number;
  /** The same for writes of at least `largeWriteBlocks` blocks (DiskSim: 15). */
  writeStartBlocksLarge: number;
  /** The size from which `writeStartBlocksLarge` applies (DiskSim: 45). */
  largeWriteBlocks: number;
}

/** Everything an {@linkcode HddDiskModel} needs (times in integer ns). */
export interface HddParams {
  /** A name for reports. */
  name: string;
  /** Recording surfaces (heads). */
  surfaces: number;
  /** The zones, by increasing cylinder. */
  zones: readonly HddZone[];
  /** Spindle speed in revolutions per minute. */
  rpm: number;
  /** The seek curve, head switch and write settling. */
  seek: HddSeekParams;
  /** The shortest positioning before a write (the arm starts moving at least this long before). */
  minimumWriteSeekNs: number;
  /** Controller overheads. */
  controller: HddControllerParams;
  /** Bus time per block of a read. */
  busReadNsPerBlock: number;
  /** Bus time per block of a write. */
  busWriteNsPerBlock: number;
  /** The cache. */
  cache: HddCacheParams;
}

/**
 * How the last request was served: a read from the cache or from the media, a write, or a write
 * that suffered the extra disconnect.
 */
export type HddServiceKind = "read-hit" | "read-miss" | "write" | "write-extra-disconnect";

const EMPTY = 0;
const CLEAN = 1;
const READING = 2;
const REVOLUTION_EPSILON = 1e-9;

/**
 * A mechanical disk.
 *
 * @example
 * ```ts
 * import { HddDiskModel } from "./hdd.ts";
 * import { HP_C2247A } from "./hp_c2247a.ts";
 * const disk = new HddDiskModel(HP_C2247A);
 * const miss = disk.service({ lba: 564347, blocks: 2, write: false }, 0);
 * const hit = disk.service({ lba: 564349, blocks: 2, write: false }, miss + 5_000_000);
 * console.log(disk.lastServiceKind(), hit < 2_000_000); // "read-hit" true
 * ```
 */
export class HddDiskModel implements DiskModel {
  /** Always `"hdd"`. */
  readonly kind = "hdd" as const;
  /** Addressable blocks. */
  readonly totalBlocks: number;
  /** Physical cylinders. */
  readonly cylinders: number;
  /** The parameters the model was built from. */
  readonly params: HddParams;
  /** The block-to-sector map. */
  readonly layout: HddLayout;
  /** The seek curve. */
  readonly seekCurve: SeekCurve;
  /** One revolution, in (fractional) ns. */
  readonly rotationNs: number;

  readonly #sectorNs: Float64Array;
  readonly #position: TrackPosition = newTrackPosition();
  // Cache segments: [start, end) blocks, state, read-ahead limit, and the LRU order (least first).
  readonly #segStart: Float64Array;
  readonly #segEnd: Float64Array;
  readonly #segState: Uint8Array;
  readonly #segReadAheadLimit: Float64Array;
  readonly #lru: Int32Array;
  // The head.
  #headCylinder = 0;
  #headSurface = 0;
  // The media stream: the one sequential read (a miss, its read-ahead, or a resumed read-ahead).
  #streamActive = false;
  #streamSegment = 0;
  #streamNext = 0;
  #streamLimit = 0;
  #streamSectorStart = 0;
  #streamSectorNs = 0;
  #streamTrackLast = 0;
  #streamMoveEnd = 0;
  // Completion times of the blocks of the request being served (a reused buffer).
  #done = new Float64Array(256);
  #reqFirst = 0;
  #reqEnd = 0;
  #reqDone = 0;
  // History.
  #busyUntil = 0;
  #lastWasRead = false;
  #lastWasWrite = false;
  #lastWriteEnd = -1;
  #lastSeek = 0;
  #moved = 0;
  #lastKind: HddServiceKind = "read-miss";

  /**
   * Builds a drive at rest: head on cylinder 0, surface 0, cache empty.
   *
   * @param params The drive's parameters (see the `HP_C2247A` preset).
   * @throws {RangeError} When the geometry or cache parameters are inconsistent.
   */
  constructor(params: HddParams) {
    if (!(params.rpm > 0)) {
      throw new RangeError(`Disk rpm: expected a positive number, got ${params.rpm}`);
    }
    const cache = params.cache;
    if (!Number.isInteger(cache.segments) || cache.segments < 1) {
      throw new RangeError(
        `Disk cache.segments: expected a positive integer, got ${cache.segments}`,
      );
    }
    if (!Number.isInteger(cache.segmentBlocks) || cache.segmentBlocks < 1) {
      throw new RangeError(
        `Disk cache.segmentBlocks: expected a positive integer, got ${cache.segmentBlocks}`,
      );
    }
    this.params = params;
    this.layout = new HddLayout(params.surfaces, params.zones);
    this.totalBlocks = this.layout.totalBlocks;
    this.cylinders = this.layout.cylinders;
    this.seekCurve = new SeekCurve(params.seek, this.cylinders);
    this.rotationNs = 60e9 / params.rpm;
    this.#sectorNs = Float64Array.from(
      params.zones,
      (zone) => this.rotationNs / zone.blocksPerTrack,
    );
    const n = cache.segments;
    this.#segStart = new Float64Array(n);
    this.#segEnd = new Float64Array(n);
    this.#segState = new Uint8Array(n);
    this.#segReadAheadLimit = new Float64Array(n).fill(-1);
    this.#lru = Int32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * Finds the cylinder of a block through the zoned layout.
   *
   * @param lba A block.
   * @returns Its cylinder.
   */
  cylinderOf(lba: number): number {
    return this.layout.cylinderOf(lba);
  }

  /**
   * Where the head is.
   *
   * @returns The cylinder under the head (where the last access or read-ahead left it).
   */
  headCylinder(): number {
    return this.#headCylinder;
  }

  /**
   * How far the arm moved when the last request positioned it.
   *
   * @returns The arm movement of the last service's first positioning, in cylinders (0 for a
   *   hit on the segment being read ahead).
   */
  lastSeekCylinders(): number {
    return this.#lastSeek;
  }

  /**
   * The arm's total travel, read-ahead and track switches included.
   *
   * @returns Cylinders travelled since the model was built.
   */
  movedCylinders(): number {
    return this.#moved;
  }

  /**
   * Moves the arm to `cylinder` without a request (no command overhead, no transfer): the
   * read-ahead in progress stops, and the arm travels on the seek curve.
   *
   * @param cylinder The target cylinder.
   * @param nowNs The time the command arrives, in ns.
   * @returns The time until the arm is there, in integer ns.
   */
  seekTo(cylinder: number, nowNs: number): number {
    if (!Number.isInteger(cylinder) || cylinder < 0 || cylinder >= this.cylinders) {
      throw new RangeError(
        `Disk seek: expected a cylinder in [0, ${this.cylinders}), got ${cylinder}`,
      );
    }
    const arrival = Math.max(nowNs, this.#busyUntil);
    const armFree = this.#streamStop(arrival);
    this.#lastSeek = Math.abs(cylinder - this.#headCylinder);
    this.#moved += this.#lastSeek;
    this.#headCylinder = cylinder;
    const end = armFree + this.seekCurve.seekNs(this.#lastSeek, false, false);
    const serviceNs = Math.round(end - nowNs);
    this.#busyUntil = nowNs + serviceNs;
    return serviceNs;
  }

  /**
   * How the last request was served, in the spirit of the trace's cache outcome labels.
   *
   * @returns The kind of the last service (`"read-miss"` before any).
   */
  lastServiceKind(): HddServiceKind {
    return this.#lastKind;
  }

  /**
   * The platter angle at a time.
   *
   * @param timeNs Simulated time in ns.
   * @returns Revolutions since the index, in `[0, 1)` (the index passes the head at time 0).
   */
  angleAt(timeNs: number): number {
    return (timeNs % this.rotationNs) / this.rotationNs;
  }

  /**
   * Serves one request; see {@linkcode DiskModel.service}.
   *
   * @param request The request.
   * @param nowNs The arrival time in ns.
   * @returns The service time in integer ns.
   */
  service(request: DiskRequestShape, nowNs: number): number {
    checkRequest(request, this.totalBlocks);
    const arrival = Math.max(nowNs, this.#busyUntil);
    this.#streamAdvanceTo(arrival);
    const end = request.write
      ? this.#serveWrite(request.lba, request.blocks, arrival)
      : this.#serveRead(request.lba, request.blocks, arrival);
    const serviceNs = Math.round(end - nowNs);
    this.#busyUntil = nowNs + serviceNs;
    this.#lastWasRead = !request.write;
    this.#lastWasWrite = request.write;
    if (request.write) this.#lastWriteEnd = request.lba + request.blocks;
    return serviceNs;
  }

  #serveRead(lba: number, blocks: number, arrival: number): number {
    const p = this.params;
    const c = p.controller;
    const reqEnd = lba + blocks;
    const readAheadEnd = Math.min(this.totalBlocks, reqEnd + p.cache.readAheadBlocks);
    this.#beginRequest(lba, blocks);
    // A hit: the first block is in a segment (the fullest one wins; ties go to the least recent).
    let hit = -1;
    let hitValue = 0;
    for (let i = 0; i < this.#lru.length; i++) {
      const s = this.#lru[i]!;
      const state = this.#segState[s]!;
      if (state === EMPTY || lba < this.#segStart[s]! || lba >= this.#segEnd[s]!) continue;
      const value = (state === READING ? 9 : 8) - (this.#segEnd[s]! >= reqEnd ? 0 : 4);
      if (value > hitValue) {
        hit = s;
        hitValue = value;
      }
    }
    let transferStart: number;
    if (hit >= 0) {
      this.#lastKind = "read-hit";
      this.#lastSeek = 0;
      this.#touch(hit);
      this.#reqDone = Math.min(blocks, this.#segEnd[hit]! - lba);
      const limit = Math.max(this.#segReadAheadLimit[hit]!, readAheadEnd);
      this.#segReadAheadLimit[hit] = limit;
      if (this.#streamActive && this.#streamSegment === hit) {
        this.#streamLimit = limit;
      } else {
        // The hit takes over the head: any other read-ahead stops, and this segment's resumes.
        const moveEnd = this.#streamStop(arrival);
        if (this.#segEnd[hit]! < limit) {
          const start = arrival + c.readMissOverheadNs + Math.max(0, moveEnd - arrival);
          this.#streamStart(hit, this.#segEnd[hit]!, limit, start);
        }
      }
      transferStart = arrival + c.readHitOverheadNs + c.dataPrepNs;
    } else {
      this.#lastKind = "read-miss";
      const s = this.#pickSegment(lba, reqEnd, false);
      const moveEnd = this.#streamStop(arrival);
      this.#touch(s);
      this.#segStart[s] = lba;
      this.#segEnd[s] = lba;
      this.#segReadAheadLimit[s] = readAheadEnd;
      const seekStart = arrival + c.readMissOverheadNs + Math.max(0, moveEnd - arrival);
      this.#streamStart(s, lba, readAheadEnd, seekStart);
      const disconnected = arrival + c.readMissOverheadNs +
        (this.#lastWasRead ? c.readDisconnectAfterReadNs : c.readDisconnectAfterWriteNs);
      const watermark = Math.max(
        1,
        Math.floor(Math.min(p.cache.segmentBlocks, blocks) * p.cache.readWatermark),
      );
      const reconnect = Math.max(disconnected, this.#doneTime(Math.min(watermark, blocks) - 1));
      transferStart = reconnect + c.firstReselectNs + c.dataPrepNs;
    }
    // Move the data: each chunk carries what is buffered when it starts; with nothing buffered the
    // drive holds the bus and waits for the next sector.
    const bus = p.busReadNsPerBlock;
    let t = transferStart;
    let sent = 0;
    while (sent < blocks) {
      this.#streamAdvanceTo(t);
      if (this.#reqDone > sent) {
        t += (this.#reqDone - sent) * bus;
        sent = this.#reqDone;
      } else {
        t = this.#doneTime(sent);
      }
    }
    return t + c.readCompletionNs;
  }

  #serveWrite(lba: number, blocks: number, arrival: number): number {
    const p = this.params;
    const c = p.controller;
    const reqEnd = lba + blocks;
    const s = this.#pickSegment(lba, reqEnd, true);
    const moveEnd = this.#streamStop(arrival);
    for (let other = 0; other < this.#segState.length; other++) {
      if (other !== s && this.#overlaps(other, lba, reqEnd)) this.#segState[other] = EMPTY;
    }
    this.#touch(s);
    const extra = c.extraWriteDisconnect && this.#lastWasWrite && lba !== this.#lastWriteEnd;
    this.#lastKind = extra ? "write-extra-disconnect" : "write";
    const seekStart = arrival +
      (extra ? c.extraCommandNs + c.extraSeekDeltaNs : c.writeOverheadNs) +
      Math.max(0, moveEnd - arrival);
    const dataStart = extra
      ? arrival + c.extraCommandNs + c.extraDisconnectNs + c.extraInterDisconnectNs +
        c.firstReselectNs + c.dataPrepNs
      : arrival + c.writeOverheadNs + c.dataPrepNs;
    const bus = p.busWriteNsPerBlock;
    const dataEnd = dataStart + blocks * bus;
    const cache = p.cache;
    const startAfter = blocks < cache.largeWriteBlocks
      ? Math.min(blocks, cache.writeStartBlocks)
      : Math.min(blocks, cache.writeStartBlocksLarge);
    // Position on the first block (the arm takes at least the minimum write positioning time).
    const position = this.layout.locate(lba, this.#position);
    this.#lastSeek = Math.abs(position.cylinder - this.#headCylinder);
    const seek = Math.max(
      p.minimumWriteSeekNs,
      this.seekCurve.seekNs(this.#lastSeek, position.head !== this.#headSurface, true),
    );
    this.#moved += Math.abs(position.cylinder - this.#headCylinder);
    this.#headCylinder = position.cylinder;
    this.#headSurface = position.head;
    let sectorNs = this.#sectorNs[position.zone]!;
    let trackLast = position.trackLastLba;
    let sectorStart = this.#arrive(seekStart + seek, position);
    let written = 0;
    // Each block is written when its sector passes under the head with the data buffered (and,
    // for the first, enough of the request buffered); otherwise the drive waits a revolution.
    for (let block = lba; block < reqEnd; block++) {
      const ready = dataStart + Math.max(written + 1, startAfter) * bus;
      if (sectorStart < ready) {
        sectorStart += Math.ceil((ready - sectorStart) / this.rotationNs) * this.rotationNs;
      }
      const done = sectorStart + sectorNs;
      written++;
      if (block + 1 < reqEnd && block + 1 > trackLast) {
        const next = this.layout.locate(block + 1, this.#position);
        const move = this.seekCurve.seekNs(
          Math.abs(next.cylinder - this.#headCylinder),
          next.head !== this.#headSurface,
          true,
        );
        this.#moved += Math.abs(next.cylinder - this.#headCylinder);
        this.#headCylinder = next.cylinder;
        this.#headSurface = next.head;
        sectorNs = this.#sectorNs[next.zone]!;
        trackLast = next.trackLastLba;
        sectorStart = this.#arrive(done + move, next);
      } else {
        sectorStart = done;
      }
    }
    const mediaEnd = sectorStart;
    const disconnected = dataEnd + (extra ? c.extraSecondDisconnectNs : c.writeDisconnectNs);
    const reconnect = Math.max(mediaEnd, disconnected);
    this.#segStart[s] = Math.max(lba, reqEnd - cache.segmentBlocks);
    this.#segEnd[s] = reqEnd;
    this.#segState[s] = CLEAN;
    this.#segReadAheadLimit[s] = -1;
    return reconnect + (extra ? c.otherReselectNs : c.firstReselectNs) + c.writeCompletionNs;
  }

  // Chooses the segment for a miss or a write: an empty one, else a clean one (for a write, one
  // holding stale copies of its blocks first), else (reads only) the one reading ahead.
  #pickSegment(lba: number, reqEnd: number, write: boolean): number {
    let best = -1;
    let bestValue = 0;
    for (let i = 0; i < this.#lru.length; i++) {
      const s = this.#lru[i]!;
      const state = this.#segState[s]!;
      let value = 0;
      if (state === EMPTY) value = 3;
      else if (state === CLEAN) value = write && this.#overlaps(s, lba, reqEnd) ? 4 : 2;
      else if (!write) value = 1;
      if (value > bestValue) {
        best = s;
        bestValue = value;
      }
    }
    return best >= 0 ? best : this.#streamSegment;
  }

  #overlaps(s: number, lba: number, reqEnd: number): boolean {
    return this.#segState[s] !== EMPTY && lba < this.#segEnd[s]! && reqEnd > this.#segStart[s]!;
  }

  // Marks a segment most recently used.
  #touch(s: number): void {
    const lru = this.#lru;
    // A loop, not indexOf: there are only a few segments, and this runs at every request.
    let i = 0;
    while (i < lru.length - 1 && lru[i] !== s) i++;
    for (; i < lru.length - 1; i++) lru[i] = lru[i + 1]!;
    lru[lru.length - 1] = s;
  }

  #beginRequest(lba: number, blocks: number): void {
    if (this.#done.length < blocks) {
      this.#done = new Float64Array(Math.max(blocks, this.#done.length * 2));
    }
    for (let i = 0; i < blocks; i++) this.#done[i] = Number.NEGATIVE_INFINITY;
    this.#reqFirst = lba;
    this.#reqEnd = lba + blocks;
    this.#reqDone = 0;
  }

  // The time the head reaches the start of a located sector, arriving on its track at `atNs`.
  #arrive(atNs: number, position: TrackPosition): number {
    let gap = this.layout.sectorAngle(position) - this.angleAt(atNs);
    if (gap < 0) gap = gap > -REVOLUTION_EPSILON ? 0 : gap + 1;
    return atNs + gap * this.rotationNs;
  }

  // Starts reading sequentially from `lba` into segment `s`, the seek starting at `seekStart`.
  #streamStart(s: number, lba: number, limit: number, seekStart: number): void {
    const position = this.layout.locate(lba, this.#position);
    this.#lastSeek = Math.abs(position.cylinder - this.#headCylinder);
    const seek = this.seekCurve.seekNs(this.#lastSeek, position.head !== this.#headSurface, false);
    this.#moved += Math.abs(position.cylinder - this.#headCylinder);
    this.#headCylinder = position.cylinder;
    this.#headSurface = position.head;
    this.#segState[s] = READING;
    this.#streamActive = true;
    this.#streamSegment = s;
    this.#streamNext = lba;
    this.#streamLimit = limit;
    this.#streamMoveEnd = seekStart + seek;
    this.#streamSectorNs = this.#sectorNs[position.zone]!;
    this.#streamTrackLast = position.trackLastLba;
    this.#streamSectorStart = this.#arrive(this.#streamMoveEnd, position);
  }

  // Reads one block; returns its completion time.
  #streamStep(): number {
    const done = this.#streamSectorStart + this.#streamSectorNs;
    const s = this.#streamSegment;
    const block = this.#streamNext;
    this.#segEnd[s] = block + 1;
    const wrapped = block + 1 - this.params.cache.segmentBlocks;
    if (this.#segStart[s]! < wrapped) this.#segStart[s] = wrapped;
    if (block >= this.#reqFirst && block < this.#reqEnd) {
      this.#done[block - this.#reqFirst] = done;
      this.#reqDone = block - this.#reqFirst + 1;
    }
    this.#streamNext = block + 1;
    if (this.#streamNext >= this.#streamLimit) {
      this.#streamActive = false;
      this.#segState[s] = CLEAN;
      this.#streamSectorStart = done;
    } else if (this.#streamNext > this.#streamTrackLast) {
      const next = this.layout.locate(this.#streamNext, this.#position);
      const move = this.seekCurve.seekNs(
        Math.abs(next.cylinder - this.#headCylinder),
        next.head !== this.#headSurface,
        false,
      );
      this.#moved += Math.abs(next.cylinder - this.#headCylinder);
      this.#headCylinder = next.cylinder;
      this.#headSurface = next.head;
      this.#streamMoveEnd = done + move;
      this.#streamSectorNs = this.#sectorNs[next.zone]!;
      this.#streamTrackLast = next.trackLastLba;
      this.#streamSectorStart = this.#arrive(this.#streamMoveEnd, next);
    } else {
      this.#streamSectorStart = done;
    }
    return done;
  }

  #streamAdvanceTo(timeNs: number): void {
    while (this.#streamActive && this.#streamSectorStart + this.#streamSectorNs <= timeNs) {
      this.#streamSkim(timeNs, Infinity);
      if (this.#streamSectorStart + this.#streamSectorNs <= timeNs) this.#streamStep();
    }
  }

  // Reads the blocks that end by `timeNs`, before block `end`, that need nothing but the clock
  // (and, for the request's own blocks, a note of when): all but a track's last block and the
  // stream's last, which go through `#streamStep` to move the head on or stop. They are most of
  // the blocks a read covers; for them this is `#streamStep` with the bookkeeping done once. The
  // same additions in the same order, so the times are the same to the last bit.
  #streamSkim(timeNs: number, end: number): void {
    const ns = this.#streamSectorNs, first = this.#streamNext;
    const stop = Math.min(this.#streamTrackLast, this.#streamLimit - 1, end);
    const reqFirst = this.#reqFirst, reqEnd = this.#reqEnd, done = this.#done;
    let block = first, start = this.#streamSectorStart;
    while (block < stop && start + ns <= timeNs) {
      start += ns;
      if (block >= reqFirst && block < reqEnd) {
        done[block - reqFirst] = start;
        this.#reqDone = block - reqFirst + 1;
      }
      block++;
    }
    if (block === first) return;
    const s = this.#streamSegment;
    this.#segEnd[s] = block;
    const wrapped = block - this.params.cache.segmentBlocks;
    if (this.#segStart[s]! < wrapped) this.#segStart[s] = wrapped;
    this.#streamNext = block;
    this.#streamSectorStart = start;
  }

  // Stops the stream at `timeNs`; returns when the arm is free (later if it was mid-seek, which a
  // seek cannot abandon).
  #streamStop(timeNs: number): number {
    this.#streamAdvanceTo(timeNs);
    if (!this.#streamActive) return timeNs;
    this.#streamActive = false;
    this.#segState[this.#streamSegment] = CLEAN;
    return this.#streamMoveEnd > timeNs ? this.#streamMoveEnd : timeNs;
  }

  // The completion time of the request's block `index`, reading on as needed.
  #doneTime(index: number): number {
    while (this.#reqDone <= index) {
      if (!this.#streamActive) {
        throw new Error(
          `Disk model: block ${this.#reqFirst + index} is never read (internal error)`,
        );
      }
      this.#streamSkim(Infinity, this.#reqFirst + index + 1);
      if (this.#reqDone <= index) this.#streamStep();
    }
    return this.#done[index]!;
  }
}
