/**
 * The datacenter workload format `hyperhook.datacenter/v1`, validated with zod, and how it is
 * read from a file. Bad input is a {@linkcode WorkloadError} of one line naming the place, as for
 * `hyperhook.workload/v1`.
 *
 * Why a sibling schema rather than a section of `hyperhook.workload/v1`: a datacenter is not one
 * host, and its VMs are demand curves with a size in MIPS and RAM, not vCPU programs. Folding it
 * into v1 would make v1's required `host` and `vms` optional and ripple through every consumer of
 * that type; a sibling keeps v1 exactly as it is, shares its conventions (`name`, `seed`,
 * `policies`, `stopAt`, durations such as "300s", the error form) and is told apart by `schema`.
 *
 * @module
 */

import { z } from "zod";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDuration } from "../engine/duration.ts";
import { readWorkloadJson, WorkloadError } from "../workload/load.ts";
import { describeIssue } from "../workload/schema.ts";
import type { DatacenterWorkload } from "./types.ts";

/**
 * The schema identifier every datacenter workload carries.
 *
 * @example
 * ```ts
 * import { DATACENTER_SCHEMA } from "./schema.ts";
 * console.assert(DATACENTER_SCHEMA === "hyperhook.datacenter/v1");
 * ```
 */
export const DATACENTER_SCHEMA = "hyperhook.datacenter/v1";

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const duration = (positive: boolean) =>
  z.unknown().transform((value, ctx) => {
    const ns = parseDuration(value);
    if (ns === undefined || (positive && ns <= 0)) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration${positive ? " above zero" : ""} such as "300s", got ${
          show(value)
        }`,
      });
      return z.NEVER;
    }
    return ns;
  });

const name = z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, "expected letters, digits, _ . : -");
const positive = z.number().positive();

const hostType = z.strictObject({
  id: name,
  cores: z.int().min(1).max(4096),
  mips: positive,
  ram: positive,
  bandwidth: positive,
  power: z.array(z.number().min(0)).superRefine((table, ctx) => {
    if (table.length !== 11) {
      ctx.addIssue({
        code: "custom",
        message: `expected 11 values (watts at 0, 10, …, 100 % CPU), got ${table.length}`,
      });
    }
  }),
});

/** A group names `type` or `types`; both become `types`. */
const typeFields = { type: name.optional(), types: z.array(name).min(1).optional() };

function oneTypeField(group: { type?: string; types?: string[] }, ctx: z.RefinementCtx): void {
  if ((group.type === undefined) === (group.types === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: `expected exactly one of "type" or "types", got ${
        group.type === undefined ? "neither" : "both"
      }`,
    });
  }
}

const hostGroup = z.strictObject({ ...typeFields, count: z.int().min(1).max(1_000_000) })
  .superRefine(oneTypeField)
  .transform(({ type, types, ...rest }) => ({ ...rest, types: types ?? [type!] }));

const vmType = z.strictObject({
  id: name,
  mips: positive,
  ram: positive,
  bandwidth: positive,
  dirtyRate: z.number().min(0).default(0),
  memory: z.record(z.string(), z.unknown()).optional(),
});

const trace = z.strictObject({
  format: z.literal("planetlab"),
  path: z.string().min(1).optional(),
  folder: z.string().min(1).optional(),
}).superRefine((source, ctx) => {
  if ((source.path === undefined) === (source.folder === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: `expected exactly one of "path" or "folder", got ${
        source.path === undefined ? "neither" : "both"
      }`,
    });
  }
});

const demand = z.strictObject({
  utilization: z.array(z.number().min(0).max(100)).min(1).optional(),
  trace: trace.optional(),
  interval: duration(true).default(300_000_000_000),
}).superRefine((source, ctx) => {
  if ((source.utilization === undefined) === (source.trace === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: `expected exactly one of "utilization" or "trace", got ${
        source.utilization === undefined ? "neither" : "both"
      }`,
    });
  }
});

const vmGroup = z.strictObject({
  ...typeFields,
  id: name.default("vm"),
  assign: z.enum(["blocks", "cycle"]).default("blocks"),
  count: z.int().min(1).max(1_000_000).optional(),
  arrive: duration(false).default(0),
  demand,
}).superRefine(oneTypeField)
  .transform(({ type, types, ...rest }) => ({ ...rest, types: types ?? [type!] }));

const migration = z.strictObject({
  model: z.enum(["cloudsim", "precopy"]).default("cloudsim"),
  bandwidthShare: z.number().gt(0).max(1).default(0.5),
  degradation: z.number().min(0).lt(1).default(0.1),
  reservation: z.number().min(0).max(1).default(0.1),
  downtime: duration(true).default(300_000_000),
  maxRounds: z.int().min(1).max(1000).default(30),
});

const policyChoice = z.union([
  z.string().min(1).transform((use) => ({ use, config: {} })),
  z.strictObject({ use: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}) }),
], { error: 'expected a policy name or { "use": NAME, "config": {...} }' });

const datacenter = z.strictObject({
  mode: z.enum(["hyperhook", "cloudsim"]).default("hyperhook"),
  hostModel: z.enum(["fluid", "detailed"]).default("fluid"),
  interval: duration(true).default(300_000_000_000),
  offset: duration(false).optional(),
  quirks: z.strictObject({
    leaveAtZero: z.boolean().optional(),
    slaCountsTargets: z.boolean().optional(),
    booksFromFirstEvaluation: z.boolean().optional(),
    ramOnlyAtStart: z.boolean().optional(),
    demandAtUpdates: z.boolean().optional(),
    floorShares: z.boolean().optional(),
  }).default({}),
  detailed: z.strictObject({ period: duration(true).default(100_000_000) })
    .default({ period: 100_000_000 }),
  hostTypes: z.array(hostType).min(1),
  hosts: z.array(hostGroup).min(1),
  vmTypes: z.array(vmType).min(1),
  vms: z.array(vmGroup).min(1),
  migration: migration.default({
    model: "cloudsim",
    bandwidthShare: 0.5,
    degradation: 0.1,
    reservation: 0.1,
    downtime: 300_000_000,
    maxRounds: 30,
  }),
}).superRefine((spec, ctx) => {
  if (spec.hostModel === "detailed" && spec.mode === "cloudsim") {
    ctx.addIssue({
      code: "custom",
      path: ["hostModel"],
      message: 'expected "fluid" in cloudsim mode (CloudSim\'s hosts are fluid), got "detailed"',
    });
  }
  // zod runs this even when a group failed its own checks: look only at what parsed.
  const check = (ids: string[] | undefined, known: { id: string }[], path: (string | number)[]) => {
    if (!Array.isArray(ids) || !Array.isArray(known)) return;
    ids.forEach((id, i) => {
      if (known.some((t) => t.id === id)) return;
      ctx.addIssue({
        code: "custom",
        path: [...path, i],
        message: `expected one of ${known.map((t) => show(t.id)).join(", ")}, got ${show(id)}`,
      });
    });
  };
  spec.hosts.forEach((group, g) => check(group.types, spec.hostTypes, ["hosts", g, "types"]));
  spec.vms.forEach((group, g) => {
    check(group.types, spec.vmTypes, ["vms", g, "types"]);
    if (group.demand === undefined) return;
    if (group.demand.utilization !== undefined && group.count === undefined) group.count = 1;
    if (group.demand.trace?.path !== undefined && (group.count ?? 1) !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["vms", g, "count"],
        message: `expected 1 (one trace file is one VM's curve), got ${group.count}`,
      });
    }
  });
  for (const [list, label] of [[spec.hostTypes, "host type"], [spec.vmTypes, "VM type"]] as const) {
    const seen = new Set<string>();
    if (!Array.isArray(list)) continue;
    list.forEach((type, i) => {
      if (seen.has(type.id)) {
        ctx.addIssue({
          code: "custom",
          path: [label === "host type" ? "hostTypes" : "vmTypes", i, "id"],
          message: `expected a unique ${label} id, got ${show(type.id)} twice`,
        });
      }
      seen.add(type.id);
    });
  }
});

/** The zod schema of a datacenter workload (durations become integer ns). */
export const datacenterSchema: z.ZodType<DatacenterWorkload, unknown> = z.strictObject({
  schema: z.literal(DATACENTER_SCHEMA),
  name: z.string().min(1),
  description: z.string().optional(),
  seed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  policies: z.strictObject({
    placement: policyChoice.optional(),
    cpu: policyChoice.optional(),
  }).default({}),
  stopAt: duration(true).optional(),
  datacenter,
}).transform((workload) => {
  const spec = workload.datacenter, cloudsim = spec.mode === "cloudsim";
  return {
    ...workload,
    datacenter: {
      ...spec,
      // CloudSim's datacenter first evaluates 0.1 s after each interval (its workload starts then).
      offset: spec.offset ?? (cloudsim ? 100_000_000 : 0),
      quirks: {
        leaveAtZero: spec.quirks.leaveAtZero ?? cloudsim,
        slaCountsTargets: spec.quirks.slaCountsTargets ?? cloudsim,
        booksFromFirstEvaluation: spec.quirks.booksFromFirstEvaluation ?? cloudsim,
        ramOnlyAtStart: spec.quirks.ramOnlyAtStart ?? cloudsim,
        demandAtUpdates: spec.quirks.demandAtUpdates ?? cloudsim,
        floorShares: spec.quirks.floorShares ?? cloudsim,
      },
    },
  };
}) as unknown as z.ZodType<DatacenterWorkload, unknown>;

/**
 * Whether a parsed JSON value claims to be a datacenter workload (its `schema`).
 *
 * @example
 * ```ts
 * import { isDatacenterWorkload } from "./schema.ts";
 * console.assert(isDatacenterWorkload({ schema: "hyperhook.datacenter/v1" }));
 * console.assert(!isDatacenterWorkload({ schema: "hyperhook.workload/v1" }));
 * ```
 */
export function isDatacenterWorkload(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>).schema === DATACENTER_SCHEMA;
}

/**
 * Validates a parsed JSON value as a datacenter workload; relative trace paths are resolved
 * against `baseDir`.
 *
 * @throws {WorkloadError} On the first problem found: one line naming the place.
 *
 * @example
 * ```ts
 * import { parseDatacenter } from "./schema.ts";
 * const workload = parseDatacenter({
 *   schema: "hyperhook.datacenter/v1", name: "two",
 *   datacenter: {
 *     hostTypes: [{ id: "small", cores: 2, mips: 1000, ram: 4096, bandwidth: 1000,
 *       power: [50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100] }],
 *     hosts: [{ type: "small", count: 2 }],
 *     vmTypes: [{ id: "vm", mips: 1000, ram: 1024, bandwidth: 100 }],
 *     vms: [{ type: "vm", count: 3, demand: { utilization: [50, 80] } }],
 *   },
 * });
 * console.assert(workload.datacenter.interval === 300_000_000_000);
 * ```
 */
export function parseDatacenter(
  value: unknown,
  options: { source?: string; baseDir?: string } = {},
): DatacenterWorkload {
  const parsed = datacenterSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const prefix = options.source === undefined ? "Workload" : `Workload ${options.source}`;
    throw new WorkloadError(`${prefix}: ${describeIssue(issue, value)}`);
  }
  const workload = parsed.data;
  if (options.baseDir !== undefined) {
    for (const group of workload.datacenter.vms) {
      const source = group.demand.trace;
      if (source === undefined) continue;
      if (source.path !== undefined && !isAbsolute(source.path)) {
        source.path = resolve(options.baseDir, source.path);
      }
      if (source.folder !== undefined && !isAbsolute(source.folder)) {
        source.folder = resolve(options.baseDir, source.folder);
      }
    }
  }
  return workload;
}

/**
 * Reads and validates a datacenter workload file.
 *
 * @throws {WorkloadError} When the file is missing, is not JSON, or is not a valid workload.
 */
export async function readDatacenter(path: string): Promise<DatacenterWorkload> {
  return parseDatacenter(await readJson(path), { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Reads a JSON file, with the workload reader's errors.
 *
 * @throws {WorkloadError} When the file is missing or is not JSON.
 */
// deno-lint-ignore require-await
export async function readJson(path: string): Promise<unknown> {
  return readWorkloadJson(path);
}
