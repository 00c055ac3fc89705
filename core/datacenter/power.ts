/**
 * Host power from a SPECpower-style table: watts measured at 0, 10, …, 100 % CPU, interpolated
 * linearly in between, computed in the same order of operations as CloudSim's
 * `PowerModelSpecPower`, so that energies agree with it to the last bit.
 *
 * @module
 */

/**
 * The power in watts at utilisation `u` (0..1) of a host whose table is `table` (11 values).
 * Values outside 0..1 are clamped.
 *
 * @example
 * ```ts
 * import { powerAt } from "./power.ts";
 * const g4 = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117];
 * console.assert(powerAt(g4, 0) === 86 && powerAt(g4, 1) === 117);
 * console.assert(Math.abs(powerAt(g4, 0.05) - 87.7) < 1e-9);
 * ```
 */
export function powerAt(table: ArrayLike<number>, u: number): number {
  const utilization = u < 0 ? 0 : u > 1 ? 1 : u;
  // CloudSim tests `utilization % 0.1 == 0`. In 0..1 exactly five doubles pass it: 0 and 0.1 times
  // 1, 2, 4 and 8 (only a power of two times 0.1 is a double). Comparing is much cheaper than fmod.
  if (
    utilization === 0 || utilization === 0.1 || utilization === 0.2 || utilization === 0.4 ||
    utilization === 0.8
  ) return table[Math.trunc(utilization * 10)]!;
  const low = Math.floor(utilization * 10), high = Math.ceil(utilization * 10);
  const power1 = table[low]!, power2 = table[high]!;
  const delta = (power2 - power1) / 10;
  return power1 + delta * (utilization - low / 10) * 100;
}
