/**
 * Seek time of a disk arm as a function of distance: DiskSim's `hplplus10` curve.
 *
 * Ruemmler and Wilkes' HPL equation (IEEE Computer, March 1994) gives the seek time of a distance
 * `d` as `base + factor * sqrt(d)` below a boundary and `base' + factor' * d` above it; DiskSim
 * extends it with an explicit table for distances 1 to 10, where real curves are choppy. A head
 * switch costs at least `headSwitchNs`, and a positioning that moves the arm or switches heads
 * before a write costs `writeSettleNs` more.
 *
 * @module
 */

/** The parameters of a seek curve (times in integer ns). */
export interface HddSeekParams {
  /** Seek times of distances 1, 2, ... (DiskSim's "first ten seek times"); may be empty. */
  firstSeeksNs: readonly number[];
  /** Distances below this use the square-root part of the HPL equation (HPL value 1). */
  hplBoundary: number;
  /** Constant of the square-root part (HPL value 2). */
  hplSqrtBaseNs: number;
  /** Factor of `sqrt(distance)` (HPL value 3). */
  hplSqrtFactorNs: number;
  /** Constant of the linear part (HPL value 4). */
  hplLinearBaseNs: number;
  /** Factor of the distance in the linear part (HPL value 5). */
  hplLinearFactorNs: number;
  /** Head switch time; a positioning that changes heads takes at least this. */
  headSwitchNs: number;
  /** Extra settling before writing after any non-zero positioning. */
  writeSettleNs: number;
}

/**
 * A seek curve tabulated over every distance of a disk (one array read per seek).
 *
 * @example
 * ```ts
 * import { SeekCurve } from "./hdd_seek.ts";
 * const curve = new SeekCurve({
 *   firstSeeksNs: [2_890_000], hplBoundary: 300, hplSqrtBaseNs: 3_810_000,
 *   hplSqrtFactorNs: 330_000, hplLinearBaseNs: 7_750_000, hplLinearFactorNs: 5_900,
 *   headSwitchNs: 890_000, writeSettleNs: 650_000,
 * }, 2051);
 * console.log(curve.seekNs(1, false, false)); // 2890000
 * console.log(curve.seekNs(0, true, true)); // 1540000 (head switch, then write settle)
 * ```
 */
export class SeekCurve {
  /** The parameters the curve was built from. */
  readonly params: HddSeekParams;
  readonly #table: Float64Array;

  /**
   * Tabulates the curve.
   *
   * @param params The curve's parameters.
   * @param cylinders The number of cylinders (distances `0 .. cylinders - 1` are tabulated).
   */
  constructor(params: HddSeekParams, cylinders: number) {
    this.params = params;
    this.#table = new Float64Array(Math.max(1, cylinders));
    for (let distance = 1; distance < cylinders; distance++) {
      this.#table[distance] = SeekCurve.armNs(params, distance);
    }
  }

  /**
   * The arm movement time alone, from the parameters (no head switch, no settling).
   *
   * @param params The curve's parameters.
   * @param distance Cylinders to travel, at least 1.
   * @returns Integer ns.
   */
  static armNs(params: HddSeekParams, distance: number): number {
    if (distance <= 0) return 0;
    if (distance <= params.firstSeeksNs.length) return params.firstSeeksNs[distance - 1]!;
    if (distance < params.hplBoundary) {
      return Math.round(params.hplSqrtBaseNs + params.hplSqrtFactorNs * Math.sqrt(distance));
    }
    return Math.round(params.hplLinearBaseNs + params.hplLinearFactorNs * distance);
  }

  /**
   * The positioning time.
   *
   * @param distance Cylinders to travel.
   * @param headChange Whether the target surface differs from the current one.
   * @param write Whether a write follows (adds the settling time if anything moved).
   * @returns Integer ns.
   */
  seekNs(distance: number, headChange: boolean, write: boolean): number {
    let ns = distance > 0 ? this.#table[distance]! : 0;
    if (headChange && ns < this.params.headSwitchNs) ns = this.params.headSwitchNs;
    if (write && ns > 0) ns += this.params.writeSettleNs;
    return ns;
  }
}
