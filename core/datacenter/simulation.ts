/**
 * Running a datacenter workload: a kernel with the `placement` domain, its policy loaded like any
 * other (built-in in-process, anything else sandboxed), and a `hyperhook.report/v1` report with a
 * `datacenter` section.
 *
 * @module
 */

import { LOG_ENCODING } from "../engine/decision_log.ts";
import { Kernel } from "../kernel/kernel.ts";
import { type LoadedPolicy, PolicySlot } from "../kernel/slot.ts";
import { loadFallback, loadPolicy } from "../simulation/loader.ts";
import { noLatency } from "../engine/histogram.ts";
import { type Report, REPORT_SCHEMA, type ReportPolicy } from "../report/report.ts";
import type { PolicyChoice, SimulateOptions } from "../simulation/mod.ts";
import { WorkloadError } from "../workload/load.ts";
import { DetailedHosts } from "./detailed.ts";
import { DatacenterDomain } from "./domain.ts";
import { buildModel } from "./model.ts";
import type { DatacenterReport } from "./report.ts";
import type { DatacenterWorkload } from "./types.ts";

/** The placement policy a run uses when neither the workload nor a flag names one. */
export const DEFAULT_PLACEMENT = "dvfs";

/**
 * A datacenter kernel built from a workload, ready to run.
 *
 * @example
 * ```ts
 * import { createDatacenterSimulation } from "./simulation.ts";
 * import { parseDatacenter } from "./schema.ts";
 *
 * const simulation = await createDatacenterSimulation(parseDatacenter({
 *   schema: "hyperhook.datacenter/v1", name: "one",
 *   datacenter: {
 *     hostTypes: [{ id: "h", cores: 1, mips: 1000, ram: 1024, bandwidth: 1000,
 *       power: [50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100] }],
 *     hosts: [{ type: "h", count: 1 }],
 *     vmTypes: [{ id: "v", mips: 1000, ram: 512, bandwidth: 100 }],
 *     vms: [{ type: "v", demand: { utilization: [50], interval: "1h" } }],
 *   },
 * }));
 * await simulation.run();
 * await simulation.close();
 * // One host at 50 % for an hour: 75 W × 1 h.
 * console.assert(Math.abs(simulation.report().datacenter!.energyKwh - 0.075) < 1e-12);
 * ```
 */
export class DatacenterSimulation {
  /** The workload. */
  readonly workload: DatacenterWorkload;
  /**
   * The kernel (an internal API: for benches and tests).
   *
   * @ignore
   */
  readonly kernel: Kernel;
  /**
   * The datacenter domain (an internal API: for benches and tests).
   *
   * @ignore
   */
  readonly domain: DatacenterDomain;
  /** The policies asked for (set when it is made). */
  #requested: Partial<Record<"placement" | "cpu", ReportPolicy>>;
  #started = performance.now();

  /**
   * Use {@linkcode createDatacenterSimulation}.
   *
   * @ignore
   */
  constructor(
    workload: DatacenterWorkload,
    kernel: Kernel,
    domain: DatacenterDomain,
    requested: Partial<Record<"placement" | "cpu", ReportPolicy>>,
  ) {
    this.workload = workload;
    this.kernel = kernel;
    this.domain = domain;
    this.#requested = requested;
  }

  /** The policies asked for, as the report names them (a copy). */
  get requested(): Partial<Record<"placement" | "cpu", ReportPolicy>> {
    const copy: Partial<Record<"placement" | "cpu", ReportPolicy>> = {};
    for (const [domain, policy] of Object.entries(this.#requested)) {
      copy[domain as "placement" | "cpu"] = { ...policy };
    }
    return copy;
  }

  /** Runs to the end (or to `limitNs`). */
  async run(limitNs?: number): Promise<void> {
    const advancing = this.kernel.advance(limitNs);
    if (advancing !== undefined) await advancing;
  }

  /** The report of the run so far. */
  report(): Report {
    const kernel = this.kernel, domain = this.domain, spec = this.workload.datacenter;
    const figures = domain.figures(), hosts = domain.hostFigures();
    const datacenter: DatacenterReport = {
      ...figures,
      mode: spec.mode,
      hostModel: spec.hostModel,
      intervalNs: spec.interval,
      timeline: domain.timeline,
      hostFigures: hosts,
    };
    let cores = 0, busy = 0, time = 0;
    domain.model.hostType.forEach((type) => cores += domain.model.hostTypes[type]!.cores);
    for (const host of hosts) busy += host.meanUtilization * host.activeNs, time += host.activeNs;
    const requested = this.#requested.placement;
    if (requested !== undefined) {
      requested.ejected = kernel.incidents.some((incident) => incident.domain === "placement");
      requested.restarts = kernel.restarts.get("placement") ?? 0;
    }
    return {
      schema: REPORT_SCHEMA,
      workload: this.workload.name,
      seed: this.workload.seed,
      simulatedNs: kernel.now,
      wallMs: Math.round(performance.now() - this.#started),
      policies: this.#requested,
      vms: [],
      host: {
        cpu: {
          pcpus: cores,
          utilization: time === 0 ? 0 : busy / time,
          switches: 0,
          fairness: 1,
          meanWaitNs: 0,
          latencyNs: noLatency(),
        },
        memory: { frames: 0, faults: 0, evictions: 0 },
        disks: [],
      },
      incidents: [...kernel.incidents],
      eventsHash: kernel.log.digest(),
      eventsHashEncoding: LOG_ENCODING,
      datacenter,
    };
  }

  /** Stops the policy runtime (and the host kernels of detailed hosts). */
  async close(): Promise<void> {
    await this.domain.detailed?.close();
    await this.kernel.close();
  }
}

/**
 * Builds a datacenter simulation from a validated workload and starts its placement policy.
 * Policies come from `options.policies.placement` (a flag), else the workload, else `dvfs`.
 *
 * @throws {WorkloadError} When a trace cannot be read, or the workload cannot run.
 * @throws {import("../simulation/loader.ts").PolicyReferenceError} For an unknown policy.
 * @throws {import("../kernel/kernel.ts").PolicyConfigError} When a policy refuses its config.
 */
export async function createDatacenterSimulation(
  workload: DatacenterWorkload,
  options: SimulateOptions = {},
): Promise<DatacenterSimulation> {
  if (options.seed !== undefined) workload = { ...workload, seed: options.seed };
  const detailedHosts = workload.datacenter.hostModel === "detailed";
  if (!detailedHosts && workload.policies.cpu !== undefined) {
    throw new WorkloadError(
      `Workload: policies.cpu: expected no CPU policy for fluid hosts (only "hostModel": "detailed" runs one), got ${
        JSON.stringify(workload.policies.cpu.use)
      }`,
    );
  }
  for (
    const domain of detailedHosts ? ["memory", "io"] as const : ["cpu", "memory", "io"] as const
  ) {
    if (options.policies?.[domain] !== undefined) {
      throw new WorkloadError(
        `Workload: policies.${domain}: expected only a placement policy${
          detailedHosts ? " and a CPU policy" : ""
        } for a ${workload.datacenter.hostModel} datacenter, got --${domain} ${
          options.policies[domain]!.use
        }`,
      );
    }
  }
  const model = buildModel(workload, options.readText);
  const endNs = workload.stopAt ?? model.curvesEndNs;
  const choice: PolicyChoice = options.policies?.placement ??
    workload.policies.placement ?? { use: DEFAULT_PLACEMENT };
  const load = (): Promise<LoadedPolicy> =>
    loadPolicy("placement", choice.use, {
      isolation: options.isolation,
      config: choice.config,
      sandbox: options.sandbox,
    });
  const kernel = new Kernel({
    seed: workload.seed,
    stopAtNs: endNs,
    stallNs: options.stallNs,
    fallback: loadFallback,
    onIncident: options.onIncident,
    logSink: options.logSink,
    restarts: options.restarts,
    reload: load,
  });
  // Detailed hosts read each VM's demand from the domain, which exists only later.
  let demand: (v: number) => number = () => 0;
  const detailed = detailedHosts
    ? await DetailedHosts.create(workload, model, {
      endNs,
      demand: (v) => demand(v),
      cpu: options.policies?.cpu,
    })
    : undefined;
  let loaded: LoadedPolicy;
  try {
    loaded = await load();
  } catch (error) {
    await detailed?.close();
    throw error;
  }
  const domain = new DatacenterDomain(kernel, new PolicySlot("placement", loaded), model, {
    spec: workload.datacenter,
    endNs,
    detailed,
  });
  demand = (v) => domain.demand(v);
  const placement: ReportPolicy = { ...loaded.info, ejected: false, restarts: 0 };
  const requested: Partial<Record<"placement" | "cpu", ReportPolicy>> = { placement };
  const simulation = new DatacenterSimulation(workload, kernel, domain, requested);
  try {
    await kernel.start({ placement: loaded });
  } catch (error) {
    await detailed?.close();
    await kernel.close();
    throw error;
  }
  // Every detailed host runs the same CPU policy: the first host's speaks for all.
  const cpu = detailed?.hosts[0]?.requested.cpu;
  if (cpu !== undefined) requested.cpu = cpu;
  if (domain.slot.underTest) {
    placement.config = domain.slot.info.config;
    placement.name = domain.slot.info.name;
  }
  return simulation;
}

/**
 * Runs a datacenter workload to the end and returns its report.
 *
 * @example
 * ```ts
 * import { simulateDatacenter } from "./simulation.ts";
 * import { parseDatacenter } from "./schema.ts";
 * const report = await simulateDatacenter(parseDatacenter({
 *   schema: "hyperhook.datacenter/v1", name: "idle",
 *   datacenter: {
 *     hostTypes: [{ id: "h", cores: 1, mips: 1000, ram: 1024, bandwidth: 1000,
 *       power: [50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100] }],
 *     hosts: [{ type: "h", count: 2 }],
 *     vmTypes: [{ id: "v", mips: 500, ram: 512, bandwidth: 100 }],
 *     vms: [{ type: "v", demand: { utilization: [0], interval: "1h" } }],
 *   },
 * }));
 * // One host holds the idle VM and draws its idle power; the other is off.
 * console.assert(Math.abs(report.datacenter!.energyKwh - 0.05) < 1e-12);
 * ```
 */
export async function simulateDatacenter(
  workload: DatacenterWorkload,
  options: SimulateOptions = {},
): Promise<Report> {
  const simulation = await createDatacenterSimulation(workload, options);
  try {
    await simulation.run();
    return simulation.report();
  } finally {
    await simulation.close();
  }
}
