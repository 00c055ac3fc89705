/**
 * Searching for the workload that breaks a CPU policy: fast-check generates small workloads (a
 * few pCPUs, a few VMs of CPU-bound, interactive or finite vCPUs, weights, caps, arrivals), runs
 * the policy on each, and checks properties a scheduler should keep. A failing workload is shrunk
 * to a minimal one, which {@linkcode fuzzPolicy} returns as a workload file with its seed and the
 * first decision that broke the property.
 *
 * The properties (the ones the test kit states, checked after every settled instant or at the
 * end of the run):
 * - `work-conserving`: no pCPU idles while a vCPU is ready to run;
 * - `wait`: no vCPU waits ready longer than a bound (default 500 ms);
 * - `share`: always-runnable (CPU-bound) VMs get their weighted fair share, within a tolerance
 *   (default 20 % of it);
 * - `cap`: no VM with a cap runs more than its cap, within a tolerance (default 5 points);
 * - `no-incident`: the policy is never ejected;
 * - and any function of the report and the workload (`check`).
 *
 * @module
 */

import fc from "fast-check";
import { createSimulation, type PolicyChoice, type SimulateOptions } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";
import { parseWorkload } from "../workload/load.ts";
import type { Workload } from "../workload/schema.ts";
import type { Report } from "../report/report.ts";
import type { Isolation } from "../protocol/runtime.ts";
import { isBuiltin, loadPolicy } from "../simulation/loader.ts";
import { type Decision, DecisionNames } from "./decisions.ts";
import { watchBatches } from "./batches.ts";
import { CPU_OP } from "../protocol/ops.ts";

/** The properties `fuzz` checks by name. */
export const PROPERTIES = ["work-conserving", "wait", "share", "cap", "no-incident"] as const;

/** A property's name. */
export type PropertyName = typeof PROPERTIES[number];

/** A user's property: a message when the run breaks it, else undefined (or true). */
export type UserCheck = (
  report: Report,
  workload: Record<string, unknown>,
) => string | undefined | boolean | void;

/** Options of {@linkcode fuzzPolicy}. */
export interface FuzzOptions {
  /** The properties to check (default: all). */
  properties?: readonly PropertyName[];
  /** A property of the user's, checked after the others. */
  check?: UserCheck;
  /** How many workloads to try (default 100). */
  runs?: number;
  /** fast-check's seed (default: a fixed 1, so a search repeats). */
  seed?: number;
  /** The `wait` bound (ns; default 500 ms). */
  waitBoundNs?: number;
  /** The `share` tolerance, a fraction of the fair share (default 0.2). */
  shareTolerance?: number;
  /**
   * The `cap` tolerance, in percentage points of one pCPU (default 5: Xen's credit accounts caps
   * every 30 ms and ticks every 10 ms, so a capped VM overshoots by a few points over a second).
   */
  capTolerance?: number;
  /** Where the policy runs (default: `none` for built-ins, `process` for the rest). */
  isolation?: Isolation;
}

/** A counterexample: a workload that breaks a property, shrunk. */
export interface Counterexample {
  /** The property broken. */
  property: string;
  /** What went wrong, for people. */
  message: string;
  /** When (simulated ns), or null for a property of the whole run. */
  atNs: number | null;
  /** The decisions of the instant it broke (or the last ones before it). */
  decisions: Decision[];
  /** The shrunk workload, ready to write as a file (`hyperhook run` reproduces it). */
  workload: Record<string, unknown>;
  /** How many workloads were tried before it was found, and how many shrink steps it took. */
  tried: number;
  /** See `tried`. */
  shrinks: number;
  /** fast-check's seed and path, to replay the search. */
  seed: number;
  /** See `seed`. */
  path: string | undefined;
}

/** What a search found. */
export interface FuzzResult {
  /** How many workloads ran. */
  runs: number;
  /** The counterexample, or null when every workload kept every property. */
  counterexample: Counterexample | null;
}

/** A generated VM. */
interface VmCase {
  vcpus: number;
  weight: number;
  cap: number;
  kind: "cpu-bound" | "interactive" | "finite";
  steps: { runMs: number; sleepMs: number }[];
  arriveMs: number;
}

/** A generated workload. */
interface WorkloadCase {
  pcpus: number;
  vms: VmCase[];
}

const RUN_MS = 1000;

/** The generator of workloads: 1-3 pCPUs, 1-6 VMs of 1-2 vCPUs (with caps when `caps`). */
function workloadArbitrary(caps: boolean): fc.Arbitrary<WorkloadCase> {
  const vm = fc.record({
    vcpus: fc.integer({ min: 1, max: 2 }),
    weight: fc.constantFrom(256, 64, 128, 512, 1024),
    // Caps only where a property is about them: elsewhere they would hide what else is wrong.
    cap: caps ? fc.constantFrom(0, 0, 10, 25, 50, 75) : fc.constant(0),
    kind: fc.constantFrom("cpu-bound" as const, "finite" as const, "interactive" as const),
    steps: fc.array(
      fc.record({
        runMs: fc.integer({ min: 1, max: 30 }),
        sleepMs: fc.integer({ min: 0, max: 20 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    arriveMs: fc.integer({ min: 0, max: 20 }),
  });
  return fc.record({
    pcpus: fc.integer({ min: 1, max: 3 }),
    vms: fc.array(vm, { minLength: 1, maxLength: 6 }),
  });
}

/** A generated workload as a workload file. */
function toWorkloadJson(testCase: WorkloadCase, policy: PolicyChoice): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "fuzz-counterexample",
    seed: 1,
    host: { pcpus: testCase.pcpus },
    policies: { cpu: policy.config === undefined ? { use: policy.use } : policy },
    stopAt: `${RUN_MS}ms`,
    vms: testCase.vms.map((vm, i) => ({
      id: `vm${i}`,
      vcpus: vm.vcpus,
      weight: vm.weight,
      cap: vm.cap,
      cpu: vm.kind === "cpu-bound"
        ? { arrive: `${vm.arriveMs}ms`, pattern: "cpu-bound" }
        : vm.kind === "interactive"
        ? {
          arrive: `${vm.arriveMs}ms`,
          pattern: "interactive",
          run: `${vm.steps[0]!.runMs}ms`,
          sleep: `${Math.max(1, vm.steps[0]!.sleepMs)}ms`,
        }
        : {
          arrive: `${vm.arriveMs}ms`,
          program: vm.steps.flatMap((step) =>
            step.sleepMs > 0
              ? [{ run: `${step.runMs}ms` }, { sleep: `${step.sleepMs}ms` }]
              : [{ run: `${step.runMs}ms` }]
          ),
        },
    })),
  };
}

/** A property broken in one run. */
interface Broken {
  property: string;
  message: string;
  atNs: number | null;
  decisions: Decision[];
}

/** Runs `workload` under the policy, checking every property; the first broken, or undefined. */
async function checkRun(
  json: Record<string, unknown>,
  options: FuzzOptions,
  simulate: SimulateOptions,
): Promise<Broken | undefined> {
  const workload: Workload = parseWorkload(json);
  const want = new Set(options.properties ?? PROPERTIES);
  const waitBound = options.waitBoundNs ?? 500_000_000;
  const decisions: { atNs: number; record: number[] }[] = [];
  let names: DecisionNames | undefined;
  // Answers that leave a pCPU idle log nothing: they are taken from the batches.
  const idled: Decision[] = [];
  const simulation = await createSimulation(workload, {
    ...simulate,
    observe(simulation) {
      names = new DecisionNames(simulation);
      let asked: number[] = [];
      watchBatches(simulation, {
        batch(domain, batch) {
          if (domain !== "cpu") return;
          asked = [];
          const nums = batch.nums;
          for (let i = 0; i < batch.length; i += 3 + nums[i + 2]!) {
            if (nums[i]! >= 20) asked.push(nums[i] === CPU_OP.DISPATCH ? nums[i + 3]! : -1);
          }
        },
        reply(domain, reply) {
          if (domain !== "cpu") return;
          const atNs = internals(simulation).kernel.now;
          for (let i = 0, q = 0; i < reply.length && q < asked.length; q++) {
            const count = reply.nums[i]!;
            if (asked[q]! >= 0 && count === 0) {
              if (idled.length > 64) idled.splice(0, 32);
              idled.push({
                atNs,
                domain: "cpu",
                decision: "idle",
                pcpu: asked[q],
                reason: "dispatch answered no vCPU",
              });
            }
            i += 1 + count;
          }
        },
      });
      internals(simulation).kernel.log.observe((domain, kind, atNs, a, b, c) => {
        // Only the last instants are kept: they name the decision that broke a property.
        if (decisions.length > 64) decisions.splice(0, 32);
        decisions.push({ atNs, record: [domain, kind, atNs, a, b, c] });
      });
    },
  });
  const lastDecisions = (atNs: number): Decision[] => {
    const at = decisions.filter((d) => d.atNs === atNs);
    const chosen = at.length > 0 ? at : decisions.filter((d) => d.atNs <= atNs).slice(-3);
    const described = chosen.map(({ record: [d, k, t, a, b, c] }) =>
      names!.describe(d!, k!, t!, a!, b!, c!)
    );
    return [...described, ...idled.filter((d) => d.atNs === atNs)];
  };
  let broken: Broken | undefined;
  try {
    const kernel = internals(simulation).kernel, cpu = internals(simulation).cpu;
    // Instant by instant: the state is checked once each instant is settled.
    while (!kernel.ended && broken === undefined) {
      await simulation.run(kernel.queue.peekTime());
      const now = kernel.now;
      let idle = 0, ready = 0, longest = 0, waiting = -1;
      for (const pcpu of cpu.pcpus) if (pcpu.vcpu < 0) idle++;
      for (const vcpu of cpu.vcpus) {
        if (cpu.status(vcpu) !== "ready") continue;
        ready++;
        if (now - vcpu.sinceNs > longest) longest = now - vcpu.sinceNs, waiting = vcpu.id;
      }
      if (want.has("work-conserving") && idle > 0 && ready > 0) {
        broken = {
          property: "work-conserving",
          message: `${idle} pCPU(s) idle while ${ready} vCPU(s) were ready`,
          atNs: now,
          decisions: lastDecisions(now),
        };
      } else if (want.has("wait") && longest > waitBound) {
        const vcpu = cpu.vcpus[waiting]!;
        broken = {
          property: "wait",
          message: `vCPU ${vcpu.vm.id}/${vcpu.index} waited ready ${longest / 1e6} ms (bound ${
            waitBound / 1e6
          } ms)`,
          atNs: now,
          decisions: lastDecisions(now),
        };
      }
    }
    if (broken !== undefined) return broken;
    const report = simulation.report();
    if (want.has("no-incident") && report.incidents.length > 0) {
      const incident = report.incidents[0]!;
      return {
        property: "no-incident",
        message: `${incident.kind}/${incident.reason}: ${incident.message}`,
        atNs: incident.atNs,
        decisions: lastDecisions(incident.atNs),
      };
    }
    if (want.has("share")) {
      const tolerance = options.shareTolerance ?? 0.2;
      const cases = json.vms as { cpu: { pattern?: string } }[];
      for (const [i, vm] of report.vms.entries()) {
        if (cases[i]!.cpu.pattern !== "cpu-bound" || vm.cpu.entitlement <= 0) continue;
        const off = Math.abs(vm.cpu.share - vm.cpu.entitlement) / vm.cpu.entitlement;
        if (off > tolerance) {
          return {
            property: "share",
            message: `VM ${vm.id} got ${
              (100 * vm.cpu.share).toFixed(1)
            } % of the host, its weighted fair share is ${
              (100 * vm.cpu.entitlement).toFixed(1)
            } % (tolerance ${100 * tolerance} % of it)`,
            atNs: null,
            decisions: [],
          };
        }
      }
    }
    if (want.has("cap")) {
      const tolerance = options.capTolerance ?? 5;
      for (const [i, vm] of report.vms.entries()) {
        const cap = workload.vms[i]!.cap;
        if (cap <= 0) continue;
        const used = 100 * vm.cpu.runNs / report.simulatedNs;
        if (used > cap + tolerance) {
          return {
            property: "cap",
            message: `VM ${vm.id} ran ${used.toFixed(1)} % of one pCPU, above its cap of ${cap} %`,
            atNs: null,
            decisions: [],
          };
        }
      }
    }
    if (options.check !== undefined) {
      const answer = options.check(report, json);
      if (answer === false || typeof answer === "string") {
        return {
          property: "check",
          message: typeof answer === "string" ? answer : "the check returned false",
          atNs: null,
          decisions: [],
        };
      }
    }
    return undefined;
  } finally {
    await simulation.close();
  }
}

/**
 * Searches for a workload on which `policy` breaks a property.
 *
 * @example
 * ```ts ignore
 * const result = await fuzzPolicy({ use: "fcfs" }, { properties: ["work-conserving"], runs: 50 });
 * console.log(result.counterexample); // null
 * ```
 *
 * @param policy The CPU policy: a built-in name or a path, with its config.
 * @param options Properties, budget, seed, bounds.
 * @returns The number of workloads run and the shrunk counterexample, if any.
 * @throws {import("../simulation/loader.ts").PolicyReferenceError} For a policy that cannot be loaded.
 */
export async function fuzzPolicy(
  policy: PolicyChoice,
  options: FuzzOptions = {},
): Promise<FuzzResult> {
  const simulate: SimulateOptions = { isolation: options.isolation };
  if (!isBuiltin("cpu", policy.use)) {
    // Bundled once, checked once: each run then only starts a runtime of the same bundle.
    const { bundleReference } = await import("../simulation/loader.ts");
    const bundle = await bundleReference("cpu", policy.use);
    const { createRuntime } = await import("../sandbox/mod.ts");
    const isolation = options.isolation ?? "process-rpc";
    const probe = await loadPolicy("cpu", policy.use, { isolation: "none", config: policy.config });
    await probe.runtime.close();
    simulate.loadPolicy = (_domain, choice) =>
      Promise.resolve({
        runtime: createRuntime(isolation === "process" ? "process-rpc" : isolation, bundle),
        info: { ...probe.info, sha256: bundle.sha256, isolation },
        config: choice.config ?? {},
      });
  }
  let runs = 0;
  let last: Broken | undefined;
  const caps = options.check !== undefined || (options.properties ?? PROPERTIES).includes("cap");
  const property = fc.asyncProperty(workloadArbitrary(caps), async (testCase) => {
    runs++;
    const broken = await checkRun(toWorkloadJson(testCase, policy), options, simulate);
    if (broken !== undefined) last = broken;
    return broken === undefined;
  });
  const details = await fc.check(property, {
    numRuns: options.runs ?? 100,
    seed: options.seed ?? 1,
  });
  if (!details.failed || details.counterexample === null) return { runs, counterexample: null };
  // A run that threw (not a broken property) is the search's failure, not a counterexample.
  if (last === undefined) throw details.errorInstance;
  const [testCase] = details.counterexample;
  const workload = toWorkloadJson(testCase, policy);
  // The last failure seen is the shrunk case's; run it again to be sure of what it breaks.
  const broken = await checkRun(workload, options, simulate) ?? last!;
  return {
    runs,
    counterexample: {
      ...broken,
      workload: {
        ...workload,
        description: `fuzz counterexample: ${broken.property}: ${broken.message}`,
      },
      tried: details.numRuns,
      shrinks: details.numShrinks,
      seed: details.seed,
      path: details.counterexamplePath ?? undefined,
    },
  };
}
