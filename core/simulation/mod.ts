/**
 * Running a workload: build a kernel and its domains from a validated workload, load the policies,
 * run, and write the report.
 *
 * @module
 */

import { CpuDomain } from "../cpu/domain.ts";
import type { CpuFigures } from "../cpu/figures.ts";
import { MemoryDomain, memoryOnlyCpu } from "../memory/domain.ts";
import { buildIoDomain } from "../io/build.ts";
import type { IoDomain } from "../io/domain.ts";
import { parseDuration } from "../engine/duration.ts";
import { buildProgram } from "../cpu/programs.ts";
import { Kernel } from "../kernel/kernel.ts";
import { type Incident, type LoadedPolicy, PolicySlot } from "../kernel/slot.ts";
import { loadFallback, loadPolicy } from "./loader.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Report, ReportPolicy } from "../report/report.ts";
import { buildReport } from "../report/build.ts";
import type { Isolation } from "../protocol/runtime.ts";
import { ReplaySession } from "../sandbox/replay.ts";
import type { SandboxOptions } from "../sandbox/options.ts";
import { WorkloadError } from "../workload/load.ts";
import { HOST_CPU_DEFAULTS, type Workload } from "../workload/schema.ts";
import { readTraceText } from "../workload/trace_file.ts";

/** A policy choice: a reference and its config. */
export interface PolicyChoice {
  /** A built-in name, a path, or an `npm:`, `https:` or `jsr:` specifier. */
  use: string;
  /** Its configuration. */
  config?: Record<string, unknown>;
}

/** Options of a simulation. */
export interface SimulateOptions {
  /** Policies that override the workload's (CLI flags win). */
  policies?: Partial<Record<Domain, PolicyChoice>>;
  /** Where to run policies; default: `none` for built-ins, `process` for the rest. */
  isolation?: Isolation;
  /** Heap cap, deadlines and message cap of sandboxed policies. */
  sandbox?: SandboxOptions;
  /** How many times to restart an ejected policy under test, with back-off (default 0). */
  restarts?: number;
  /** Overrides the workload's seed. */
  seed?: number;
  /** The watchdog timeout (default 30 s of simulated time). */
  stallNs?: number;
  /** Called at each incident. */
  onIncident?: (incident: Incident) => void;
  /** Receives the decision log as text. */
  logSink?: (line: string) => void;
  /** Reads trace files (default: `readTraceText`, regular files within a size limit). */
  readText?: (path: string) => string;
  /**
   * Whether `process` policies run beside a copy of the kernel in their sandbox, the kernel
   * replaying and checking their answers (default true; see `sandbox/replay.ts`). False keeps
   * them in per-batch mode (`process-rpc`), as the live server does: its outside inputs (HTTP
   * changes, swaps) would never reach the sandbox's copy.
   */
  replay?: boolean;
  /**
   * Loads the policies in place of the loader (the replay sandbox's copy of the kernel loads the
   * bundles it was sent this way).
   *
   * @ignore
   */
  loadPolicy?: (domain: Domain, choice: PolicyChoice) => Promise<LoadedPolicy>;
}

/**
 * A kernel built from a workload, ready to run (or running, for the live server).
 *
 * @example
 * ```ts
 * import { createSimulation } from "./mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 *
 * const simulation = await createSimulation(parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "one", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
 * }));
 * await simulation.run();
 * await simulation.close();
 * console.assert(simulation.report().vms[0]!.cpu.runNs === 5_000_000);
 * ```
 */
export class Simulation {
  /** The workload. */
  readonly workload: Workload;
  /**
   * The kernel (an internal API: for the live server, benches and tests).
   *
   * @ignore
   */
  readonly kernel: Kernel;
  /**
   * The CPU domain (an internal API: for the live server, benches and tests).
   *
   * @ignore
   */
  readonly cpu: CpuDomain;
  /**
   * The memory domain, when the workload has memory (an internal API, like `cpu`).
   *
   * @ignore
   */
  memory: MemoryDomain | undefined;
  /**
   * The I/O domain, when the host has disks (an internal API, like `cpu`).
   *
   * @ignore
   */
  io: IoDomain | undefined;
  /** The policies asked for, per domain. */
  readonly requested: Partial<Record<Domain, ReportPolicy>> = {};
  #started = performance.now();
  /** The replay sandbox of the run's `process` policies, if any. */
  #replay: ReplaySession | undefined;

  /**
   * Use {@linkcode createSimulation}.
   *
   * @ignore
   */
  constructor(workload: Workload, kernel: Kernel, cpu: CpuDomain, replay?: ReplaySession) {
    this.workload = workload;
    this.kernel = kernel;
    this.cpu = cpu;
    this.#replay = replay;
  }

  /** The current simulated time. */
  get nowNs(): number {
    return this.kernel.now;
  }

  /** When the run stops, if the workload fixes it. */
  get stopAtNs(): number | undefined {
    return this.kernel.stopAtNs;
  }

  /** Whether the run is over. */
  get ended(): boolean {
    return this.kernel.ended;
  }

  /**
   * The CPU domain's figures now (an internal API: for the live server and HTML reports).
   *
   * @ignore
   */
  cpuFigures(): CpuFigures {
    return this.cpu.figures(this.kernel.now);
  }

  /** Runs to the end (or to `limitNs`). */
  async run(limitNs?: number): Promise<void> {
    const advancing = this.kernel.advance(limitNs);
    if (advancing !== undefined) await advancing;
  }

  /** The report of the run so far. */
  report(): Report {
    const kernel = this.kernel, now = kernel.now;
    for (const domain of kernel.domains) {
      const requested = this.requested[domain.name];
      if (requested === undefined) continue;
      requested.ejected = kernel.incidents.some((incident) => incident.domain === domain.name);
      requested.restarts = kernel.restarts.get(domain.name) ?? 0;
    }
    return buildReport({
      workload: this.workload,
      simulatedNs: now,
      wallMs: Math.round(performance.now() - this.#started),
      policies: this.requested,
      cpu: this.cpu.figures(now),
      memory: this.memory?.figures(),
      io: this.io?.figures(now),
      incidents: kernel.incidents,
      eventsHash: kernel.log.digest(),
    });
  }

  /** Stops every policy runtime. */
  async close(): Promise<void> {
    // What sandboxed policies printed after their last answer comes first, at the run's end.
    await this.#replay?.close({ drain: this.kernel.ended });
    await this.kernel.close();
  }
}

function choose(
  workload: Workload,
  options: SimulateOptions,
  domain: Exclude<Domain, "placement">,
): PolicyChoice | undefined {
  return options.policies?.[domain] ?? workload.policies[domain];
}

/**
 * Builds a simulation from a validated workload and starts its policies.
 *
 * @throws {WorkloadError} When the workload cannot run (unreadable trace, forever without stopAt).
 * @throws {import("./loader.ts").PolicyReferenceError} For an unknown policy.
 * @throws {import("../kernel/kernel.ts").PolicyConfigError} When a policy refuses its config.
 *
 * @example
 * ```ts
 * import { createSimulation } from "./mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 *
 * const simulation = await createSimulation(parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "two", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }, { id: "b", cpu: { program: [{ run: "5ms" }] } }],
 * }));
 * try {
 *   await simulation.run(3_000_000); // the first 3 ms
 *   console.assert(simulation.report().simulatedNs === 3_000_000);
 *   await simulation.run(); // the rest
 *   console.assert(simulation.report().vms[1]!.cpu.finishNs === 10_000_000);
 * } finally {
 *   await simulation.close();
 * }
 * ```
 */
export async function createSimulation(
  workload: Workload,
  options: SimulateOptions = {},
): Promise<Simulation> {
  if (options.seed !== undefined) workload = { ...workload, seed: options.seed };
  const replay = options.replay === false || options.loadPolicy !== undefined
    ? undefined
    : new ReplaySession(workload, options);
  try {
    return await build(workload, options, replay);
  } catch (error) {
    // A sandbox launched for a run that cannot start is not left behind.
    await replay?.close();
    throw error;
  }
}

async function build(
  workload: Workload,
  options: SimulateOptions,
  replay: ReplaySession | undefined,
): Promise<Simulation> {
  // Every domain's policy goes through `load`, which remembers the choice for restarts.
  const chosen: Partial<Record<Domain, PolicyChoice>> = {};
  const load = async (domain: Domain, choice: PolicyChoice): Promise<LoadedPolicy> => {
    chosen[domain] = choice;
    if (options.loadPolicy !== undefined) return await options.loadPolicy(domain, choice);
    const loaded = await loadPolicy(domain, choice.use, {
      isolation: options.isolation,
      config: choice.config,
      sandbox: options.sandbox,
      replay,
    });
    replay?.loaded(domain, loaded.runtime);
    return loaded;
  };
  const kernel = new Kernel({
    seed: workload.seed,
    stopAtNs: workload.stopAt,
    stallNs: options.stallNs,
    fallback: loadFallback,
    onIncident: options.onIncident,
    logSink: options.logSink,
    restarts: options.restarts,
    reload: (domain) => load(domain, chosen[domain]!),
  });
  const cpuChoice = choose(workload, options, "cpu") ?? { use: "rr" };
  const loaded: Partial<Record<Domain, LoadedPolicy>> = {};
  loaded.cpu = await load("cpu", cpuChoice);
  const cpu = new CpuDomain(
    kernel,
    new PolicySlot("cpu", loaded.cpu),
    workload.host.pcpus,
    workload.host.cpu ?? HOST_CPU_DEFAULTS,
  );
  const memoryChoice = choose(workload, options, "memory");
  let memory: MemoryDomain | undefined;
  if (workload.host.memory !== undefined) {
    loaded.memory = await load("memory", memoryChoice ?? { use: "lru" });
    const slot = new PolicySlot("memory", loaded.memory);
    memory = new MemoryDomain(kernel, slot, cpu, workload.host.memory);
  } else if (memoryChoice !== undefined) {
    throw new WorkloadError(
      `Workload: host.memory.frames: expected a positive integer for the memory policy ${memoryChoice.use}, got nothing`,
    );
  }
  const readFile = options.readText ?? ((path: string) => readTraceText(path));
  // The replay sandbox reads no file: it is sent what was read here.
  const readText = replay?.recording(readFile) ?? readFile;
  const vmIndex = new Map<string, number>();
  workload.vms.forEach((vm, index) => {
    let program;
    if (vm.cpu === undefined && vm.memory !== undefined && workload.stopAt === undefined) {
      if (vm.memory.refs === undefined && vm.memory.count === undefined) {
        throw new WorkloadError(
          `Workload: stopAt: expected a duration such as "10s", because vms[${index}] (${vm.id}) references memory forever (memory.pattern "${vm.memory.pattern}" without "count")`,
        );
      }
    }
    try {
      const cpuSpec = vm.cpu ??
        (vm.memory === undefined ? undefined : memoryOnlyCpu(vm.memory, vm.vcpus));
      program = buildProgram(cpuSpec, readText);
    } catch (error) {
      const place = vm.cpu?.trace !== undefined ? `vms[${index}].cpu.trace` : `vms[${index}].cpu`;
      throw new WorkloadError(`Workload: ${place}: ${(error as Error).message}`);
    }
    if (program !== null && !program.finite && workload.stopAt === undefined) {
      throw new WorkloadError(
        `Workload: stopAt: expected a duration such as "10s", because vms[${index}] (${vm.id}) runs forever (${program.label})`,
      );
    }
    vmIndex.set(vm.id, index);
    const cpuVm = cpu.addVm(
      vm.id,
      vm.vcpus,
      { weight: vm.weight, cap: vm.cap, priority: vm.priority, sched: normaliseSched(vm.sched) },
      program,
      vm.cpu?.arrive ?? 0,
    );
    if (vm.memory !== undefined) memory!.addVm(cpuVm, vm.memory, `vms[${index}].memory`);
  });
  for (const change of workload.timeline) {
    // The CPU's part here; a change of memory or I/O alone leaves the CPU's parameters be.
    const { memory: memorySet, io: ioSet, ...cpuSet } = change.set;
    if (Object.keys(cpuSet).length === 0 && (memorySet ?? ioSet) !== undefined) continue;
    const set = { ...cpuSet, sched: cpuSet.sched && normaliseSched(cpuSet.sched) };
    if (set.sched === undefined) delete set.sched;
    cpu.scheduleParams(change.at, vmIndex.get(change.vm)!, set);
  }
  const ioChoice = choose(workload, options, "io");
  let io: IoDomain | undefined;
  if ((workload.host.disks ?? []).length > 0) {
    loaded.io = await load("io", ioChoice ?? { use: "fcfs" });
    io = buildIoDomain(kernel, new PolicySlot("io", loaded.io), workload, { cpu, readText });
  } else if (ioChoice !== undefined) {
    throw new WorkloadError(
      `Workload: host.disks: expected at least one disk for the I/O policy ${ioChoice.use}, got nothing`,
    );
  }
  // The memory and I/O parts, each an event of its domain at `at`, pushed after the CPU's (the
  // order of events stays total). The schema refuses them without a memory section or disks.
  workload.timeline.forEach((change, i) => {
    const { memory: memorySet, io: ioSet } = change.set, index = vmIndex.get(change.vm)!;
    if (memorySet !== undefined) {
      if (memory?.vms[index] === undefined) {
        throw new WorkloadError(
          `Workload: timeline[${i}].set.memory: expected a VM with a "memory" section, got VM "${change.vm}", which has none`,
        );
      }
      const target = memorySet.target;
      if (!(Number.isInteger(target) && target >= 0 && target <= memory.frames)) {
        throw new WorkloadError(
          `Workload: timeline[${i}].set.memory.target: expected at most ${memory.frames} frames (host.memory.frames), got ${target}`,
        );
      }
      memory.scheduleTarget(change.at, index, target);
    }
    if (ioSet !== undefined) {
      if (io === undefined) {
        throw new WorkloadError(
          `Workload: timeline[${i}].set.io: expected a host with disks for an I/O change, got no host.disks`,
        );
      }
      io.scheduleVmParams(change.at, index, ioSet);
    }
  });
  const simulation = new Simulation(workload, kernel, cpu, replay);
  simulation.memory = memory;
  simulation.io = io;
  for (const [domain, policy] of Object.entries(loaded) as [Domain, LoadedPolicy][]) {
    simulation.requested[domain] = { ...policy.info, ejected: false, restarts: 0 };
  }
  try {
    await kernel.start(loaded);
  } catch (error) {
    await kernel.close();
    throw error;
  }
  for (const domain of kernel.domains) {
    const requested = simulation.requested[domain.name];
    if (requested !== undefined && domain.slot.underTest) {
      requested.config = domain.slot.info.config;
      requested.name = domain.slot.info.name;
    }
  }
  return simulation;
}

/** Turns duration strings in `sched` parameters into ns, so policies get numbers. */
export function normaliseSched(sched: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sched)) out[key] = parseDuration(value) ?? value;
  return out;
}

/**
 * Runs a workload to the end and returns its report.
 *
 * @example
 * ```ts
 * import { simulate } from "./mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 * const report = await simulate(parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "fcfs", host: { pcpus: 1 },
 *   policies: { cpu: { use: "fcfs" } },
 *   vms: [24, 3, 3].map((ms, i) => ({ id: `P${i + 1}`, cpu: { program: [{ run: `${ms}ms` }] } })),
 * }));
 * console.assert(report.vms[2]!.cpu.waitNs === 27_000_000);
 * ```
 */
export async function simulate(workload: Workload, options: SimulateOptions = {}): Promise<Report> {
  const simulation = await createSimulation(workload, options);
  try {
    await simulation.run();
    return simulation.report();
  } finally {
    await simulation.close();
  }
}
