/**
 * A quick path for the common workload, without zod: a workload of CPU programs (explicit `run`
 * and `sleep` steps), CPU patterns (`cpu-bound`, `interactive`, `bursty`), memory reference
 * generators (`pattern`, with `host.memory`) and I/O request generators (`io.generate`, with
 * `host.disks`), with no explicit references or requests, traces or timeline, is checked and built here into the same
 * {@linkcode Workload} the schema gives (its defaults, its key order). zod and the schemas cost the
 * CLI more to load than a textbook run takes (and a tenth of an I/O bench's); they are loaded only
 * for what this path does not take.
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
import { parseProgram, type StepCache, stepCache } from "./_fast.ts";
import {
  CPU_COUNT,
  defaultHighWatermark,
  HOST_CPU_DEFAULTS,
  HOST_MEMORY_DEFAULTS,
  IO_WEIGHT,
  MEMORY_DEFAULTS,
  sizeInPages,
  VM_DEFAULTS,
  VM_IO_DEFAULTS,
  VM_WEIGHT,
} from "./defaults.ts";
import { checkDiskSpec, type DiskSpec } from "./disk_specs.ts";
import type { IoGeneratorSpec, VmIoWorkload } from "./io_types.ts";
import type {
  CpuWorkload,
  HostMemoryWorkload,
  MemoryWorkload,
  VmWorkload,
  Workload,
  WorkloadPolicy,
} from "./types.ts";

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
const VM_KEYS = new Set([
  "id",
  "vcpus",
  "weight",
  "cap",
  "priority",
  "sched",
  "cpu",
  "memory",
  "io",
]);
const HOST_KEYS = new Set(["pcpus", "memory", "disks"]);
const HOST_MEMORY_KEYS = new Set([
  "frames",
  "lowWatermark",
  "highWatermark",
  "faultCost",
  "writebackCost",
  "minBalance",
]);
const MEMORY_KEYS = new Set([
  "pattern",
  "pages",
  "size",
  "rate",
  "count",
  "writes",
  "skew",
  "loop",
  "workingSet",
  "phase",
  "target",
  "weight",
]);
const MEMORY_PATTERNS = new Set(["uniform", "zipf", "scan", "loop", "phases"]);
const IO_KEYS = new Set(["weight", "max", "deadline", "generate"]);
const IO_MAX_KEYS = new Set(["rbps", "wbps", "riops", "wiops"]);
const GENERATOR_KEYS = new Set([
  "disk",
  "pattern",
  "count",
  "rate",
  "arrivals",
  "depth",
  "think",
  "readRatio",
  "size",
  "start",
  "from",
  "to",
  "deadline",
]);
/** The schema's bounds: the largest int of `integer()`, of zipf's pages, of frames and of pages. */
const INT31 = 2 ** 31 - 1;
const MAX_ZIPF_PAGES = 2 ** 26;
const MAX_FRAMES = 2 ** 27;
const MAX_PAGES = 2 ** 30;
const CPU_KEYS = new Set([
  "arrive",
  "program",
  "repeat",
  "pattern",
  "run",
  "sleep",
  "phase",
  "busy",
  "quiet",
  "period",
]);
/** The fields each CPU pattern reads (the schema refuses the others with it). */
const PATTERN_FIELDS: Record<string, readonly string[]> = {
  "cpu-bound": [],
  interactive: ["run", "sleep"],
  bursty: ["phase", "busy", "quiet", "period"],
};
const PATTERN_KEYS = ["run", "sleep", "phase", "busy", "quiet", "period"] as const;
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

/** A finite number in [min, max] (`z.number().min().max()`), or undefined; `fallback` when absent. */
function number(value: unknown, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  return typeof value === "number" && Number.isFinite(value) && value >= min && value <= max
    ? value
    : undefined;
}

/** A duration in ns (`duration`, or `positiveDuration` when `positive`), or `fallback` when absent. */
function duration(value: unknown, positive: boolean, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const ns = parseDuration(value);
  return ns === undefined || (positive && !(ns > 0)) ? undefined : ns;
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
  if (!isPlainObject(host) || !keysWithin(host, HOST_KEYS)) return undefined;
  const pcpus = integer(host.pcpus, CPU_COUNT.min, CPU_COUNT.max);
  if (pcpus === undefined) return undefined;
  const memory = host.memory === undefined ? undefined : quickHostMemory(host.memory);
  if (host.memory !== undefined && memory === undefined) return undefined;
  const disks = host.disks === undefined ? undefined : quickDisks(host.disks);
  if (host.disks !== undefined && disks === undefined) return undefined;
  const policies = quickPolicies(value.policies);
  if (policies === undefined) return undefined;
  let stopAt: number | undefined;
  if (value.stopAt !== undefined) {
    stopAt = parseDuration(value.stopAt);
    if (stopAt === undefined || !(stopAt > 0)) return undefined;
  }
  if (!Array.isArray(value.vms) || value.vms.length === 0) return undefined;
  const cache = stepCache();
  const ids = new Set<string>();
  const vms: VmWorkload[] = new Array(value.vms.length);
  for (let i = 0; i < value.vms.length; i++) {
    const vm = quickVm(value.vms[i], cache);
    if (vm === undefined || ids.has(vm.id)) return undefined;
    // The workload's own checks: memory needs frames, within which a target must lie; every
    // generator names a disk of the host.
    if (vm.memory !== undefined) {
      if (memory === undefined || (vm.memory.target ?? 0) > memory.frames) return undefined;
    }
    if (vm.io !== undefined && !vm.io.generate.every((g) => disks?.ids.has(g.disk))) {
      return undefined;
    }
    ids.add(vm.id);
    vms[i] = vm;
  }
  // The schema's key order: defaults where they are declared, optional keys only when given.
  const workload: Record<string, unknown> = { schema: WORKLOAD_SCHEMA, name };
  if (description !== undefined) workload.description = description;
  workload.seed = seed;
  const builtHost: Workload["host"] = { pcpus, cpu: { ...HOST_CPU_DEFAULTS } };
  if (memory !== undefined) builtHost.memory = memory;
  if (disks !== undefined) builtHost.disks = disks.specs;
  workload.host = builtHost;
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

function quickVm(value: unknown, cache: StepCache): VmWorkload | undefined {
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
    const cpu = quickCpu(value.cpu, cache);
    if (cpu === undefined) return undefined;
    vm.cpu = cpu;
  }
  if (value.memory !== undefined) {
    const memory = quickMemory(value.memory);
    if (memory === undefined) return undefined;
    // The schema resolves a memory weight left out to the VM's own weight, as its last key.
    vm.memory = memory.weight === undefined ? { ...memory, weight } : memory;
  }
  if (value.io !== undefined) {
    const io = quickIo(value.io);
    if (io === undefined) return undefined;
    vm.io = io;
  }
  return vm;
}

/** `host.memory`, with the schema's defaults and checks. */
function quickHostMemory(value: unknown): HostMemoryWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, HOST_MEMORY_KEYS)) return undefined;
  const frames = integer(value.frames, 1, INT31);
  const lowWatermark = integer(value.lowWatermark, 0, INT31, HOST_MEMORY_DEFAULTS.lowWatermark);
  const highWatermark = integer(value.highWatermark, 1, INT31);
  const faultCost = duration(value.faultCost, false, HOST_MEMORY_DEFAULTS.faultCost);
  const writebackCost = duration(value.writebackCost, false, HOST_MEMORY_DEFAULTS.writebackCost);
  const minBalance = duration(value.minBalance, false, HOST_MEMORY_DEFAULTS.minBalance);
  if (
    frames === undefined || frames > MAX_FRAMES || lowWatermark === undefined ||
    lowWatermark >= frames || (value.highWatermark !== undefined && highWatermark === undefined) ||
    faultCost === undefined || writebackCost === undefined || minBalance === undefined ||
    minBalance > 100_000_000
  ) return undefined;
  if (highWatermark !== undefined && (highWatermark <= lowWatermark || highWatermark > frames)) {
    return undefined;
  }
  // The schema's key order: a high watermark left out is resolved by its transform, at the end.
  if (highWatermark === undefined) {
    return {
      frames,
      lowWatermark,
      faultCost,
      writebackCost,
      minBalance,
      highWatermark: defaultHighWatermark(frames, lowWatermark),
    };
  }
  return { frames, lowWatermark, highWatermark, faultCost, writebackCost, minBalance };
}

/** `host.disks`: each as `checkDiskSpec` takes it (a copy), their ids unique. */
function quickDisks(value: unknown): { specs: DiskSpec[]; ids: Set<string> } | undefined {
  if (!Array.isArray(value)) return undefined;
  const specs: DiskSpec[] = [], ids = new Set<string>();
  for (const item of value) {
    const spec = record(item);
    if (spec === undefined) return undefined;
    try {
      checkDiskSpec(spec, { path: "" });
    } catch {
      return undefined;
    }
    const id = spec.id as string;
    if (ids.has(id)) return undefined;
    ids.add(id);
    specs.push(spec as unknown as DiskSpec);
  }
  return { specs, ids };
}

/** A VM's `memory` as a generator (`pattern`); explicit `refs` go to the schema. */
function quickMemory(value: unknown): MemoryWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, MEMORY_KEYS)) return undefined;
  const pattern = value.pattern;
  if (typeof pattern !== "string" || !MEMORY_PATTERNS.has(pattern)) return undefined;
  // Exactly one of `pages` and `size` (a whole number of 4 KiB pages).
  let pages: number | undefined;
  if (value.size !== undefined) {
    if (value.pages !== undefined || typeof value.size !== "string") return undefined;
    pages = sizeInPages(value.size);
    if (Number.isNaN(pages)) return undefined;
  } else pages = integer(value.pages, 1, INT31);
  if (pages === undefined || pages > MAX_PAGES) return undefined;
  if (pattern === "zipf" && pages > MAX_ZIPF_PAGES) return undefined;
  const rate = number(value.rate, Number.MIN_VALUE, 1e9, MEMORY_DEFAULTS.rate);
  const count = integer(value.count, 1, INT31);
  const writes = number(value.writes, 0, 1, MEMORY_DEFAULTS.writes);
  const skew = number(value.skew, 0, 10, MEMORY_DEFAULTS.skew);
  const loop = integer(value.loop, 1, INT31);
  const workingSet = integer(value.workingSet, 1, INT31);
  const phase = duration(value.phase, true, MEMORY_DEFAULTS.phase);
  const target = integer(value.target, 0, INT31);
  const weight = integer(value.weight, VM_WEIGHT.min, VM_WEIGHT.max);
  if (
    rate === undefined || writes === undefined || skew === undefined || phase === undefined ||
    (value.count !== undefined && count === undefined) ||
    (value.loop !== undefined && loop === undefined) ||
    (value.workingSet !== undefined && workingSet === undefined) ||
    (value.target !== undefined && target === undefined) ||
    (value.weight !== undefined && weight === undefined)
  ) return undefined;
  // The schema's key order; `pages` given as `size` comes last (its transform adds it there).
  const memory: Record<string, unknown> = { pattern: pattern as MemoryWorkload["pattern"] };
  if (value.size === undefined) memory.pages = pages;
  memory.rate = rate;
  if (count !== undefined) memory.count = count;
  memory.writes = writes;
  memory.skew = skew;
  if (loop !== undefined) memory.loop = loop;
  if (workingSet !== undefined) memory.workingSet = workingSet;
  memory.phase = phase;
  if (target !== undefined) memory.target = target;
  if (weight !== undefined) memory.weight = weight;
  if (value.size !== undefined) memory.pages = pages;
  return memory as unknown as MemoryWorkload;
}

/** A VM's `io` of generators alone (explicit `requests` and `trace` go to the schema). */
function quickIo(value: unknown): VmIoWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, IO_KEYS)) return undefined;
  const weight = integer(value.weight, IO_WEIGHT.min, IO_WEIGHT.max, VM_IO_DEFAULTS.weight);
  const deadline = duration(value.deadline, true);
  if (weight === undefined || (value.deadline !== undefined && deadline === undefined)) {
    return undefined;
  }
  let max = { ...VM_IO_DEFAULTS.max };
  if (value.max !== undefined) {
    const given = value.max;
    if (!isPlainObject(given) || !keysWithin(given, IO_MAX_KEYS)) return undefined;
    const limit = (key: string) => number(given[key], 0, Infinity, 0);
    const [rbps, wbps, riops, wiops] = [
      limit("rbps"),
      limit("wbps"),
      limit("riops"),
      limit("wiops"),
    ];
    if (rbps === undefined || wbps === undefined || riops === undefined || wiops === undefined) {
      return undefined;
    }
    max = { rbps, wbps, riops, wiops };
  }
  // One generator stands for a list of one.
  const items = value.generate === undefined
    ? []
    : Array.isArray(value.generate)
    ? value.generate
    : [value.generate];
  // An `io` section of no generator is left to the schema (refused when the host has no disk).
  if (items.length === 0) return undefined;
  const generate: IoGeneratorSpec[] = [];
  for (const item of items) {
    const generator = quickGenerator(item);
    if (generator === undefined) return undefined;
    generate.push(generator);
  }
  const io: Record<string, unknown> = { weight, max };
  if (deadline !== undefined) io.deadline = deadline;
  io.requests = [];
  io.generate = generate;
  io.trace = [];
  return io as unknown as VmIoWorkload;
}

/** One `io.generate` entry, with a fixed request size (a number of bytes, or none: 4096). */
function quickGenerator(value: unknown): IoGeneratorSpec | undefined {
  if (!isPlainObject(value) || !keysWithin(value, GENERATOR_KEYS)) return undefined;
  const { disk, pattern, arrivals } = value;
  if (typeof disk !== "string" || disk.length === 0) return undefined;
  if (pattern !== undefined && pattern !== "random" && pattern !== "sequential") return undefined;
  if (arrivals !== undefined && arrivals !== "poisson" && arrivals !== "uniform") return undefined;
  const count = integer(value.count, 1, Number.MAX_SAFE_INTEGER);
  const rate = number(value.rate, Number.MIN_VALUE, Infinity);
  const depth = integer(value.depth, 1, 1 << 16);
  const think = duration(value.think, false, 0);
  const readRatio = number(value.readRatio, 0, 1, 1);
  const bytes = integer(value.size, 1, Number.MAX_SAFE_INTEGER, 4096);
  const start = duration(value.start, false, 0);
  const from = integer(value.from, 0, Number.MAX_SAFE_INTEGER);
  const to = integer(value.to, 1, Number.MAX_SAFE_INTEGER);
  const deadline = duration(value.deadline, true);
  if (
    think === undefined || readRatio === undefined || bytes === undefined || start === undefined ||
    (value.count !== undefined && count === undefined) ||
    (value.rate !== undefined && rate === undefined) ||
    (value.depth !== undefined && depth === undefined) ||
    (value.from !== undefined && from === undefined) ||
    (value.to !== undefined && to === undefined) ||
    (value.deadline !== undefined && deadline === undefined) ||
    (rate !== undefined && depth !== undefined) ||
    (from !== undefined && to !== undefined && from >= to)
  ) return undefined;
  const generator: Record<string, unknown> = { disk, pattern: pattern ?? "random" };
  if (count !== undefined) generator.count = count;
  if (rate !== undefined) generator.rate = rate;
  generator.arrivals = arrivals ?? "poisson";
  if (depth !== undefined) generator.depth = depth;
  generator.think = think;
  generator.readRatio = readRatio;
  generator.size = { dist: "fixed", bytes };
  generator.start = start;
  if (from !== undefined) generator.from = from;
  if (to !== undefined) generator.to = to;
  if (deadline !== undefined) generator.deadline = deadline;
  return generator as unknown as IoGeneratorSpec;
}

/** A VM's `cpu`: an arrival and an explicit program (optionally repeated), or CPU-bound. */
function quickCpu(value: unknown, cache: StepCache): CpuWorkload | undefined {
  if (!isPlainObject(value) || !keysWithin(value, CPU_KEYS)) return undefined;
  const arrive = value.arrive === undefined ? 0 : parseDuration(value.arrive);
  if (arrive === undefined) return undefined;
  const cpu: CpuWorkload = { arrive };
  const { program, repeat, pattern } = value;
  if (pattern !== undefined) {
    return program === undefined && repeat === undefined ? quickPattern(value, cpu) : undefined;
  }
  if (PATTERN_KEYS.some((key) => value[key] !== undefined)) return undefined;
  if (program === undefined) return repeat === undefined ? cpu : undefined;
  if (!Array.isArray(program) || program.length === 0) return undefined;
  const parsed = parseProgram(program, cache);
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

/** A VM's `cpu` as a seeded generator (`pattern`), with the fields that pattern reads. */
function quickPattern(value: Json, cpu: CpuWorkload): CpuWorkload | undefined {
  const pattern = value.pattern as string;
  if (!Object.hasOwn(PATTERN_FIELDS, pattern)) return undefined;
  const fields = PATTERN_FIELDS[pattern]!;
  const built: Record<string, unknown> = { ...cpu, pattern };
  // The schema's key order: run, sleep, phase, busy, quiet, period.
  for (const key of PATTERN_KEYS) {
    const given = value[key];
    if (given === undefined) continue;
    if (!fields.includes(key)) return undefined;
    const parsed = key === "busy" || key === "quiet" ? number(given, 0, 1) : duration(given, true);
    if (parsed === undefined) return undefined;
    built[key] = parsed;
  }
  return built as unknown as CpuWorkload;
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
