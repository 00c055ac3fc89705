// What the whole-process benches share: the median of their rounds and the CPU time of the
// processes they spawn.

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * CPU time (user and system) of this process's waited-for children so far, in ms (Linux: /proc,
 * in ticks of 10 ms), or NaN elsewhere. Children run one at a time in the benches, so a difference
 * is one child's, its own children's included.
 */
export function childrenCpuMs(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}
