/**
 * The request bodies of the control API, as zod schemas. The same schemas validate requests and
 * generate `/openapi.json`.
 *
 * @module
 */

import { z } from "zod";
import { parseDuration } from "../engine/duration.ts";
import type { Isolation } from "../protocol/runtime.ts";
import { describeIssue, vmWeightSchema, workloadSchema } from "../workload/schema.ts";
import { ioRateSchema, ioWeightSchema } from "../workload/io_schema.ts";
import type { VmWorkload } from "../workload/types.ts";

/** The longest step of a paused clock (simulated): longer runs are for `speed`. */
export const MAX_STEP_NS = 60_000_000_000;

/** The largest request body accepted, in bytes (413 above). */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * The largest cap `PATCH /v1/vms/{id}` takes, in percent of one pCPU: every pCPU of the largest
 * host (4096 × 100 %).
 */
export const MAX_PATCH_CAP = 409_600;

/** The static priorities `PATCH /v1/vms/{id}` takes lie within ± this. */
export const MAX_PATCH_PRIORITY = 1_000_000;

/**
 * `PUT /v1/policies/{domain}`: a policy by reference, or its module text. Code that arrives through
 * the API (posted source, `npm:`, `jsr:`, `https:`) runs only in `process`; paths of the server's
 * files are refused.
 */
export interface PolicyRequest {
  /** A built-in name, or an `npm:`, `jsr:` or `https:` specifier. */
  use?: string;
  /** The text of a policy module (TypeScript or JavaScript), bundled and sandboxed. */
  source?: string;
  /** The policy's configuration. */
  config?: Record<string, unknown>;
  /**
   * Where to run it: a built-in anywhere (default: the server's `--isolation`, else `none`);
   * everything else only in `process` (the default).
   */
  isolation?: Isolation;
}

/** `PATCH /v1/vms/{id}`: the parameters to change. */
export interface VmPatchRequest {
  /** Proportional-share weight, 1..65535. */
  weight?: number;
  /** Cap in percent of one pCPU (0 = none). */
  cap?: number;
  /** Static priority (lower = higher). */
  priority?: number;
  /** Policy-specific parameters, merged into the VM's (durations as strings such as "5ms"). */
  sched?: Record<string, unknown>;
  /** Memory: the balloon target in frames. */
  memory?: { target?: number };
  /**
   * I/O: the VM's weight and `io.max` limits, as in workloads (the limits not given keep their
   * values; 0 removes one); `iops` and `bytesPerSecond` set both directions at once.
   */
  io?: {
    weight?: number;
    max?: { rbps?: number; wbps?: number; riops?: number; wiops?: number };
    iops?: number;
    bytesPerSecond?: number;
  };
}

/** `PUT /v1/sim/speed`. */
export interface SpeedRequest {
  /** Simulated seconds per wall-clock second, or `"max"` for as fast as possible. */
  speed: number | "max";
}

/** `POST /v1/sim/step`. */
export interface StepRequest {
  /** How far to advance, such as "10ms" (default: to the next simulated instant with events). */
  by?: string;
}

// The live server keeps `process` policies in per-batch mode: both names mean the same there.
const isolation = z.enum(["none", "worker", "process", "process-rpc"]);

/** Validates `PUT /v1/policies/{domain}` bodies. */
export const policyRequestSchema: z.ZodType<PolicyRequest, unknown> = z.strictObject({
  use: z.string().min(1).max(4096).optional().meta({
    description:
      "A built-in policy name, or an npm:, jsr: or https: specifier (run in process isolation)",
  }),
  source: z.string().min(1).max(MAX_BODY_BYTES).optional().meta({
    description:
      "The text of a policy module; its default export is the policy. It runs in process isolation and may import only npm:, jsr: and https: modules and the SDK",
  }),
  config: z.record(z.string(), z.unknown()).optional().meta({
    description: "The policy's configuration",
  }),
  isolation: isolation.optional().meta({
    description:
      "Where it runs: built-ins anywhere; posted source and remote modules only in process",
  }),
}).refine((body) => (body.use === undefined) !== (body.source === undefined), {
  message: `expected exactly one of "use" or "source"`,
});

/** Validates `PATCH /v1/vms/{id}` bodies. */
export const vmPatchSchema: z.ZodType<VmPatchRequest, unknown> = z.strictObject({
  weight: vmWeightSchema.optional(),
  cap: z.int().min(0).max(MAX_PATCH_CAP).optional(),
  priority: z.int().min(-MAX_PATCH_PRIORITY).max(MAX_PATCH_PRIORITY).optional(),
  sched: z.record(z.string(), z.unknown()).optional(),
  memory: z.strictObject({ target: z.int().min(0).optional() }).optional(),
  io: z.strictObject({
    weight: ioWeightSchema.optional(),
    max: z.strictObject({
      rbps: ioRateSchema.optional(),
      wbps: ioRateSchema.optional(),
      riops: ioRateSchema.optional(),
      wiops: ioRateSchema.optional(),
    }).optional(),
    iops: ioRateSchema.optional(),
    bytesPerSecond: ioRateSchema.optional(),
  }).optional(),
}).refine((body) => Object.keys(body).length > 0, {
  message: "expected at least one of weight, cap, priority, sched, memory or io",
});

/** Validates `PUT /v1/sim/speed` bodies. */
export const speedRequestSchema: z.ZodType<SpeedRequest, unknown> = z.strictObject({
  speed: z.union([z.number().positive().max(1e9), z.literal("max")], {
    error: 'expected a number above 0 (at most 1e9) or "max"',
  }).meta({
    description: "Simulated seconds per wall-clock second, or max",
  }),
});

/** Validates `POST /v1/sim/step` bodies. */
export const stepRequestSchema: z.ZodType<StepRequest, unknown> = z.strictObject({
  by: z.string().refine((text) => {
    const ns = parseDuration(text) ?? 0;
    return ns > 0 && ns <= MAX_STEP_NS;
  }, { message: `expected a duration above zero and at most 60s, such as "10ms"` }).optional(),
});

/** A request body that failed validation: the message names the place and what was expected. */
export class InvalidBody extends Error {
  /**
   * Makes the error.
   *
   * @param message One line: `where: expected …, got …`.
   */
  constructor(message: string) {
    super(message);
    this.name = "InvalidBody";
  }
}

/**
 * Validates `value` with `schema`.
 *
 * @throws {InvalidBody} Naming the first problem.
 */
export function validate<T>(schema: z.ZodType<T, unknown>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidBody(`Body: ${describeIssue(parsed.error.issues[0]!, value)}`);
}

/**
 * Validates a `POST /v1/vms` body: a VM exactly as a workload's `vms[]` item, checked by the
 * workload schema itself, on the live host (as JSON): its disks are the ones the VM's I/O may
 * name, and its memory lets the VM reference memory.
 *
 * @throws {InvalidBody} Naming the first problem.
 */
export function validateVm(value: unknown, host: unknown = { pcpus: 1 }): VmWorkload {
  const wrapped = { schema: "hyperhook.workload/v1", name: "live", host, vms: [value] };
  const parsed = workloadSchema.safeParse(wrapped);
  if (parsed.success) return parsed.data.vms[0]!;
  const issue = parsed.error.issues[0]!;
  const local = { ...issue, path: issue.path.slice(2) } as typeof issue;
  throw new InvalidBody(`Body: ${describeIssue(local, value)}`);
}

/** JSON Schemas of the request bodies, for `/openapi.json`. */
export function requestJsonSchemas(): Record<string, unknown> {
  const options = { io: "input", unrepresentable: "any" } as const;
  const of = (schema: z.ZodType<unknown, unknown>) => {
    const json = z.toJSONSchema(schema, options) as Record<string, unknown>;
    delete json.$schema;
    return json;
  };
  const workload = of(workloadSchema) as {
    properties: { vms: { items: Record<string, unknown> } };
  };
  return {
    PolicyRequest: of(policyRequestSchema),
    VmPatchRequest: of(vmPatchSchema),
    VmCreateRequest: workload.properties.vms.items,
    SpeedRequest: of(speedRequestSchema),
    StepRequest: of(stepRequestSchema),
  };
}
