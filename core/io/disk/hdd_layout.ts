/**
 * Zoned recording geometry of a hard disk: where a logical block lies (cylinder, surface, sector)
 * and at which angle of the platter its sector starts.
 *
 * The mapping is DiskSim's `layout_g1` with LBN-to-PBN scheme 0 (cylinders filled surface by
 * surface) and sparing scheme 1 (spare tracks at the end of each zone; a slipped defective track is
 * skipped and every later track of the zone moves up by one). Skews follow DiskSim too: the first
 * logical sector of the track at surface `h` of zone-relative cylinder `c` starts
 * `firstBlockOffset + (h + (surfaces - 1) * c) * trackSkew + c * cylinderSkew` sectors after the
 * index (so a track switch inside a cylinder adds a track skew, and a cylinder switch a cylinder
 * skew instead).
 *
 * @module
 */

/** One recording zone (a band of cylinders with the same number of sectors per track). */
export interface HddZone {
  /** First physical cylinder of the zone. */
  firstCylinder: number;
  /** Last physical cylinder of the zone (inclusive). */
  lastCylinder: number;
  /** Physical sectors (blocks) per track. */
  blocksPerTrack: number;
  /** Angular offset, in sectors, of the zone's first logical block from the index. */
  firstBlockOffset: number;
  /** Blocks at the front of the zone reserved by the drive (not addressable). */
  frontDeadBlocks: number;
  /** Skew, in sectors, between consecutive tracks of one cylinder. */
  trackSkew: number;
  /** Skew, in sectors, across a cylinder boundary. */
  cylinderSkew: number;
  /** Spare tracks at the end of the zone (slipped tracks are taken from them). */
  spareTracks: number;
  /** Zone-relative physical track numbers skipped as defective, ascending. */
  slippedTracks: readonly number[];
}

/**
 * A block's physical position; {@linkcode HddLayout.locate} fills one in place (no allocation).
 */
export interface TrackPosition {
  /** Index of the zone. */
  zone: number;
  /** Physical cylinder. */
  cylinder: number;
  /** Surface (head). */
  head: number;
  /** Physical sector within the track. */
  sector: number;
  /** First logical block stored on this track. */
  trackFirstLba: number;
  /** Last logical block stored on this track (inclusive). */
  trackLastLba: number;
}

/**
 * Makes a position record to reuse with {@linkcode HddLayout.locate}.
 *
 * @returns A zeroed {@linkcode TrackPosition}.
 *
 * @example
 * ```ts
 * import { newTrackPosition } from "./hdd_layout.ts";
 * const position = newTrackPosition();
 * console.log(position.cylinder); // 0
 * ```
 */
export function newTrackPosition(): TrackPosition {
  return { zone: 0, cylinder: 0, head: 0, sector: 0, trackFirstLba: 0, trackLastLba: 0 };
}

/**
 * The block-to-sector map of a zoned disk.
 *
 * @example
 * ```ts
 * import { HddLayout, newTrackPosition } from "./hdd_layout.ts";
 * const layout = new HddLayout(2, [{
 *   firstCylinder: 0, lastCylinder: 9, blocksPerTrack: 10, firstBlockOffset: 0,
 *   frontDeadBlocks: 0, trackSkew: 2, cylinderSkew: 3, spareTracks: 0, slippedTracks: [],
 * }]);
 * const p = newTrackPosition();
 * layout.locate(25, p);
 * console.log(layout.totalBlocks, p.cylinder, p.head, p.sector); // 200 1 0 5
 * ```
 */
export class HddLayout {
  /** Recording surfaces (heads). */
  readonly surfaces: number;
  /** Physical cylinders. */
  readonly cylinders: number;
  /** Addressable blocks. */
  readonly totalBlocks: number;
  /** The zones, by increasing cylinder. */
  readonly zones: readonly HddZone[];
  readonly #zoneFirstLba: Float64Array;
  readonly #zoneBlocks: Float64Array;
  readonly #zoneOfCylinder: Uint16Array;

  /**
   * Builds the map and checks that the zones fit together.
   *
   * @param surfaces Number of recording surfaces.
   * @param zones The zones, contiguous and covering cylinders `0 .. last`.
   * @throws {RangeError} When the zones are inconsistent.
   */
  constructor(surfaces: number, zones: readonly HddZone[]) {
    if (!Number.isInteger(surfaces) || surfaces < 1) {
      throw new RangeError(`Disk surfaces: expected a positive integer, got ${surfaces}`);
    }
    if (zones.length === 0) throw new RangeError("Disk zones: expected at least one zone");
    this.surfaces = surfaces;
    this.zones = zones;
    this.#zoneFirstLba = new Float64Array(zones.length);
    this.#zoneBlocks = new Float64Array(zones.length);
    let nextCylinder = 0;
    let lba = 0;
    zones.forEach((zone, i) => {
      const where = `Disk zones[${i}]`;
      if (zone.firstCylinder !== nextCylinder || zone.lastCylinder < zone.firstCylinder) {
        throw new RangeError(
          `${where}: expected cylinders from ${nextCylinder}, got ${zone.firstCylinder}..${zone.lastCylinder}`,
        );
      }
      if (!Number.isInteger(zone.blocksPerTrack) || zone.blocksPerTrack < 1) {
        throw new RangeError(`${where}.blocksPerTrack: expected a positive integer`);
      }
      const tracks = (zone.lastCylinder - zone.firstCylinder + 1) * surfaces;
      if (zone.slippedTracks.length > zone.spareTracks) {
        throw new RangeError(`${where}: more slipped tracks than spare tracks`);
      }
      for (let s = 1; s < zone.slippedTracks.length; s++) {
        if (zone.slippedTracks[s]! <= zone.slippedTracks[s - 1]!) {
          throw new RangeError(`${where}.slippedTracks: expected increasing track numbers`);
        }
      }
      const blocks = (tracks - zone.spareTracks) * zone.blocksPerTrack - zone.frontDeadBlocks;
      if (blocks <= 0) throw new RangeError(`${where}: no addressable blocks`);
      this.#zoneFirstLba[i] = lba;
      this.#zoneBlocks[i] = blocks;
      lba += blocks;
      nextCylinder = zone.lastCylinder + 1;
    });
    this.cylinders = nextCylinder;
    this.totalBlocks = lba;
    this.#zoneOfCylinder = new Uint16Array(nextCylinder);
    zones.forEach((zone, i) =>
      this.#zoneOfCylinder.fill(i, zone.firstCylinder, zone.lastCylinder + 1)
    );
  }

  /**
   * Finds the zone of a cylinder.
   *
   * @param cylinder A physical cylinder.
   * @returns The index of the zone holding it.
   */
  zoneOfCylinder(cylinder: number): number {
    return this.#zoneOfCylinder[cylinder]!;
  }

  /**
   * Finds the zone of a block.
   *
   * @param lba A block in `[0, totalBlocks)`.
   * @returns The index of the zone holding it.
   */
  zoneOfLba(lba: number): number {
    const firsts = this.#zoneFirstLba;
    let zone = firsts.length - 1;
    while (zone > 0 && firsts[zone]! > lba) zone--;
    return zone;
  }

  /**
   * Finds where a block lies.
   *
   * @param lba A block in `[0, totalBlocks)`.
   * @param out Receives the position (see {@linkcode newTrackPosition}).
   * @returns `out`.
   */
  locate(lba: number, out: TrackPosition): TrackPosition {
    const zoneIndex = this.zoneOfLba(lba);
    const zone = this.zones[zoneIndex]!;
    const zoneFirst = this.#zoneFirstLba[zoneIndex]!;
    const perTrack = zone.blocksPerTrack;
    const relative = lba - zoneFirst + zone.frontDeadBlocks;
    const logicalTrack = Math.floor(relative / perTrack);
    let physicalTrack = logicalTrack;
    const slips = zone.slippedTracks;
    for (let i = 0; i < slips.length && slips[i]! <= physicalTrack; i++) physicalTrack++;
    out.zone = zoneIndex;
    out.cylinder = zone.firstCylinder + Math.floor(physicalTrack / this.surfaces);
    out.head = physicalTrack % this.surfaces;
    out.sector = relative - logicalTrack * perTrack;
    const trackStart = zoneFirst + logicalTrack * perTrack - zone.frontDeadBlocks;
    out.trackFirstLba = Math.max(zoneFirst, trackStart);
    out.trackLastLba = Math.min(
      zoneFirst + this.#zoneBlocks[zoneIndex]! - 1,
      trackStart + perTrack - 1,
    );
    return out;
  }

  /**
   * Finds the cylinder of a block (a cheaper {@linkcode locate}).
   *
   * @param lba A block in `[0, totalBlocks)`.
   * @returns The cylinder holding it.
   */
  cylinderOf(lba: number): number {
    const zoneIndex = this.zoneOfLba(lba);
    const zone = this.zones[zoneIndex]!;
    const relative = lba - this.#zoneFirstLba[zoneIndex]! + zone.frontDeadBlocks;
    let physicalTrack = Math.floor(relative / zone.blocksPerTrack);
    const slips = zone.slippedTracks;
    for (let i = 0; i < slips.length && slips[i]! <= physicalTrack; i++) physicalTrack++;
    return zone.firstCylinder + Math.floor(physicalTrack / this.surfaces);
  }

  /**
   * The angle at which a physical sector starts.
   *
   * @param position A position filled by {@linkcode locate} (its zone, cylinder, head, sector).
   * @returns The angle in revolutions, in `[0, 1)`, measured from the index.
   */
  sectorAngle(position: TrackPosition): number {
    const zone = this.zones[position.zone]!;
    const perTrack = zone.blocksPerTrack;
    const cylinder = position.cylinder - zone.firstCylinder;
    const skewed = zone.firstBlockOffset +
      (position.head + (this.surfaces - 1) * cylinder) * zone.trackSkew +
      cylinder * zone.cylinderSkew + position.sector;
    return (skewed % perTrack) / perTrack;
  }
}
