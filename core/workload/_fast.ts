/**
 * A fast path for the bulk of large workloads, private to this folder: explicit CPU programs of
 * `run` and `sleep` steps. zod checks each step as an object of its own (some microseconds
 * apiece, many more while its code is cold), and a scale workload holds tens of thousands of
 * steps. Here a program whose every step is `{ "run": "<duration above zero>" }` or
 * `{ "sleep": "<duration>" }` is parsed directly, each distinct duration text once; zod is then
 * given one of the program's own steps in its place, chosen so that every check zod makes of the
 * program gives the same answer. Any other program (an `io` step, a number, an extra key, a bad
 * duration) is left to zod whole, so its errors name the same path with the same words.
 *
 * @module
 */

import { parseDuration } from "../engine/duration.ts";
import type { ProgramStep } from "./types.ts";

/** Programs parsed here, by VM index, and the input zod checks in their stead. */
export interface FastPrograms {
  /** The input with each program parsed here replaced by a one-step stand-in (a copy). */
  input: unknown;
  /** The parsed programs, by VM index. */
  programs: Map<number, ProgramStep[]>;
}

/**
 * Steps parsed so far, by their duration text, shared by a workload's programs: a large workload
 * repeats a few durations thousands of times, and one step object each (steps are never changed
 * once built) is fewer objects to make and for the garbage collector to copy.
 */
export interface StepCache {
  /** `{ run }` steps by their text. */
  runs: Map<string, ProgramStep>;
  /** `{ sleep }` steps by their text. */
  sleeps: Map<string, ProgramStep>;
}

/** An empty {@linkcode StepCache}. */
export function stepCache(): StepCache {
  return { runs: new Map(), sleeps: new Map() };
}

/** Below this many steps in all, zod is quick enough: the input is left as it is. */
const MIN_STEPS = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Parses the explicit programs it can, or returns undefined when there are too few steps to
 * matter (or none it can take). Never throws: what it cannot take, zod checks.
 */
export function fastPrograms(value: unknown): FastPrograms | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.vms)) return undefined;
  const vms = value.vms as unknown[];
  let steps = 0;
  for (const vm of vms) {
    if (!isPlainObject(vm) || !isPlainObject(vm.cpu)) continue;
    if (Array.isArray(vm.cpu.program)) steps += vm.cpu.program.length;
  }
  if (steps < MIN_STEPS) return undefined;
  const cache = stepCache();
  const programs = new Map<number, ProgramStep[]>();
  let copy: unknown[] | undefined;
  for (let v = 0; v < vms.length; v++) {
    const vm = vms[v];
    if (!isPlainObject(vm) || !isPlainObject(vm.cpu) || !Array.isArray(vm.cpu.program)) continue;
    const parsed = parseProgram(vm.cpu.program, cache);
    if (parsed === undefined) continue;
    programs.set(v, parsed.program);
    copy ??= vms.slice();
    copy[v] = { ...vm, cpu: { ...vm.cpu, program: [parsed.standIn] } };
  }
  if (copy === undefined) return undefined;
  return { input: { ...value, vms: copy }, programs };
}

/**
 * A program of `run` and `sleep` steps, parsed, and the step zod sees in its place: the first
 * that is not a zero-length sleep (zod refuses to repeat a program of only those), or the first.
 * Undefined for anything else (the schema then says what is wrong).
 *
 * @param program The program's steps as read.
 * @param cache Steps parsed so far, by their text (shared across a workload's VMs).
 * @returns The steps in ns and the stand-in step, or undefined.
 */
export function parseProgram(
  program: unknown[],
  cache: StepCache,
): { program: ProgramStep[]; standIn: unknown } | undefined {
  if (program.length === 0) return undefined;
  const out: ProgramStep[] = new Array(program.length);
  let standIn: unknown;
  for (let i = 0; i < program.length; i++) {
    const step = program[i];
    if (!isPlainObject(step)) return undefined;
    // One key, `run` or `sleep`, holding a string (a for-in count is the cheapest on cold code).
    let keys = 0;
    for (const _ in step) keys++;
    const run = step.run;
    const text = run === undefined ? step.sleep : run;
    if (keys !== 1 || typeof text !== "string") return undefined;
    const steps = run === undefined ? cache.sleeps : cache.runs;
    let parsed = steps.get(text);
    if (parsed === undefined) {
      const ns = parseDuration(text);
      if (ns === undefined || (run !== undefined && !(ns > 0))) return undefined;
      parsed = run === undefined ? { sleep: ns } : { run: ns };
      steps.set(text, parsed);
    }
    out[i] = parsed;
    if (run !== undefined || parsed.sleep !== 0) standIn ??= step;
  }
  return { program: out, standIn: standIn ?? program[0] };
}
