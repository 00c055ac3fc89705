/**
 * A quick path for the common workload, without zod: a workload of CPU programs alone (explicit
 * `run` and `sleep` steps, or CPU-bound VMs), with no memory, disks, I/O, traces, generators or
 * timeline, is checked and built here into the same {@linkcode Workload} the schema gives (its
 * defaults, its key order). zod and the schemas cost the CLI more to load than a textbook run takes;
 * they are loaded only for what this path does not take.
 *
 * It never reports a problem: anything it does not take as valid (an unknown key, a value out of
 * range, a shape it does not handle) returns undefined, and the caller validates with the schema
 * (`parseWorkload`), whose message then names the problem as always. So the errors are the
 * schema's, word for word; a test checks that this path and the schema agree on every example.
 *
 * @example
 * ```ts
 * import { quickWorkload } from "./quick.ts";
 *
 * const workload = quickWorkload({
 *   schema: "hyperhook.workload/v1", name: "one", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
 * });
 * console.assert(workload?.vms[0]!.cpu!.program![0]!.run === 5_000_000);
 * console.assert(quickWorkload({ schema: "hyperhook.workload/v1", host: { pcpus: 0 } }) === undefined);
 * ```
 *
 * @module
 */

import { parseDuration } from "../engine/duration.ts";
import { MAX_WORKLOAD_BYTES, readTraceText } from "./trace_file.ts";
import { parseProgram } from "./_fast.ts";
import { CPU_COUNT, HOST_CPU_DEFAULTS, VM_DEFAULTS, VM_WEIGHT } from "./defaults.ts";
import type { CpuWorkload, VmWorkload, Workload, WorkloadPolicy } from "./types.ts";

type Json = Record<string, unknown>;

const WORKLOAD_SCHEMA = "hyperhook.workload/v1";
const TOP_KEYS = new Set([
  "schema",
  "name",
  "description",
  "seed",
  "host",
  "policies",
  "stopAt",
  "vms",
]);
const VM_KEYS = new Set(["id", "vcpus", "weight", "cap", "priority", "sched", "cpu"]);
const CPU_KEYS = new Set(["arrive", "program", "repeat"]);
const POLICY_DOMAINS = ["cpu", "memory", "io"] as const;
const VM_ID = /^[A-Za-z0-9_.:-]+$/;

function isPlainObject(value: unknown): value is Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether every own key of `value` is in `keys`. */
function keysWithin(value: Json, keys: Set<string>): boolean {
  for (const key in value) if (!keys.has(key)) return false;
  return true;
}

/** A safe integer in [min, max], or undefined; `fallback` when the value is absent. */
function integer(value: unknown, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
    ? value as number
    : undefined;
}

/** A copy of a plain object of any values (`z.record(z.string(), z.unknown())`), or undefined. */
function record(value: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value) || Object.hasOwn(value, "__proto__")) return undefined;
  return { ...value };
}

/**
 * The workload, validated and built as `parseWorkload` builds it, when it is of the shape this
 * path takes and valid; else undefined (then `parseWorkload` says what is wrong).
 *
 * @param value The parsed JSON.
 * @returns The workload (durations in ns, defaults filled), or undefined.
 */
export function quickWorkload(value: unknown): Workload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, TOP_KEYS)) return undefined;
  if (value.schema !== WORKLOAD_SCHEMA) return undefined;
  const { name, description } = value;
  if (typeof name !== "string" || name.length === 0) return undefined;
  if (description !== undefined && typeof description !== "string") return undefined;
  const seed = integer(value.seed, 0, Number.MAX_SAFE_INTEGER, 1);
  if (seed === undefined) return undefined;
  const host = value.host;
  if (!isPlainObject(host) || !keysWithin(host, new Set(["pcpus"]))) return undefined;
  const pcpus = integer(host.pcpus, CPU_COUNT.min, CPU_COUNT.max);
  if (pcpus === undefined) return undefined;
  const policies = quickPolicies(value.policies);
  if (policies === undefined) return undefined;
  let stopAt: number | undefined;
  if (value.stopAt !== undefined) {
    stopAt = parseDuration(value.stopAt);
    if (stopAt === undefined || !(stopAt > 0)) return undefined;
  }
  if (!Array.isArray(value.vms) || value.vms.length === 0) return undefined;
  const durations = new Map<string, number>();
  const ids = new Set<string>();
  const vms: VmWorkload[] = new Array(value.vms.length);
  for (let i = 0; i < value.vms.length; i++) {
    const vm = quickVm(value.vms[i], durations);
    if (vm === undefined || ids.has(vm.id)) return undefined;
    ids.add(vm.id);
    vms[i] = vm;
  }
  // The schema's key order: defaults where they are declared, optional keys only when given.
  const workload: Record<string, unknown> = { schema: WORKLOAD_SCHEMA, name };
  if (description !== undefined) workload.description = description;
  workload.seed = seed;
  workload.host = { pcpus, cpu: { ...HOST_CPU_DEFAULTS } };
  workload.policies = policies;
  if (stopAt !== undefined) workload.stopAt = stopAt;
  workload.timeline = [];
  workload.vms = vms;
  return workload as unknown as Workload;
}

/** `policies`: objects `{ use, config? }` per domain (config default `{}`). */
function quickPolicies(value: unknown): Workload["policies"] | undefined {
  if (value === undefined) return {};
  if (!isPlainObject(value) || !keysWithin(value, new Set(POLICY_DOMAINS))) return undefined;
  const policies: Partial<Record<(typeof POLICY_DOMAINS)[number], WorkloadPolicy>> = {};
  for (const domain of POLICY_DOMAINS) {
    const choice = value[domain];
    if (choice === undefined) continue;
    if (!isPlainObject(choice) || !keysWithin(choice, new Set(["use", "config"]))) return undefined;
    if (typeof choice.use !== "string" || choice.use.length === 0) return undefined;
    const config = choice.config === undefined ? {} : record(choice.config);
    if (config === undefined) return undefined;
    policies[domain] = { use: choice.use, config };
  }
  return policies;
}

function quickVm(value: unknown, durations: Map<string, number>): VmWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, VM_KEYS)) return undefined;
  const id = value.id;
  if (typeof id !== "string" || !VM_ID.test(id)) return undefined;
  const vcpus = integer(value.vcpus, CPU_COUNT.min, CPU_COUNT.max, VM_DEFAULTS.vcpus);
  const weight = integer(value.weight, VM_WEIGHT.min, VM_WEIGHT.max, VM_DEFAULTS.weight);
  const cap = integer(value.cap, 0, Number.MAX_SAFE_INTEGER, VM_DEFAULTS.cap);
  const priority = integer(
    value.priority,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    VM_DEFAULTS.priority,
  );
  const sched = value.sched === undefined ? {} : record(value.sched);
  if (
    vcpus === undefined || weight === undefined || cap === undefined || priority === undefined ||
    sched === undefined
  ) return undefined;
  const vm: VmWorkload = { id, vcpus, weight, cap, priority, sched };
  if (value.cpu !== undefined) {
    const cpu = quickCpu(value.cpu, durations);
    if (cpu === undefined) return undefined;
    vm.cpu = cpu;
  }
  return vm;
}

/** A VM's `cpu`: an arrival and an explicit program (optionally repeated), or CPU-bound. */
function quickCpu(value: unknown, durations: Map<string, number>): CpuWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, CPU_KEYS)) return undefined;
  const arrive = value.arrive === undefined ? 0 : parseDuration(value.arrive);
  if (arrive === undefined) return undefined;
  const cpu: CpuWorkload = { arrive };
  const { program, repeat } = value;
  if (program === undefined) return repeat === undefined ? cpu : undefined;
  if (!Array.isArray(program) || program.length === 0) return undefined;
  const parsed = parseProgram(program, durations);
  if (parsed === undefined) return undefined;
  const steps = parsed.program;
  // Whether a step takes time: a repeated program of none is refused (below), as the schema does.
  const takesTime = steps.some((step) => "run" in step || step.sleep !== 0);
  cpu.program = steps;
  if (repeat !== undefined) {
    if (
      repeat !== true && repeat !== false &&
      integer(repeat, 1, Number.MAX_SAFE_INTEGER) === undefined
    ) {
      return undefined;
    }
    // Repeating steps that take no time is refused by the schema.
    if ((repeat === true || (typeof repeat === "number" && repeat > 1)) && !takesTime) {
      return undefined;
    }
    cpu.repeat = repeat as boolean | number;
  }
  return cpu;
}

/**
 * A workload file's JSON when it can be read and parsed as `readWorkloadJson` reads it (a regular
 * file of bounded size); else undefined, and `readWorkloadJson` gives the error.
 *
 * @param path The workload file.
 * @returns The parsed JSON, or undefined.
 */
export function quickWorkloadJson(path: string): unknown {
  try {
    return JSON.parse(readTraceText(path, { maxBytes: MAX_WORKLOAD_BYTES }));
  } catch {
    return undefined;
  }
}
