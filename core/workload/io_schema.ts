/**
 * The I/O part of the workload schema (zod): `host.disks[]`, `vms[].io` and `{ "io": … }` program
 * steps, plus the cross-checks that need the whole workload (disk ids are unique; every request
 * names a disk of the host).
 *
 * @module
 */

import { z } from "zod";
import { duration, positiveDuration, show } from "./_zod.ts";
import { IO_WEIGHT, VM_IO_DEFAULTS } from "./defaults.ts";
import { checkDiskSpec, type DiskSpec } from "./disk_specs.ts";
import type {
  IoGeneratorSpec,
  IoParamsChange,
  IoRequestSpec,
  IoSizeSpec,
  IoStepSpec,
  IoTraceSpec,
  VmIoWorkload,
} from "./io_types.ts";

/**
 * A disk of `host.disks[]`: validated by its checks (`disk_specs.ts`), so errors name the field
 * (`host.disks[0].cylinders: expected a positive integer, got -3`).
 */
export const diskSchema: z.ZodType<DiskSpec, unknown> = z.record(z.string(), z.unknown())
  .transform((spec, ctx) => {
    try {
      checkDiskSpec(spec, { path: "" });
    } catch (error) {
      const message = (error as Error).message;
      const field = /^\.([A-Za-z]+): (.*)$/.exec(message);
      ctx.addIssue({
        code: "custom",
        path: field === null ? [] : [field[1]!],
        message: field === null ? message.replace(/^: /, "") : field[2]!,
      });
      return z.NEVER;
    }
    return spec as unknown as DiskSpec;
  });

const requestFields = {
  disk: z.string().min(1),
  cylinder: z.int().min(0).optional(),
  lba: z.int().min(0).optional(),
  bytes: z.int().min(1).max(1 << 30).default(4096),
  op: z.enum(["read", "write"]).default("read"),
  deadline: positiveDuration.optional(),
};

function oneAddress(request: { cylinder?: number; lba?: number }, ctx: z.RefinementCtx): void {
  if ((request.cylinder === undefined) === (request.lba === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: `expected exactly one of "cylinder" or "lba", got ${
        request.cylinder === undefined ? "neither" : "both"
      }`,
    });
  }
}

/** A request of `vms[].io.requests[]`. */
export const ioRequestSchema: z.ZodType<IoRequestSpec, unknown> = z.strictObject({
  ...requestFields,
  at: duration.default(0),
}).superRefine(oneAddress);

/** The request of a `{ "io": … }` program step (no `at`: the step issues it when reached). */
export const ioStepSchema: z.ZodType<IoStepSpec, unknown> = z.strictObject(requestFields)
  .superRefine(oneAddress);

// A plain number of bytes is short for `{ dist: "fixed", bytes }`.
const ioSize: z.ZodType<IoSizeSpec, unknown> = z.preprocess(
  (value) => typeof value === "number" ? { dist: "fixed", bytes: value } : value,
  z.discriminatedUnion("dist", [
    z.strictObject({ dist: z.literal("fixed"), bytes: z.int().min(1) }),
    z.strictObject({ dist: z.literal("uniform"), min: z.int().min(1), max: z.int().min(1) })
      .superRefine((size, ctx) => {
        if (size.min > size.max) {
          ctx.addIssue({
            code: "custom",
            message: `expected min at most max, got min ${size.min} and max ${size.max}`,
          });
        }
      }),
    z.strictObject({ dist: z.literal("exponential"), mean: z.number().positive() }),
    z.strictObject({
      dist: z.literal("choice"),
      bytes: z.array(z.int().min(1)).min(1),
      weights: z.array(z.number().positive()).optional(),
    }).refine(
      (size) => size.weights === undefined || size.weights.length === size.bytes.length,
      "expected as many weights as sizes",
    ),
  ]),
);

/** A generator of `vms[].io.generate`. */
export const ioGeneratorSchema: z.ZodType<IoGeneratorSpec, unknown> = z.strictObject({
  disk: z.string().min(1),
  pattern: z.enum(["random", "sequential"]).default("random"),
  count: z.int().min(1).optional(),
  rate: z.number().positive().optional(),
  arrivals: z.enum(["poisson", "uniform"]).default("poisson"),
  depth: z.int().min(1).max(1 << 16).optional(),
  think: duration.default(0),
  readRatio: z.number().min(0).max(1).default(1),
  size: ioSize.default({ dist: "fixed", bytes: 4096 }),
  start: duration.default(0),
  from: z.int().min(0).optional(),
  to: z.int().min(1).optional(),
  deadline: positiveDuration.optional(),
}).superRefine((generator, ctx) => {
  if (generator.rate !== undefined && generator.depth !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: "expected either rate (open loop) or depth (closed loop), got both",
    });
  }
  if (
    generator.from !== undefined && generator.to !== undefined && generator.from >= generator.to
  ) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "expected to above from" });
  }
});

/** A trace of `vms[].io.trace`. */
export const ioTraceSchema: z.ZodType<IoTraceSpec, unknown> = z.strictObject({
  format: z.enum(["disksim", "msr"]),
  path: z.string().min(1),
  disk: z.string().min(1),
  start: z.int().min(0).default(0),
  count: z.int().min(1).optional(),
  diskNumber: z.int().min(0).optional(),
  hostname: z.string().min(1).optional(),
  fit: z.enum(["error", "wrap", "scale"]).default("error"),
  speed: z.number().positive().default(1),
  deadline: positiveDuration.optional(),
});

// One item may stand for a list of one (paths then name it `[0]`).
function oneOrMany<T>(item: z.ZodType<T, unknown>): z.ZodType<T[], unknown> {
  return z.preprocess(
    (value) => value === undefined || Array.isArray(value) ? value : [value],
    z.array(item),
  );
}

/**
 * A VM's `io.weight`, as `vms[].io`, `timeline[].set.io` and `PATCH /v1/vms/{id}` take it
 * (cgroup v2's range).
 */
export const ioWeightSchema: z.ZodInt = z.int().min(IO_WEIGHT.min).max(IO_WEIGHT.max);
/** One `io.max` limit: bytes or requests per second, 0 for none. */
export const ioRateSchema: z.ZodNumber = z.number().min(0);
const ioWeight = ioWeightSchema;
const ioRate = ioRateSchema;
const rate = ioRate.default(0);

/** `vms[].io`: weight, limits and the requests a VM submits. */
export const vmIoSchema: z.ZodType<VmIoWorkload, unknown> = z.strictObject({
  weight: ioWeight.default(VM_IO_DEFAULTS.weight),
  max: z.strictObject({ rbps: rate, wbps: rate, riops: rate, wiops: rate })
    .default(() => ({ ...VM_IO_DEFAULTS.max })),
  deadline: positiveDuration.optional(),
  requests: z.array(ioRequestSchema).default([]),
  generate: oneOrMany(ioGeneratorSchema).default([]),
  trace: oneOrMany(ioTraceSchema).default([]),
});

/**
 * `timeline[].set.io`: a change of a VM's `io.weight` and `io.max`, validated as `vms[].io`'s own
 * fields; the limits not given keep their values.
 */
export const ioChangeSchema: z.ZodType<IoParamsChange, unknown> = z.strictObject({
  weight: ioWeight.optional(),
  max: z.strictObject({
    rbps: ioRate.optional(),
    wbps: ioRate.optional(),
    riops: ioRate.optional(),
    wiops: ioRate.optional(),
  }).optional(),
});

/** The parts of a parsed workload the cross-checks read. */
interface IoReferences {
  host: { disks?: { id: string }[] };
  vms: {
    io?: { requests: { disk: string }[]; generate: { disk: string }[]; trace: { disk: string }[] };
    cpu?: { program?: { io?: { disk: string } }[] };
  }[];
}

/**
 * Checks what one field cannot: disk ids are unique, a VM with an `io` section has disks to use,
 * and every request, generator, trace and program step names a disk of `host.disks`.
 *
 * @param workload The parsed workload.
 * @param ctx The refinement context issues go to (paths like `vms[0].io.requests[3].disk`).
 */
export function checkIoReferences(workload: IoReferences, ctx: z.RefinementCtx): void {
  const disks = workload.host.disks ?? [];
  const ids = new Set<string>();
  disks.forEach((disk, index) => {
    if (ids.has(disk.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["host", "disks", index, "id"],
        message: `expected a unique disk id, got ${show(disk.id)} twice`,
      });
    }
    ids.add(disk.id);
  });
  const known = disks.length === 0
    ? "there are none"
    : `one of ${[...ids].map((id) => `"${id}"`).join(", ")}`;
  const check = (disk: string, path: (string | number)[]) => {
    if (!ids.has(disk)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "disk"],
        message: `expected the id of a disk of host.disks (${known}), got ${show(disk)}`,
      });
    }
  };
  workload.vms.forEach((vm, v) => {
    const io = vm.io;
    if (
      io !== undefined && disks.length === 0 &&
      io.requests.length + io.generate.length + io.trace.length === 0
    ) {
      // Its weight and limits would govern nothing: say so, as for memory without frames.
      ctx.addIssue({
        code: "custom",
        path: ["host", "disks"],
        message: `expected at least one disk because vms[${v}] has an "io" section, got none`,
      });
    }
    for (const field of ["requests", "generate", "trace"] as const) {
      vm.io?.[field].forEach((item, i) => check(item.disk, ["vms", v, "io", field, i]));
    }
    vm.cpu?.program?.forEach((step, s) => {
      if (step.io !== undefined) check(step.io.disk, ["vms", v, "cpu", "program", s, "io"]);
    });
  });
}
