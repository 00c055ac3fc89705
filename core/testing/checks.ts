/**
 * Checks a policy author runs from `Deno.test`: the policy loads in the sandbox, makes no invalid
 * decision and stalls no vCPU over the standard battery, is deterministic (same seed, same
 * `eventsHash`, whatever the isolation), and, for CPU policies that claim it, is work-conserving.
 * Each check throws a {@linkcode PolicyCheckError} whose message says what went wrong, where and
 * what to look at.
 *
 * @module
 */

import { READY } from "../cpu/model.ts";
import { internals } from "../simulation/internals.ts";
import { CPU_LOG } from "../cpu/domain.ts";
import { LOG } from "../engine/decision_log.ts";
import { formatDuration, parseDuration } from "../engine/duration.ts";
import { isBuiltin, loadPolicy, PolicyReferenceError } from "../simulation/loader.ts";
import type { Domain, StartResult } from "../protocol/definition.ts";
import type { Report } from "../report/report.ts";
import type { SandboxOptions } from "../sandbox/options.ts";
import { type Isolation, PolicyFailure } from "../protocol/runtime.ts";
import { createSimulation, type SimulateOptions, type Simulation } from "../simulation/mod.ts";
import { parseWorkload, readWorkload } from "../workload/load.ts";
import type { Workload } from "../workload/schema.ts";
import { type Duration, standardWorkloads, type WorkloadInput } from "./workloads.ts";

/** A policy to check: a path, a `file:` URL (`new URL("./mod.ts", import.meta.url)`), a built-in
 * name, or an `npm:`, `jsr:` or `https:` specifier. */
export type PolicyReference = string | URL;

/**
 * A check failed: the message says which check, on which workload, and why.
 *
 * @example
 * ```ts
 * import { PolicyCheckError, workload, vm, runPolicy } from "./mod.ts";
 *
 * try {
 *   await runPolicy("no-such-policy", workload([vm("a", { pattern: "cpu-bound" })], { stopAt: "1s" }));
 * } catch (error) {
 *   console.assert(error instanceof PolicyCheckError);
 * }
 * ```
 */
export class PolicyCheckError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed, where, and what to look at.
   */
  constructor(message: string) {
    super(message);
    this.name = "PolicyCheckError";
  }
}

/** Options every check takes. */
export interface CheckOptions {
  /** The policy's configuration (default: its own defaults). */
  config?: Record<string, unknown>;
  /** The domain it is for (default: what the policy declares). */
  domain?: Domain;
  /** Where it runs (default `process`: the sandbox a policy gets in production). */
  isolation?: Isolation;
  /**
   * Heap cap and deadlines of the sandbox. The kit's defaults are lenient (1 s per batch, 10 s to
   * start) so that a busy machine does not fail a correct policy; production's are 100 ms and 2 s.
   */
  sandbox?: SandboxOptions;
  /**
   * The watchdog: a runnable vCPU left unrun this long ejects the policy (default `"1s"`, shorter
   * than the kernel's 30 s so that the short battery can catch starvation).
   */
  stall?: Duration;
}

/** Options of the checks that run a set of workloads. */
export interface BatteryOptions extends CheckOptions {
  /** The workloads (default: the domain's {@linkcode standardWorkloads}). */
  workloads?: (WorkloadInput | string)[];
}

/** Options of {@linkcode assertDeterministic}. */
export interface DeterminismOptions extends CheckOptions {
  /** The workload (default: the last of the domain's standard battery). */
  workload?: WorkloadInput | string;
  /**
   * The isolations to compare (default `["process", "worker", "none"]`): the first runs twice, the
   * others once; every run must give the same `eventsHash`.
   */
  isolations?: Isolation[];
}

/** Options of {@linkcode assertWorkConserving}. */
export interface WorkConservingOptions extends BatteryOptions {
  /**
   * How much idle time with work waiting to allow per workload, as a fraction of its capacity
   * (pCPUs × simulated time). Default 0: none at all.
   */
  tolerance?: number;
}

/** Options of {@linkcode checkPolicy}. */
export interface CheckPolicyOptions extends BatteryOptions {
  /** Also check work conservation (CPU policies that claim it). Default false. */
  workConserving?: boolean;
}

/** What {@linkcode assertLoads} found out about a policy. */
export interface LoadedSummary {
  /** The name the policy gives itself. */
  name: string;
  /** Its domain. */
  domain: Domain;
  /** The SHA-256 of its bundle: what reports record. */
  sha256: string;
  /** The hooks it defines (as the kernel sees them). */
  hooks: string[];
  /** Its configuration after defaults. */
  config: Record<string, unknown>;
  /** Where it was loaded. */
  isolation: Isolation;
}

/** How far a CPU policy was from work conservation on one workload. */
export interface WorkConservation {
  /** The workload's name. */
  workload: string;
  /** Time, summed over pCPUs, that a pCPU sat idle while an uncapped vCPU was runnable. */
  idleWithWorkNs: number;
  /** The same, as a fraction of the workload's capacity (pCPUs × simulated time). */
  fraction: number;
  /** The first such moment, or null when there was none. */
  first: { atNs: number; pcpu: number; vcpu: number; vm: string } | null;
}

/** What {@linkcode checkPolicy} verified. */
export interface PolicyCheckSummary {
  /** The policy as loaded in the sandbox. */
  policy: LoadedSummary;
  /** The reports of the battery, one per workload, all without incidents. */
  reports: Report[];
  /** The `eventsHash` every isolation agreed on. */
  eventsHash: string;
  /** Work conservation per workload, when it was checked. */
  workConservation?: WorkConservation[];
}

/** A start message every SDK accepts: the domain of a policy is learnt by starting it. */
const PROBE_HOST = { pcpus: 1, vms: [], frames: 16, pageBytes: 4096, disks: [] };
const DEFAULT_STALL: Duration = "1s";
/**
 * The kit allows a batch 1 s and a start 10 s (production: 100 ms and 2 s) so that a busy CI
 * machine does not eject a correct policy; `sandbox: { batchDeadlineMs: 100 }` checks the
 * production deadline.
 */
const TEST_SANDBOX: SandboxOptions = { batchDeadlineMs: 1000, initDeadlineMs: 10_000 };

function referenceOf(policy: PolicyReference): string {
  if (policy instanceof URL) return policy.protocol === "file:" ? policy.pathname : policy.href;
  return policy;
}

function builtinDomain(reference: string): Domain | undefined {
  return (["cpu", "memory", "io"] as const).find((domain) => isBuiltin(domain, reference));
}

function stallNs(options: CheckOptions): number {
  const ns = parseDuration(options.stall ?? DEFAULT_STALL);
  if (ns === undefined || ns <= 0) {
    throw new PolicyCheckError(
      `Option stall: expected a duration such as "1s", got ${JSON.stringify(options.stall)}`,
    );
  }
  return ns;
}

/**
 * Checks that a policy bundles, loads and starts in the sandbox (a permission-less child process
 * unless `isolation` says otherwise), and reports what it declares.
 *
 * @example
 * ```ts ignore
 * import { assertLoads } from "@hyperhook/hyperhook/testing";
 *
 * Deno.test("my policy loads in the sandbox", async () => {
 *   const loaded = await assertLoads(new URL("./mod.ts", import.meta.url));
 *   console.log(loaded.name, loaded.domain, loaded.hooks);
 * });
 * ```
 *
 * @param policy The policy.
 * @param options Its config, the expected domain, the isolation.
 * @returns Its name, domain, bundle hash, hooks and resolved config.
 * @throws {PolicyCheckError} When it cannot be bundled, fails to load or start, refuses its
 *   config, or is for another domain than `options.domain`.
 */
export async function assertLoads(
  policy: PolicyReference,
  options: CheckOptions = {},
): Promise<LoadedSummary> {
  const reference = referenceOf(policy);
  const isolation = options.isolation ?? "process";
  let loaded;
  try {
    loaded = await loadPolicy(options.domain ?? builtinDomain(reference) ?? "cpu", reference, {
      isolation,
      config: options.config,
      sandbox: { ...TEST_SANDBOX, ...options.sandbox },
    });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error))
      .replace(`Policy ${reference}: `, "");
    throw new PolicyCheckError(
      error instanceof PolicyReferenceError
        ? `Policy ${reference} cannot be loaded: ${message}`
        : `Policy ${reference} cannot be bundled: ${message}`,
    );
  }
  let result: StartResult;
  try {
    result = await loaded.runtime.start({
      config: options.config ?? {},
      seed: 1,
      host: PROBE_HOST,
    });
  } catch (error) {
    const failure = error instanceof PolicyFailure ? error : undefined;
    const text = error instanceof Error ? error.message : String(error);
    const what = failure?.reason === "config" || text.startsWith("ConfigError: ")
      ? "refuses its configuration"
      : `fails to load in the ${isolation} sandbox (${failure?.kind ?? "error"}/${
        failure?.reason ?? "throw"
      })`;
    throw new PolicyCheckError(
      `Policy ${reference} ${what}: ${text.replace(/^ConfigError: /, "")}`,
    );
  } finally {
    await loaded.runtime.close();
  }
  const domain = result.domain ?? options.domain ?? "cpu";
  if (options.domain !== undefined && domain !== options.domain) {
    throw new PolicyCheckError(
      `Policy ${reference} is a ${domain} policy; expected a ${options.domain} policy`,
    );
  }
  return {
    name: result.name,
    domain,
    sha256: loaded.info.sha256,
    hooks: result.hooks,
    config: result.config,
    isolation,
  };
}

const domains = new Map<string, Promise<Domain>>();

async function domainOf(reference: string, options: CheckOptions): Promise<Domain> {
  if (options.domain !== undefined) return options.domain;
  const builtin = builtinDomain(reference);
  if (builtin !== undefined) return builtin;
  let pending = domains.get(reference);
  if (pending === undefined) {
    pending = assertLoads(reference, { ...options, isolation: "process" }).then((s) => s.domain);
    domains.set(reference, pending);
    pending.catch(() => domains.delete(reference));
  }
  return await pending;
}

async function toWorkload(input: WorkloadInput | string): Promise<Workload> {
  return typeof input === "string"
    ? await readWorkload(input)
    : parseWorkload(input, { source: input.name });
}

function simulateOptions(
  reference: string,
  domain: Domain,
  options: CheckOptions,
  extra: Partial<SimulateOptions> = {},
): SimulateOptions {
  return {
    policies: { [domain]: { use: reference, config: options.config } },
    isolation: options.isolation ?? "process",
    sandbox: { ...TEST_SANDBOX, ...options.sandbox },
    stallNs: stallNs(options),
    ...extra,
  };
}

async function runOnce(
  reference: string,
  workload: Workload,
  options: SimulateOptions,
  observe?: (simulation: Simulation) => void,
): Promise<Report> {
  const simulation = await createSimulation(workload, options);
  try {
    observe?.(simulation);
    await simulation.run();
    return simulation.report();
  } catch (error) {
    throw new PolicyCheckError(
      `Policy ${reference} on workload ${workload.name}: the run failed: ${
        error instanceof Error ? error.message : error
      }`,
    );
  } finally {
    await simulation.close();
  }
}

/**
 * Runs a policy on one workload, in the sandbox by default, and returns the report. Incidents do
 * not throw: they are in `report.incidents` (use {@linkcode assertReport} or
 * {@linkcode assertNoIncidents}).
 *
 * @example
 * ```ts ignore
 * import { run, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";
 *
 * const report = await runPolicy(
 *   new URL("./mod.ts", import.meta.url),
 *   workload([vm("P1", { program: [run("24ms")] }), vm("P2", { program: [run("3ms")] })]),
 * );
 * console.log(report.vms[1]!.cpu.waitNs);
 * ```
 *
 * @param policy The policy under test.
 * @param workload A workload (see `workload()`) or the path of a workload file.
 * @param options Config, domain, isolation, watchdog.
 * @returns The run's report.
 * @throws {PolicyCheckError} When the policy cannot be loaded or the run cannot start.
 */
export async function runPolicy(
  policy: PolicyReference,
  workload: WorkloadInput | string,
  options: CheckOptions = {},
): Promise<Report> {
  const reference = referenceOf(policy);
  const domain = await domainOf(reference, options);
  const parsed = await toWorkload(workload);
  return await runOnce(reference, parsed, simulateOptions(reference, domain, options));
}

const HINTS: Record<string, string> = {
  invalid: "the kernel refused a decision",
  watchdog: "a runnable vCPU went unrun past the watchdog: starvation",
  deadline: "a batch took longer than the sandbox's deadline: an endless or very slow hook",
  livelock: "the policy kept the kernel busy in one instant",
  error: "a hook threw",
  crash: "the sandbox process died",
  oom: "the policy ran out of memory",
  unregistered: "the policy left",
};

function describeIncidents(report: Report): string[] {
  return report.incidents.map((incident) =>
    `  ${report.workload}: ${incident.kind}/${incident.reason} at ${
      formatDuration(incident.atNs)
    } (${HINTS[incident.reason] ?? HINTS[incident.kind] ?? incident.kind}): ${incident.message}`
  );
}

/**
 * Runs a policy over a battery of workloads (by default its domain's standard battery) and checks
 * that it is never ejected: no invalid decision, no throw, no stall (a runnable vCPU left unrun
 * past the watchdog, 1 s here), no crash.
 *
 * @example
 * ```ts ignore
 * import { assertNoIncidents } from "@hyperhook/hyperhook/testing";
 *
 * Deno.test("no incident over the standard battery", async () => {
 *   await assertNoIncidents(new URL("./mod.ts", import.meta.url));
 * });
 * ```
 *
 * @param policy The policy under test.
 * @param options Config, workloads, isolation, watchdog.
 * @returns The reports, one per workload.
 * @throws {PolicyCheckError} Listing every incident, one line each, with the workload and time.
 */
export async function assertNoIncidents(
  policy: PolicyReference,
  options: BatteryOptions = {},
): Promise<Report[]> {
  const reference = referenceOf(policy);
  const domain = await domainOf(reference, options);
  const inputs = options.workloads ?? standardWorkloads(domain);
  // One run at a time: parallel sandboxes on a small machine could overrun their deadlines.
  const reports: Report[] = [];
  for (const input of inputs) {
    const workload = await toWorkload(input);
    reports.push(await runOnce(reference, workload, simulateOptions(reference, domain, options)));
  }
  const lines = reports.flatMap(describeIncidents);
  if (lines.length > 0) {
    throw new PolicyCheckError(
      `Policy ${reference} was ejected ${lines.length} time(s):\n${lines.join("\n")}`,
    );
  }
  return reports;
}

const LOG_DOMAINS = ["", "cpu", "memory", "io", "kernel"];
const STOP_REASONS = ["slice end", "block", "done", "preemption"];

/** A line of the decision log (`atNs domain kind a b c`) for people. */
function describeDecision(line: string | undefined): string {
  if (line === undefined) return "(no more decisions)";
  const [at, domain, kind, a, b, c] = line.split(" ").map(Number) as number[];
  const when = `at ${formatDuration(at!)}`;
  if (domain === LOG.cpu && kind === CPU_LOG.RUN) {
    return `${when} vCPU ${a} ran on pCPU ${b} (slice ${
      Number.isFinite(c) ? formatDuration(c!) : "none"
    })`;
  }
  if (domain === LOG.cpu && kind === CPU_LOG.STOP) {
    return `${when} vCPU ${a} left pCPU ${b} (${STOP_REASONS[c!] ?? c})`;
  }
  if (domain === LOG.cpu && kind === CPU_LOG.PREEMPT) {
    return `${when} pCPU ${a} was preempted for vCPU ${b}`;
  }
  return `${when} ${LOG_DOMAINS[domain!] ?? domain} decision of kind ${kind} (${a}, ${b}, ${c})`;
}

/**
 * Checks that a policy is deterministic: the same workload and seed give the same `eventsHash`
 * run after run and whatever the isolation. A policy that reads the wall clock, `Math.random()`
 * or iteration order it does not control fails here; use `ctx.rng` and `ctx.now`.
 *
 * @example
 * ```ts ignore
 * import { assertDeterministic } from "@hyperhook/hyperhook/testing";
 *
 * Deno.test("deterministic", async () => {
 *   const hash = await assertDeterministic(new URL("./mod.ts", import.meta.url));
 *   console.log(hash);
 * });
 * ```
 *
 * @param policy The policy under test.
 * @param options Config, workload, isolations to compare.
 * @returns The `eventsHash` every run agreed on.
 * @throws {PolicyCheckError} Naming the two runs that differ and their first differing decision.
 */
export async function assertDeterministic(
  policy: PolicyReference,
  options: DeterminismOptions = {},
): Promise<string> {
  const reference = referenceOf(policy);
  const domain = await domainOf(reference, options);
  const input = options.workload ?? standardWorkloads(domain).at(-1)!;
  const workload = await toWorkload(input);
  const isolations = options.isolations ?? ["process", "worker", "none"];
  if (isolations.length === 0) {
    throw new PolicyCheckError("Option isolations: expected at least one isolation, got none");
  }
  const plan = [isolations[0]!, ...isolations];
  const runs: { label: string; hash: string; log: string[] }[] = [];
  for (const [i, isolation] of plan.entries()) {
    const log: string[] = [];
    const report = await runOnce(
      reference,
      workload,
      simulateOptions(reference, domain, { ...options, isolation }, {
        logSink: (line) => void log.push(line),
      }),
    );
    const lines = describeIncidents(report);
    if (lines.length > 0) {
      throw new PolicyCheckError(
        `Policy ${reference} was ejected while checking determinism:\n${lines.join("\n")}`,
      );
    }
    runs.push({
      label: `isolation ${isolation}${i === 0 ? ", run 1" : i === 1 ? ", run 2" : ""}`,
      hash: report.eventsHash,
      log,
    });
  }
  const first = runs[0]!;
  for (const other of runs.slice(1)) {
    if (other.hash === first.hash) continue;
    let at = 0;
    while (at < first.log.length && first.log[at] === other.log[at]) at++;
    throw new PolicyCheckError(
      `Policy ${reference} is not deterministic on workload ${workload.name}: eventsHash ${
        first.hash.slice(0, 12)
      }… (${first.label}) differs from ${other.hash.slice(0, 12)}… (${other.label}). ` +
        `Decision ${at + 1} differs: ${describeDecision(first.log[at])} vs ${
          describeDecision(other.log[at])
        }. Use ctx.rng and ctx.now, not Math.random() or the wall clock`,
    );
  }
  return first.hash;
}

/**
 * Measures, at the end of every simulated instant, how many pCPUs are idle while uncapped vCPUs
 * are runnable, and integrates it over time.
 */
function watchWorkConservation(simulation: Simulation, name: string): () => WorkConservation {
  const { cpu, kernel } = internals(simulation);
  let lastNs = 0, lastIdleWithWork = 0, total = 0;
  let first: WorkConservation["first"] = null, candidate: WorkConservation["first"] = null;
  const advanceTo = (now: number) => {
    if (now <= lastNs) return;
    if (lastIdleWithWork > 0) {
      total += lastIdleWithWork * (now - lastNs);
      first ??= candidate;
    }
    lastNs = now;
  };
  // Called after every settle round: the last call of an instant sees the state it ends with.
  const sample = () => {
    const now = kernel.now;
    advanceTo(now);
    let idle = -1, idleCount = 0, waiting = -1, waitingCount = 0;
    for (const pcpu of cpu.pcpus) {
      if (pcpu.vcpu !== -1) continue;
      if (idle === -1) idle = pcpu.index;
      idleCount++;
    }
    if (idleCount > 0) {
      for (const vcpu of cpu.vcpus) {
        if (vcpu.state !== READY || vcpu.vm.params.cap > 0 || vcpu.vm.removedNs !== null) continue;
        if (waiting === -1) waiting = vcpu.id;
        waitingCount++;
      }
    }
    lastIdleWithWork = Math.min(idleCount, waitingCount);
    candidate = lastIdleWithWork > 0
      ? { atNs: now, pcpu: idle, vcpu: waiting, vm: cpu.vcpus[waiting]!.vm.id }
      : null;
  };
  const settle = cpu.settle.bind(cpu);
  cpu.settle = () => {
    settle();
    sample();
  };
  return () => {
    advanceTo(kernel.now);
    const capacity = kernel.now * cpu.pcpus.length;
    return {
      workload: name,
      idleWithWorkNs: total,
      fraction: capacity === 0 ? 0 : total / capacity,
      first,
    };
  };
}

/**
 * Checks that a CPU policy is work-conserving: no pCPU sits idle while a vCPU of a VM without a
 * cap is runnable (capped VMs may be throttled). Measured exactly, at the end of every simulated
 * instant, over the battery (by default the CPU standard battery).
 *
 * @example
 * ```ts ignore
 * import { assertWorkConserving } from "@hyperhook/hyperhook/testing";
 *
 * Deno.test("work-conserving", async () => {
 *   await assertWorkConserving(new URL("./mod.ts", import.meta.url));
 * });
 * ```
 *
 * @param policy A CPU policy.
 * @param options Config, workloads, tolerance.
 * @returns The measurement per workload.
 * @throws {PolicyCheckError} Naming each workload where a pCPU idled with work waiting, for how
 *   long, and the first moment it happened.
 */
export async function assertWorkConserving(
  policy: PolicyReference,
  options: WorkConservingOptions = {},
): Promise<WorkConservation[]> {
  const reference = referenceOf(policy);
  const domain = await domainOf(reference, options);
  if (domain !== "cpu") {
    throw new PolicyCheckError(
      `Policy ${reference} is a ${domain} policy; work conservation is checked for CPU policies`,
    );
  }
  const tolerance = options.tolerance ?? 0;
  const inputs = options.workloads ?? standardWorkloads("cpu");
  const results: WorkConservation[] = [];
  for (const input of inputs) {
    const workload = await toWorkload(input);
    let measure: (() => WorkConservation) | undefined;
    const report = await runOnce(
      reference,
      workload,
      simulateOptions(reference, domain, options),
      (simulation) => void (measure = watchWorkConservation(simulation, workload.name)),
    );
    const lines = describeIncidents(report);
    if (lines.length > 0) {
      throw new PolicyCheckError(
        `Policy ${reference} was ejected while checking work conservation:\n${lines.join("\n")}`,
      );
    }
    results.push(measure!());
  }
  const failed = results.filter((result) => result.fraction > tolerance);
  if (failed.length > 0) {
    const lines = failed.map(({ workload, idleWithWorkNs, fraction, first }) =>
      `  ${workload}: pCPUs sat idle with work waiting for ${formatDuration(idleWithWorkNs)} (${
        (fraction * 100).toFixed(3)
      }% of capacity); first at ${formatDuration(first!.atNs)}: pCPU ${
        first!.pcpu
      } idle while vCPU ${first!.vcpu} of VM ${first!.vm} was runnable`
    );
    throw new PolicyCheckError(
      `Policy ${reference} is not work-conserving (tolerance ${tolerance}):\n${lines.join("\n")}`,
    );
  }
  return results;
}

/**
 * Runs every check of the kit on a policy: it loads in the sandbox, gets through its domain's
 * standard battery (or `workloads`) without an incident, is deterministic across runs and
 * isolations, and, with `workConserving: true`, is work-conserving.
 *
 * @example The one test a policy package needs
 * ```ts ignore
 * import { checkPolicy } from "@hyperhook/hyperhook/testing";
 *
 * Deno.test("my policy passes the hyperhook checks", async () => {
 *   await checkPolicy(new URL("./mod.ts", import.meta.url), { workConserving: true });
 * });
 * ```
 *
 * @param policy The policy under test.
 * @param options Config, workloads, isolation, and which optional checks to run.
 * @returns What was verified.
 * @throws {PolicyCheckError} At the first check that fails.
 */
export async function checkPolicy(
  policy: PolicyReference,
  options: CheckPolicyOptions = {},
): Promise<PolicyCheckSummary> {
  const loaded = await assertLoads(policy, options);
  const withDomain = { ...options, domain: loaded.domain };
  const reports = await assertNoIncidents(policy, withDomain);
  const workloads = withDomain.workloads ?? standardWorkloads(loaded.domain);
  const eventsHash = await assertDeterministic(policy, {
    ...withDomain,
    workload: workloads.at(-1),
  });
  const summary: PolicyCheckSummary = { policy: loaded, reports, eventsHash };
  if (options.workConserving) {
    summary.workConservation = await assertWorkConserving(policy, withDomain);
  }
  return summary;
}
