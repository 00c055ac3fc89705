/**
 * "Did you mean" for names a user mistyped: the closest known name by edit distance, when it is
 * close enough to be the likely intent (`crdit` → `credit`, `perod` → `period`).
 *
 * @example
 * ```ts
 * import { closest, didYouMean } from "./suggest.ts";
 *
 * console.assert(closest("crdit", ["rr", "credit", "credit2"]) === "credit");
 * console.assert(closest("zzz", ["rr", "credit"]) === undefined);
 * console.assert(didYouMean("perod", ["period", "budget"]) === ' (did you mean "period"?)');
 * ```
 *
 * @module
 */

/** The edit distance (insertions, deletions, substitutions, adjacent swaps) of two strings. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1, cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[rows - 1]![cols - 1]!;
}

/**
 * The known name closest to `name`, if one is within a third of its length (at least 1, at most
 * 3 edits) and no other is as close; case is ignored.
 */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  let best: string | undefined, bestDistance = Infinity, tie = false;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance, tie] = [candidate, distance, false];
    else if (distance === bestDistance && candidate !== best) tie = true;
  }
  return bestDistance <= limit && !tie ? best : undefined;
}

/** ` (did you mean "x"?)` when a known name is close to `name`, else an empty string. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const match = closest(name, known);
  return match === undefined ? "" : ` (did you mean "${match}"?)`;
}
