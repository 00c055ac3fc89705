/**
 * The composition root: a {@linkcode Simulation} is a kernel and its domains built from a
 * validated workload (`build.ts`), its VMs added one way (`vms.ts`), its policies loaded
 * (`loader.ts`); {@linkcode simulate} runs one to the end and returns its report.
 *
 * @module
 */

import type { CpuParamsSet } from "../cpu/domain.ts";
import type { CpuFigures } from "../cpu/figures.ts";
import type { IoParamsSet } from "../io/domain.ts";
import type { IoFigures } from "../io/figures.ts";
import { Kernel } from "../kernel/kernel.ts";
import type { Incident, LoadedPolicy, PolicyInfo } from "../kernel/slot.ts";
import type { MemoryParamsSet } from "../memory/domain.ts";
import type { MemoryFigures } from "../memory/figures.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Isolation } from "../protocol/runtime.ts";
import type { Report, ReportPolicy } from "../report/report.ts";
import { buildReport } from "../report/build.ts";
import type { ReplaySession } from "../sandbox/replay.ts";
import type { SandboxOptions } from "../sandbox/options.ts";
import { WorkloadError } from "../workload/error.ts";
import type { Workload } from "../workload/types.ts";
import { readTraceText } from "../workload/trace_file.ts";
import type { VmWorkload } from "../workload/types.ts";
import {
  buildDomains,
  domainModules,
  type LoadedPolicies,
  populate,
  type SimulationParts,
} from "./build.ts";
import { registerParts } from "./internals.ts";
import { isBuiltin, loadFallback, loadPolicy } from "./loader.ts";
import { addVm, type AddVmOptions } from "./vms.ts";

export { type AddVmOptions, normaliseSched, type VmRefusal } from "./vms.ts";
import { resolvePolicyChoice } from "../workload/policy_choice.ts";
import { mapStack, workingDir } from "../bundle/source_map.ts";

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
  /**
   * Type-check policies that are local files before the run starts (default false; the CLI's
   * `run` and `compare` turn it on, `--no-check` off).
   */
  typeCheck?: boolean;
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
  /**
   * Called once the simulation is built, before its policies start: `--trace`, `--log` and `diff`
   * attach to its decision log here (`core/observe/`). A run without it pays nothing.
   */
  observe?: (simulation: Simulation) => void;
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

/** A VM's parameters to change now (live control): the CPU's, its balloon target, its I/O. */
export interface VmChange {
  /** CPU parameters that change (`sched` durations in ns). */
  cpu?: CpuParamsSet;
  /** The balloon target (the VM must have memory activity). */
  memory?: MemoryParamsSet;
  /** I/O weight and limits (the host must have disks). */
  io?: IoParamsSet;
}

/**
 * A kernel built from a workload, ready to run (or running, for the live server). The kernel and
 * its domains are its own: what others need of them (figures, the policies in charge, adding,
 * changing and removing VMs) goes through its methods.
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
  /** The policies asked for, per domain: set when it is made and by {@linkcode swap}. */
  #requested: Partial<Record<Domain, ReportPolicy>>;
  #parts: SimulationParts;
  #started = performance.now();
  /** The replay sandbox of the run's `process` policies, if any. */
  #replay: ReplaySession | undefined;

  /**
   * Use {@linkcode createSimulation}.
   *
   * @ignore
   */
  constructor(
    workload: Workload,
    parts: SimulationParts,
    requested: Partial<Record<Domain, ReportPolicy>>,
    replay?: ReplaySession,
  ) {
    this.workload = workload;
    this.#requested = requested;
    this.#parts = parts;
    this.#replay = replay;
    registerParts(this, parts);
  }

  /** The current simulated time. */
  get nowNs(): number {
    return this.#parts.kernel.now;
  }

  /** When the run stops, if the workload fixes it. */
  get stopAtNs(): number | undefined {
    return this.#parts.kernel.stopAtNs;
  }

  /** Whether the run is over. */
  get ended(): boolean {
    return this.#parts.kernel.ended;
  }

  /** Every incident so far, in order. */
  get incidents(): readonly Incident[] {
    return this.#parts.kernel.incidents;
  }

  /** How many decisions the kernel logged so far. */
  get decisions(): number {
    return this.#parts.kernel.log.count;
  }

  /** The digest of the decisions so far (the log goes on): what `eventsHash` would be now. */
  peekHash(): string {
    return this.#parts.kernel.log.peek();
  }

  /** When the next event is due, or Infinity when none is queued. */
  nextEventNs(): number {
    return this.#parts.kernel.queue.peekTime();
  }

  /**
   * The policies asked for, per domain, as the report names them (a copy: the simulation keeps
   * its own, which only a {@linkcode swap} changes).
   */
  get requested(): Partial<Record<Domain, ReportPolicy>> {
    const copy: Partial<Record<Domain, ReportPolicy>> = {};
    for (const [domain, policy] of Object.entries(this.#requested) as [Domain, ReportPolicy][]) {
      copy[domain] = { ...policy };
    }
    return copy;
  }

  /** The policy in charge of each domain, in the order the domains settle. */
  policies(): { domain: Domain; info: PolicyInfo; underTest: boolean }[] {
    return this.#parts.domains.map((domain) => ({
      domain: domain.name,
      info: domain.slot.info,
      underTest: domain.slot.underTest,
    }));
  }

  /**
   * The domains' figures now (an internal API: for the live server and HTML reports).
   *
   * @ignore
   */
  figures(): SimulationFigures {
    const { kernel, cpu, memory, io } = this.#parts, now = kernel.now;
    return { cpu: cpu.figures(now), memory: memory?.figures(now), io: io?.figures(now) };
  }

  /**
   * The CPU domain's figures now (an internal API: for HTML reports).
   *
   * @ignore
   */
  cpuFigures(): CpuFigures {
    return this.#parts.cpu.figures(this.#parts.kernel.now);
  }

  /**
   * The index of the VM named `id` (removed ones too), or undefined.
   *
   * @param id The VM's name.
   */
  vmIndex(id: string): number | undefined {
    const index = this.#parts.cpu.vms.findIndex((vm) => vm.id === id);
    return index < 0 ? undefined : index;
  }

  /**
   * Adds a VM now (live control), checked in every domain before any changes. An internal API,
   * for the live server.
   *
   * @ignore
   * @param spec The VM's validated description.
   * @param options Where it sits, how its traces are read, how a refusal is said.
   * @returns Its index.
   */
  addVm(spec: VmWorkload, options: AddVmOptions): number {
    return addVm(this.#parts, spec, options);
  }

  /**
   * Changes a VM's parameters now (live control): each domain takes its part. An internal API,
   * for the live server.
   *
   * @ignore
   * @param index The VM's index.
   * @param change The CPU, memory and I/O parameters that change.
   * @throws {RangeError} When the VM has no memory activity, or a target is out of range.
   */
  setVmParams(index: number, change: VmChange): void {
    const { cpu, memory, io } = this.#parts;
    if (change.cpu !== undefined) cpu.setVmParams(index, change.cpu);
    if (change.memory !== undefined) memory?.setVmParams(index, change.memory);
    if (change.io !== undefined) io?.setVmParams(index, change.io);
  }

  /**
   * Removes a VM now (live control) from every domain; its index is never reused.
   *
   * @param index The VM's index.
   */
  removeVm(index: number): void {
    for (const domain of this.#parts.domains) domain.removeVm(index);
  }

  /**
   * Hands a domain to a new policy without a gap (see `Kernel.swap`); call it between runs. Once
   * the new policy is in charge, it is the one the report names as asked for.
   *
   * @param domain The domain.
   * @param loaded The new policy, loaded.
   */
  async swap(domain: Domain, loaded: LoadedPolicy): Promise<void> {
    await this.#parts.kernel.swap(domain, loaded);
    const info = this.#parts.domains.find((candidate) => candidate.name === domain)!.slot.info;
    this.#requested[domain] = { ...info, ejected: false, restarts: 0 };
  }

  /** Runs to the end (or to `limitNs`). */
  async run(limitNs?: number): Promise<void> {
    const advancing = this.#parts.kernel.advance(limitNs);
    if (advancing !== undefined) await advancing;
  }

  /** The report of the run so far. */
  report(): Report {
    const { kernel, cpu, memory, io } = this.#parts, now = kernel.now;
    for (const domain of kernel.domains) {
      const requested = this.#requested[domain.name];
      if (requested === undefined) continue;
      requested.ejected = kernel.incidents.some((incident) => incident.domain === domain.name);
      requested.restarts = kernel.restarts.get(domain.name) ?? 0;
    }
    return buildReport({
      workload: this.workload,
      simulatedNs: now,
      wallMs: Math.round(performance.now() - this.#started),
      policies: this.#requested,
      cpu: cpu.figures(now),
      memory: memory?.figures(now),
      io: io?.figures(now),
      incidents: kernel.incidents,
      eventsHash: kernel.log.digest(),
    });
  }

  /** Stops every policy runtime. */
  async close(): Promise<void> {
    // What sandboxed policies printed after their last answer comes first, at the run's end.
    await this.#replay?.close({ drain: this.#parts.kernel.ended });
    await this.#parts.kernel.close();
  }
}

/** The domains' figures at a moment. */
export interface SimulationFigures {
  /** The CPU domain's. */
  cpu: CpuFigures;
  /** The memory domain's, when the host has memory. */
  memory: MemoryFigures | undefined;
  /** The I/O domain's, when the host has disks. */
  io: IoFigures | undefined;
}

function choose(
  workload: Workload,
  options: SimulateOptions,
  domain: Exclude<Domain, "placement">,
): PolicyChoice | undefined {
  return resolvePolicyChoice(options.policies?.[domain], workload.policies[domain]);
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
  // The replay sandbox (and its bundler, codec and watchdog) is loaded only for a run that may need it.
  const replay = options.replay === false || options.loadPolicy !== undefined ||
      !mayRunInProcess(workload, options)
    ? undefined
    : new (await import("../sandbox/replay.ts")).ReplaySession(workload, options);
  try {
    return await build(workload, options, replay);
  } catch (error) {
    // A sandbox launched for a run that cannot start is not left behind.
    await replay?.close();
    throw error;
  }
}

/** Whether a policy of the run may run in `process`: not when every one is a built-in in `none`. */
function mayRunInProcess(workload: Workload, options: SimulateOptions): boolean {
  if (options.isolation !== undefined) return options.isolation === "process";
  return (["cpu", "memory", "io"] as const).some((domain) => {
    const choice = choose(workload, options, domain);
    return choice !== undefined && !isBuiltin(domain, choice.use);
  });
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
      typeCheck: options.typeCheck,
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
    mapStack: (stack, sha256) => mapStack(stack, sha256, workingDir()),
    logSink: options.logSink,
    restarts: options.restarts,
    reload: (domain) => load(domain, chosen[domain]!),
  });
  const cpuChoice = choose(workload, options, "cpu") ?? { use: "rr" };
  const loaded: LoadedPolicies = { cpu: await load("cpu", cpuChoice) };
  const memoryChoice = choose(workload, options, "memory");
  if (workload.host.memory !== undefined) {
    loaded.memory = await load("memory", memoryChoice ?? { use: "lru" });
  } else if (memoryChoice !== undefined) {
    throw new WorkloadError(
      `Workload: host.memory.frames: expected a positive integer for the memory policy ${memoryChoice.use}, got nothing`,
    );
  }
  const ioChoice = choose(workload, options, "io");
  if ((workload.host.disks ?? []).length > 0) {
    loaded.io = await load("io", ioChoice ?? { use: "fcfs" });
  } else if (ioChoice !== undefined) {
    throw new WorkloadError(
      `Workload: host.disks: expected at least one disk for the I/O policy ${ioChoice.use}, got nothing`,
    );
  }
  const readFile = options.readText ?? ((path: string) => readTraceText(path));
  // The replay sandbox reads no file: it is sent what was read here.
  const readText = replay?.recording(readFile) ?? readFile;
  // The memory and I/O domains' modules are loaded only for a workload that has them.
  const parts = buildDomains(kernel, workload, loaded, readText, await domainModules(workload));
  populate(parts, workload, readText);
  const requested: Partial<Record<Domain, ReportPolicy>> = {};
  for (const [domain, policy] of Object.entries(loaded) as [Domain, LoadedPolicy][]) {
    requested[domain] = { ...policy.info, ejected: false, restarts: 0 };
  }
  const simulation = new Simulation(workload, parts, requested, replay);
  options.observe?.(simulation);
  try {
    await kernel.start(loaded);
  } catch (error) {
    await kernel.close();
    throw error;
  }
  for (const domain of kernel.domains) {
    // A policy under test reports the name and config the test kit gave it.
    const policy = requested[domain.name];
    if (policy !== undefined && domain.slot.underTest) {
      policy.config = domain.slot.info.config;
      policy.name = domain.slot.info.name;
    }
  }
  return simulation;
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
