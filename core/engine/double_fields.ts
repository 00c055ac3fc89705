/**
 * Number fields that hold times in ns start small and pass 2^30 (V8's small integers, with
 * pointer compression) about a second into a run, as do fields copied from a `Float64Array`. V8
 * gives a field the representation of its first value: one that starts as a small integer changes
 * to a double mid-run, which deprecates its objects' shape and throws away every function compiled
 * against it, the kernel's whole loop (all inlined) among them, and aborts its compilations in
 * flight. A field first given a fractional value is a double from the start: classes initialize
 * such fields with {@linkcode DOUBLE}, then set them to their real first value in the constructor
 * (which also makes them mutable fields from the start, another change that deoptimizes).
 *
 * @module
 */

/**
 * The first value of a number field that must be a double from the start; overwrite it in the
 * constructor.
 *
 * @example
 * ```ts
 * import { DOUBLE } from "./double_fields.ts";
 *
 * class Clock {
 *   now = DOUBLE;
 *   constructor() {
 *     this.now = 0;
 *   }
 * }
 * console.assert(new Clock().now === 0);
 * ```
 */
export const DOUBLE = 0.5;
