/**
 * The workload format `hyperhook.workload/v1`, validated with zod. Durations are strings such as
 * "24ms"; after parsing they are integer nanoseconds.
 *
 * @module
 */

import { z } from "zod";
import { duration, positiveDuration, show } from "./_zod.ts";
import { didYouMean } from "../engine/suggest.ts";
import {
  CPU_COUNT,
  defaultHighWatermark,
  HOST_CPU_DEFAULTS,
  HOST_MEMORY_DEFAULTS,
  MEMORY_DEFAULTS,
  sizeInPages,
  VM_DEFAULTS,
  VM_WEIGHT,
} from "./defaults.ts";
import {
  checkIoReferences,
  diskSchema,
  ioChangeSchema,
  ioStepSchema,
  vmIoSchema,
} from "./io_schema.ts";
import type {
  HostCpuWorkload,
  HostMemoryWorkload,
  MemoryRef,
  MemoryWorkload,
  Workload,
} from "./types.ts";

/**
 * The schema identifier every workload carries.
 *
 * @example
 * ```ts
 * import { WORKLOAD_SCHEMA } from "./schema.ts";
 *
 * const workload = { schema: WORKLOAD_SCHEMA, name: "empty", host: { pcpus: 1 }, vms: [] };
 * console.assert(workload.schema === "hyperhook.workload/v1");
 * ```
 */
export const WORKLOAD_SCHEMA = "hyperhook.workload/v1";

/**
 * A reference to a policy and its config, as in `policies.cpu`; a string alone is shorthand for
 * `{ "use": string }`.
 */
const policyChoice = z.preprocess(
  (value) => typeof value === "string" && value !== "" ? { use: value } : value,
  z.strictObject({
    use: z.string().min(1),
    config: z.record(z.string(), z.unknown()).default({}),
  }),
);

/** A step of a vCPU program: exactly one of `run`, `sleep` or `io`. */
const programStep = z.strictObject({
  run: positiveDuration.optional(),
  sleep: duration.optional(),
  io: ioStepSchema.optional(),
}).superRefine((step, ctx) => {
  const keys = Object.keys(step).filter((key) => step[key as keyof typeof step] !== undefined);
  if (keys.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: `expected a step with exactly one of "run", "sleep" or "io", got ${show(step)}`,
    });
  }
});

/** Replay of a PlanetLab utilisation trace. */
const planetlabTrace = z.strictObject({
  format: z.literal("planetlab"),
  path: z.string().min(1),
  /** Simulated length of one line of the file (the file's own interval is 300 s). */
  interval: positiveDuration.default(300_000_000_000),
  /** Granularity of the demand: each period, utilisation × period of work arrives. */
  period: positiveDuration.default(100_000_000),
  /** First line to replay (0-based). */
  start: z.int().min(0).default(0),
  /** How many lines to replay (default: to the end of the file). */
  count: z.int().min(1).optional(),
});

/** Where each of a VM's CPU fields applies (any other source would ignore it). */
const CPU_FIELD_SOURCES = {
  repeat: ["program"],
  run: ["interactive"],
  sleep: ["interactive"],
  phase: ["bursty"],
  busy: ["bursty"],
  quiet: ["bursty"],
  interval: ["utilization"],
  period: ["bursty", "utilization"],
} as const;

const CPU_SOURCE_NAMES: Record<string, string> = {
  program: "a program",
  trace: "a trace",
  utilization: "a utilization curve",
  interactive: '"pattern": "interactive"',
  bursty: '"pattern": "bursty"',
  "cpu-bound": '"pattern": "cpu-bound"',
};

/** How a VM's vCPUs use the CPU. */
const cpuSpec = z.strictObject({
  arrive: duration.default(0),
  /** Explicit program; `run` steps are declared to policies (SJF, SRTF use them). */
  program: z.array(programStep).min(1).optional(),
  /** Repeat the program: `true` forever, or a number of times in all. */
  repeat: z.union([z.boolean(), z.int().min(1)], {
    error: "expected true (forever) or a number of times, at least 1",
  }).optional(),
  /** A seeded generator instead of a program. */
  pattern: z.enum(["cpu-bound", "interactive", "bursty"]).optional(),
  /** Generators: mean run burst (interactive). */
  run: positiveDuration.optional(),
  /** Generators: mean sleep (interactive). */
  sleep: positiveDuration.optional(),
  /** Bursty: mean length of a busy or quiet phase. */
  phase: positiveDuration.optional(),
  /** Bursty: utilisation (0..1) in busy phases, and in quiet ones. */
  busy: z.number().min(0).max(1).optional(),
  quiet: z.number().min(0).max(1).optional(),
  /** Replay a measured utilisation curve. */
  trace: planetlabTrace.optional(),
  /** An inline utilisation curve in percent (0..100), one value per `interval`. */
  utilization: z.array(z.number().min(0).max(100)).min(1).optional(),
  interval: positiveDuration.optional(),
  period: positiveDuration.optional(),
}).superRefine((cpu, ctx) => {
  const sources = [cpu.program, cpu.pattern, cpu.trace, cpu.utilization].filter((s) =>
    s !== undefined
  );
  if (sources.length > 1) {
    ctx.addIssue({
      code: "custom",
      message: "expected one of program, pattern, trace or utilization, got several",
    });
    return;
  }
  // A field the VM's source does not read would be ignored without a word: refuse it.
  const source = cpu.program !== undefined
    ? "program"
    : cpu.trace !== undefined
    ? "trace"
    : cpu.utilization !== undefined
    ? "utilization"
    : cpu.pattern;
  for (const [key, applies] of Object.entries(CPU_FIELD_SOURCES)) {
    if (cpu[key as keyof typeof cpu] === undefined) continue;
    if ((applies as readonly string[]).includes(source ?? "cpu-bound")) continue;
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: `expected "${key}" only with ${
        applies.map((where) => CPU_SOURCE_NAMES[where]).join(" or ")
      }, got it with ${
        source === undefined
          ? "no program, pattern, trace or utilization (a CPU-bound VM)"
          : CPU_SOURCE_NAMES[source]
      }`,
    });
  }
  // Repeating steps that take no time would spin the kernel at one instant.
  const repeated = cpu.repeat === true || (typeof cpu.repeat === "number" && cpu.repeat > 1);
  if (repeated && cpu.program?.every((step) => step.sleep === 0)) {
    ctx.addIssue({
      code: "custom",
      path: ["repeat"],
      message:
        "expected a program that takes time to repeat (a run, an io step or a sleep above zero), got only zero-length sleeps",
    });
  }
});

/** An integer of at least `min`; the message says `expected <what>, got <value>`. */
function integer(min: number, what: string): z.ZodType<number, unknown> {
  return z.unknown().transform((value, ctx) => {
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < min || value > 2 ** 31 - 1
    ) {
      ctx.addIssue({ code: "custom", message: `expected ${what}, got ${show(value)}` });
      return z.NEVER;
    }
    return value;
  });
}

/** A VM's balloon target in frames (`vms[].memory.target`, `timeline[].set.memory.target`). */
const memoryTarget = integer(0, "a non-negative integer of frames");

/**
 * A VM's proportional-share weight, as `vms[].weight`, `vms[].memory.weight`, `timeline[].set`
 * and `PATCH /v1/vms/{id}` take it.
 */
export const vmWeightSchema: z.ZodInt = z.int().min(VM_WEIGHT.min).max(VM_WEIGHT.max);

/**
 * VM parameters that can change over time (the timeline): the CPU's, and a VM's balloon target
 * and I/O weight and limits, each validated as the VM's own field.
 */
const vmParams = z.strictObject({
  weight: vmWeightSchema.optional(),
  cap: z.int().min(0).optional(),
  priority: z.int().optional(),
  sched: z.record(z.string(), z.unknown()).optional(),
  memory: z.strictObject({ target: memoryTarget }).optional(),
  io: ioChangeSchema.optional(),
});

const PAGE_NUMBER = "a page number (an integer from 0)";

/** A page reference string: page numbers, or `{ page, write }` objects for writes. */
const pageRefs: z.ZodType<MemoryRef[] | number[] | (number | MemoryRef)[], unknown> = z.unknown()
  .transform((value, ctx) => {
    if (!Array.isArray(value) || value.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: `expected a non-empty array of page numbers, got ${show(value)}`,
      });
      return z.NEVER;
    }
    const refs: (number | MemoryRef)[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const ref: unknown = value[i];
      if (typeof ref === "number" && Number.isInteger(ref) && ref >= 0 && ref < 2 ** 31) {
        refs[i] = ref;
        continue;
      }
      if (typeof ref === "object" && ref !== null && !Array.isArray(ref)) {
        const { page, write, ...rest } = ref as Record<string, unknown>;
        const extra = Object.keys(rest);
        if (extra.length > 0) {
          ctx.addIssue({
            code: "custom",
            path: [i],
            message: `unknown key "${extra[0]}", got ${show(ref)}`,
          });
          return z.NEVER;
        }
        if (!(typeof page === "number" && Number.isInteger(page) && page >= 0 && page < 2 ** 31)) {
          ctx.addIssue({
            code: "custom",
            path: [i, "page"],
            message: `expected ${PAGE_NUMBER}, got ${show(page)}`,
          });
          return z.NEVER;
        }
        if (write !== undefined && typeof write !== "boolean") {
          ctx.addIssue({
            code: "custom",
            path: [i, "write"],
            message: `expected true or false, got ${show(write)}`,
          });
          return z.NEVER;
        }
        refs[i] = { page, write: write === true };
        continue;
      }
      ctx.addIssue({
        code: "custom",
        path: [i],
        message: `expected ${PAGE_NUMBER} or { "page": N, "write": true }, got ${show(ref)}`,
      });
      return z.NEVER;
    }
    return refs;
  });

/** A size such as "1GiB", in pages of 4 KiB. */
const sizeSchema: z.ZodType<number, unknown> = z.unknown().transform((value, ctx) => {
  const pages = sizeInPages(value);
  if (Number.isNaN(pages)) {
    ctx.addIssue({
      code: "custom",
      message: `expected a size such as "1GiB" (a whole number of 4 KiB pages), got ${show(value)}`,
    });
    return z.NEVER;
  }
  return pages;
});

/**
 * How a VM references memory: explicit refs or a generator. Its weight's default is the VM's
 * (`vmSpec` fills it in).
 */
const memorySpec: z.ZodType<Omit<MemoryWorkload, "weight"> & { weight?: number }, unknown> = z
  .strictObject({
    refs: pageRefs.optional(),
    pattern: z.enum(["uniform", "zipf", "scan", "loop", "phases"]).optional(),
    pages: integer(1, "a positive integer").optional(),
    size: sizeSchema.optional(),
    rate: z.number().positive().max(1e9).default(MEMORY_DEFAULTS.rate),
    count: integer(1, "a positive integer").optional(),
    writes: z.number().min(0).max(1).default(MEMORY_DEFAULTS.writes),
    skew: z.number().min(0).max(10).default(MEMORY_DEFAULTS.skew),
    loop: integer(1, "a positive integer").optional(),
    workingSet: integer(1, "a positive integer").optional(),
    phase: positiveDuration.default(MEMORY_DEFAULTS.phase),
    target: memoryTarget.optional(),
    weight: vmWeightSchema.optional(),
  }).superRefine((memory, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [path], message });
    if ((memory.refs === undefined) === (memory.pattern === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'expected exactly one of "refs" or "pattern"',
      });
      return;
    }
    if (memory.pages !== undefined && memory.size !== undefined) {
      issue("size", 'expected one of "pages" or "size", got both');
    }
    const pages = memory.pages ?? memory.size;
    if (pages !== undefined && pages > MAX_PAGES) {
      // The kernel's page table takes 16 bytes a page (filled on demand when it is large).
      issue(
        memory.size === undefined ? "pages" : "size",
        `expected an address space of at most ${MAX_PAGES} pages (4TiB) (${pages} pages)`,
      );
      return;
    }
    if (memory.refs !== undefined) {
      for (const key of ["count", "loop", "workingSet"] as const) {
        if (memory[key] !== undefined) {
          issue(key, `expected no "${key}" with "refs" (only with a pattern)`);
        }
      }
      const limit = pages ?? MAX_PAGES;
      const at = memory.refs.findIndex((ref) =>
        (typeof ref === "number" ? ref : ref.page) >= limit
      );
      if (at >= 0) {
        ctx.addIssue({
          code: "custom",
          path: ["refs", at],
          message: pages === undefined
            ? `expected a page number below ${MAX_PAGES} (4TiB), got ${show(memory.refs[at])}`
            : `expected a page number below pages (${pages}), got ${show(memory.refs[at])}`,
        });
      }
      return;
    }
    if (pages === undefined) {
      issue("pages", 'expected a positive integer (or "size": "1GiB") with a pattern, got nothing');
    } else if (memory.pattern === "zipf" && pages > MAX_ZIPF_PAGES) {
      // Its alias table takes about 40 bytes a page to build, and 8 to keep.
      issue(
        memory.size === undefined ? "pages" : "size",
        `expected at most ${MAX_ZIPF_PAGES} pages (256GiB) for a zipf pattern, whose table of page popularity takes about 40 bytes a page to build (${pages} pages)`,
      );
    }
  }).transform(({ size, ...memory }) => size === undefined ? memory : { ...memory, pages: size });

/** The largest address space a zipf pattern may span, in pages (256 GiB). */
const MAX_ZIPF_PAGES = 2 ** 26;
/** The most host frames (512 GiB). */
const MAX_FRAMES = 2 ** 27;
/** The largest address space of a VM, in pages (4 TiB). */
const MAX_PAGES = 2 ** 30;

/** A bound on a policy's durations: 0 (none) up to `max`, below what the fallback policies use. */
function bound(max: number, expected: string): z.ZodType<number, unknown> {
  return duration.refine((ns) => ns <= max, `expected a duration of at most ${expected}`);
}

/** The host's memory; the high watermark's default is resolved from the low one. */
const hostMemorySpec: z.ZodType<HostMemoryWorkload, unknown> = z.strictObject({
  frames: integer(1, "a positive integer"),
  lowWatermark: integer(0, "a non-negative integer of frames").default(
    HOST_MEMORY_DEFAULTS.lowWatermark,
  ),
  highWatermark: integer(1, "a positive integer of frames").optional(),
  faultCost: duration.default(HOST_MEMORY_DEFAULTS.faultCost),
  writebackCost: duration.default(HOST_MEMORY_DEFAULTS.writebackCost),
  minBalance: bound(100_000_000, `"100ms" (the default balance period)`).default(
    HOST_MEMORY_DEFAULTS.minBalance,
  ),
}).superRefine((memory, ctx) => {
  if (memory.frames > MAX_FRAMES) {
    // The kernel and a policy's views keep about 50 bytes a frame.
    ctx.addIssue({
      code: "custom",
      path: ["frames"],
      message:
        `expected at most ${MAX_FRAMES} frames (512GiB of host memory; the simulator keeps about 50 bytes a frame), got ${memory.frames}`,
    });
    return;
  }
  if (memory.lowWatermark >= memory.frames) {
    ctx.addIssue({
      code: "custom",
      path: ["lowWatermark"],
      message:
        `expected fewer than ${memory.frames} frames (host.memory.frames), got ${memory.lowWatermark}`,
    });
  }
  const high = memory.highWatermark;
  if (high !== undefined && (high <= memory.lowWatermark || high > memory.frames)) {
    ctx.addIssue({
      code: "custom",
      path: ["highWatermark"],
      message:
        `expected more than lowWatermark (${memory.lowWatermark}) and at most ${memory.frames} frames, got ${high}`,
    });
  }
}).transform((memory) => ({
  ...memory,
  highWatermark: memory.highWatermark ?? defaultHighWatermark(memory.frames, memory.lowWatermark),
}));

/** A virtual machine; its memory weight's default is its weight. */
const vmSpec = z.strictObject({
  id: z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, "expected letters, digits, _ . : -"),
  vcpus: z.int().min(CPU_COUNT.min).max(CPU_COUNT.max).default(VM_DEFAULTS.vcpus),
  weight: vmWeightSchema.default(VM_DEFAULTS.weight),
  cap: z.int().min(0).default(VM_DEFAULTS.cap),
  priority: z.int().default(VM_DEFAULTS.priority),
  sched: z.record(z.string(), z.unknown()).default({}),
  cpu: cpuSpec.optional(),
  memory: memorySpec.optional(),
  io: vmIoSchema.optional(),
}).transform((vm) =>
  vm.memory === undefined || vm.memory.weight !== undefined
    ? vm as typeof vm & { memory?: MemoryWorkload }
    : { ...vm, memory: { ...vm.memory, weight: vm.weight } }
);

/** The host's bounds on CPU decisions. */
const hostCpuSpec: z.ZodType<HostCpuWorkload, unknown> = z.strictObject({
  minSlice: bound(1_000_000, `"1ms" (Xen's default rate limit)`).default(
    HOST_CPU_DEFAULTS.minSlice,
  ),
  minTimer: bound(1_000_000, `"1ms" (Xen's default rate limit)`).default(
    HOST_CPU_DEFAULTS.minTimer,
  ),
  minTick: bound(10_000_000, `"10ms" (the default tick)`).default(HOST_CPU_DEFAULTS.minTick),
});

/** The host machine. */
const hostSpec = z.strictObject({
  pcpus: z.int().min(CPU_COUNT.min).max(CPU_COUNT.max),
  cpu: hostCpuSpec.default(() => ({ ...HOST_CPU_DEFAULTS })),
  memory: hostMemorySpec.optional(),
  disks: z.array(diskSchema).optional(),
});

/** A whole workload. */
/** The zod schema of a workload: validates JSON into a {@linkcode Workload}. */
export const workloadSchema: z.ZodType<Workload, unknown> = z.strictObject({
  schema: z.literal(WORKLOAD_SCHEMA),
  name: z.string().min(1),
  description: z.string().optional(),
  seed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  host: hostSpec,
  policies: z.strictObject({
    cpu: policyChoice.optional(),
    memory: policyChoice.optional(),
    io: policyChoice.optional(),
  }).default({}),
  stopAt: positiveDuration.optional(),
  timeline: z.array(z.strictObject({
    at: duration,
    vm: z.string(),
    set: vmParams,
  })).default([]),
  vms: z.array(vmSpec).min(1),
}).superRefine((workload, ctx) => {
  checkIoReferences(workload, ctx);
  const seen = new Set<string>();
  workload.vms.forEach((vm, index) => {
    if (seen.has(vm.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["vms", index, "id"],
        message: `expected a unique VM id, got ${show(vm.id)} twice`,
      });
    }
    seen.add(vm.id);
  });
  const frames = workload.host.memory?.frames;
  workload.vms.forEach((vm, index) => {
    if (vm.memory === undefined) return;
    if (frames === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["host", "memory", "frames"],
        message: `expected a positive integer because vms[${index}] references memory, got nothing`,
      });
    } else if (vm.memory.target !== undefined && vm.memory.target > frames) {
      ctx.addIssue({
        code: "custom",
        path: ["vms", index, "memory", "target"],
        message: `expected at most ${frames} frames (host.memory.frames), got ${vm.memory.target}`,
      });
    }
  });
  const hasDisks = (workload.host.disks ?? []).length > 0;
  workload.timeline.forEach((change, index) => {
    const vm = workload.vms.find((candidate) => candidate.id === change.vm);
    if (vm === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["timeline", index, "vm"],
        message: `expected the id of a VM of this workload, got ${show(change.vm)}`,
      });
      return;
    }
    const { memory, io } = change.set;
    if (memory !== undefined && vm.memory === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["timeline", index, "set", "memory"],
        message: `expected a VM with a "memory" section, got VM ${show(vm.id)}, which has none`,
      });
    } else if (memory !== undefined && frames !== undefined && memory.target > frames) {
      ctx.addIssue({
        code: "custom",
        path: ["timeline", index, "set", "memory", "target"],
        message: `expected at most ${frames} frames (host.memory.frames), got ${memory.target}`,
      });
    }
    if (io !== undefined && !hasDisks) {
      ctx.addIssue({
        code: "custom",
        path: ["timeline", index, "set", "io"],
        message: "expected a host with disks for an I/O change, got no host.disks",
      });
    }
  });
});

export type { CpuWorkload, VmWorkload, Workload } from "./types.ts";
export { HOST_CPU_DEFAULTS } from "./defaults.ts";

/** The dotted path of a zod issue, like `vms[0].cpu.program[0].run`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** zod's type names as a message says them. */
const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "an array",
};

/** Turns one zod issue into the project's one-line form: `path: expected …, got …`. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = formatPath(issue.path);
  const got = show(valueAt(input, issue.path));
  switch (issue.code) {
    case "invalid_type":
      return `${where}: expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${got}`;
    case "invalid_value":
      return `${where}: expected ${issue.values.map((v) => show(v)).join(" or ")}, got ${got}`;
    case "unrecognized_keys":
      return `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}${
        issue.keys.length === 1 ? didYouMean(issue.keys[0]!, workloadKeys()) : ""
      }`;
    case "too_small":
      return `${where}: expected ${
        issue.origin === "array"
          ? `at least ${issue.minimum} item(s)`
          : issue.origin === "string"
          ? "a non-empty string"
          : issue.inclusive === false
          ? `a value above ${issue.minimum}`
          : `a value of at least ${issue.minimum}`
      }, got ${got}`;
    case "too_big":
      return `${where}: expected ${
        issue.origin === "array"
          ? `at most ${issue.maximum} item(s)`
          : issue.inclusive === false
          ? `a value below ${issue.maximum}`
          : `at most ${issue.maximum}`
      }, got ${got}`;
    case "invalid_union":
      // A union that names its forms says so in its message; zod's default says nothing.
      return `${where}: ${
        issue.message.startsWith("expected ") ? issue.message : "expected one of the allowed forms"
      }, got ${got}`;
    default:
      return `${where}: ${issue.message.replace(/^Invalid input: /, "")}${
        issue.message.includes(", got ") ? "" : `, got ${got}`
      }`;
  }
}

let knownKeys: Set<string> | undefined;

/** Every key a workload may hold, at any depth (read from the schema once, when first needed). */
function workloadKeys(): Set<string> {
  if (knownKeys !== undefined) return knownKeys;
  const keys = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "properties" && typeof inner === "object" && inner !== null) {
        for (const name of Object.keys(inner)) keys.add(name);
      }
      walk(inner);
    }
  };
  try {
    walk(z.toJSONSchema(workloadSchema, { io: "input", unrepresentable: "any" }));
  } catch {
    // No suggestions then.
  }
  return knownKeys = keys;
}
