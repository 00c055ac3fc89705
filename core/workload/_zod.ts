/**
 * Pieces the workload schemas share (private to this folder): durations and how values are shown
 * in error messages.
 *
 * @module
 */

import { z } from "zod";
import { parseDuration } from "../engine/duration.ts";

/** A value as an error message shows it: JSON, cut at 60 characters. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A duration string, parsed to integer nanoseconds. */
export const duration: z.ZodType<number, unknown> = z.unknown().transform((value, ctx) => {
  const ns = parseDuration(value);
  if (ns === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as "5ms", got ${show(value)}`,
    });
    return z.NEVER;
  }
  return ns;
});

/** A duration above zero. */
export const positiveDuration: z.ZodType<number, unknown> = duration.refine(
  (ns) => ns > 0,
  "expected a duration above zero",
);
