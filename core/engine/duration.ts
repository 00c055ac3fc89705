/**
 * Durations as users write them ("24ms", "500us", "2s") and as the kernel keeps them (integer ns).
 *
 * @module
 */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1_000,
  "µs": 1_000,
  ms: 1_000_000,
  s: 1_000_000_000,
  m: 60_000_000_000,
  h: 3_600_000_000_000,
};

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*$/;

/**
 * Parses a duration string into integer nanoseconds, or returns `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * console.assert(parseDuration("24ms") === 24_000_000);
 * console.assert(parseDuration("1.5us") === 1_500);
 * console.assert(parseDuration(5) === undefined);
 * ```
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  const ns = Math.round(Number(match[1]) * UNIT_NS[match[2]!]!);
  return Number.isSafeInteger(ns) ? ns : undefined;
}

/**
 * Formats nanoseconds for people: the largest unit that keeps the number readable.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * console.assert(formatDuration(24_000_000) === "24ms");
 * ```
 */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const abs = Math.abs(ns);
  const [unit, size] = abs >= 1e9
    ? ["s", 1e9]
    : abs >= 1e6
    ? ["ms", 1e6]
    : abs >= 1e3
    ? ["us", 1e3]
    : ["ns", 1];
  const value = ns / size;
  return `${Number.isInteger(value) ? value : Number(value.toFixed(3))}${unit}`;
}
