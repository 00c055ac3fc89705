/**
 * The changes the control API makes to a running simulation's VMs and policies: change a VM's
 * parameters, add a VM, remove one, hand a domain to another policy. Every check comes before any
 * change, so a refused request changes nothing; each domain takes its part through the
 * simulation, which is the only way in.
 *
 * @module
 */

import { join } from "node:path";
import { PolicyConfigError } from "../kernel/kernel.ts";
import type { LoadedPolicy, PolicyInfo } from "../kernel/slot.ts";
import type { Domain } from "../protocol/definition.ts";
import type { VmParams } from "../protocol/payloads.ts";
import { PolicyFailure } from "../protocol/runtime.ts";
import { loadPolicy, PolicyReferenceError } from "../simulation/loader.ts";
import { normaliseSched, type Simulation } from "../simulation/mod.ts";
import type { CpuVmFigures } from "../cpu/figures.ts";
import { readTraceText, resolveDataPath, TraceFileError } from "../workload/trace_file.ts";
import type { Isolation } from "../protocol/runtime.ts";
import type { VmWorkload } from "../workload/types.ts";
import { planPolicy, type PolicyPlan, PolicyRuleError } from "./_policy_rules.ts";
import { bound } from "./_redact.ts";
import { ControlError, noDomain, withoutContent } from "./errors.ts";
import type { AuditEntry } from "./persistence.ts";
import type { PolicyRequest, VmPatchRequest } from "./schemas.ts";

/** Bounds on what the API may add, so no client can make the kernel crawl. */
const MAX_VMS = 4096, MAX_VCPUS = 16384;
/** What a policy posted as `source` is called in the state and the audit log. */
const POSTED_SOURCE = "posted source";
/** How much of a policy's own text (a message it threw at load or start) an answer quotes. */
const POLICY_TEXT_CHARS = 300;

/** Options of {@linkcode Mutations}. */
export interface MutationsOptions {
  /** The isolation the server was started with (what the policy rules allow depends on it). */
  isolation?: Isolation;
  /** The folder trace files named by clients must lie in; without one, traces are refused. */
  dataDir?: string;
  /** The largest trace file read, in bytes. */
  maxTraceBytes?: number;
  /** Called with warnings (a replayed swap whose policy changed since). */
  onWarning?: (message: string) => void;
}

/**
 * The VM and policy mutations of a live simulation (call them inside the kernel's queue).
 *
 * @example
 * ```ts ignore
 * import { Mutations } from "./mutations.ts";
 *
 * const mutations = new Mutations(simulation, {});
 * mutations.patchVm("web-1", { weight: 512 });
 * ```
 */
export class Mutations {
  #simulation: Simulation;
  #options: MutationsOptions;
  #sourceDir: string | undefined;

  /**
   * @param simulation The simulation changed.
   * @param options Isolation, data folder, trace size limit, warnings.
   */
  constructor(simulation: Simulation, options: MutationsOptions) {
    this.#simulation = simulation;
    this.#options = options;
  }

  /** The folder posted policy source is written to while it is bundled, once made. */
  get sourceDir(): string | undefined {
    return this.#sourceDir;
  }

  /**
   * The figures of the VM named `id`, which is in the kernel and not removed.
   *
   * @param id The VM's id.
   * @throws {ControlError} 404 `not_found`.
   */
  findVm(id: string): CpuVmFigures {
    const index = this.#simulation.vmIndex(id);
    const vm = index === undefined ? undefined : this.#simulation.figures().cpu.vms[index];
    if (vm === undefined || vm.removedNs !== null) {
      throw new ControlError(404, "not_found", `No VM "${id}" in this kernel`);
    }
    return vm;
  }

  /**
   * Changes a VM's parameters: the CPU's, its balloon target, its I/O.
   *
   * @param id The VM's id.
   * @param patch The parameters that change.
   * @throws {ControlError} When the VM is unknown, or a part has no domain or is out of range.
   */
  patchVm(id: string, patch: VmPatchRequest): void {
    const vm = this.findVm(id), simulation = this.#simulation;
    const { memory, io } = simulation.figures();
    // Every check before any change: a refused patch changes nothing.
    if (patch.memory !== undefined) {
      if (memory === undefined) throw noDomain("memory");
      if (memory.vms[vm.index] === undefined) {
        throw new ControlError(
          409,
          "no_memory",
          `VM "${id}" has no memory activity (no "memory" section), so it has no target to set`,
        );
      }
      const target = patch.memory.target, frames = memory.host.frames;
      if (target !== undefined && target > frames) {
        throw new ControlError(
          400,
          "invalid",
          `Body: memory.target: expected at most the host's ${frames} frames, got ${target}`,
        );
      }
    }
    if (patch.io !== undefined && io === undefined) throw noDomain("io");
    const set: Partial<Omit<VmParams, "index">> = {};
    if (patch.weight !== undefined) set.weight = patch.weight;
    if (patch.cap !== undefined) set.cap = patch.cap;
    if (patch.priority !== undefined) set.priority = patch.priority;
    if (patch.sched !== undefined) {
      set.sched = { ...vm.params.sched, ...normaliseSched(patch.sched) };
    }
    simulation.setVmParams(vm.index, {
      cpu: Object.keys(set).length > 0 ? set : undefined,
      memory: patch.memory?.target === undefined ? undefined : { target: patch.memory.target },
      io: patch.io,
    });
  }

  /**
   * Adds a VM, arriving `cpu.arrive` from now. Every check, trace reads included, comes before
   * any domain changes: a refused VM leaves no trace (its id is not taken, its index not used,
   * and nothing is logged).
   *
   * @param spec The VM, validated.
   * @throws {ControlError} When the kernel is full, the id was used, a domain is missing, or the
   *   VM cannot run.
   */
  addVm(spec: VmWorkload): void {
    const simulation = this.#simulation, figures = simulation.figures();
    const vcpus = figures.cpu.vms.reduce((sum, vm) => sum + vm.vcpus, 0);
    if (figures.cpu.vms.length >= MAX_VMS || vcpus + spec.vcpus > MAX_VCPUS) {
      throw new ControlError(
        409,
        "too_large",
        `This kernel holds at most ${MAX_VMS} VMs and ${MAX_VCPUS} vCPUs (removed ones count)`,
      );
    }
    if (simulation.vmIndex(spec.id) !== undefined) {
      throw new ControlError(
        409,
        "conflict",
        `A VM "${spec.id}" exists or existed in this kernel: VM ids are never reused`,
      );
    }
    if (spec.memory !== undefined && figures.memory === undefined) throw noDomain("memory");
    if (spec.io !== undefined && figures.io === undefined) throw noDomain("io");
    simulation.addVm(spec, {
      place: "body",
      memoryPlace: "memory",
      readText: (path) => this.#readClientTrace(path),
      refuse: (refusal) => {
        if (refusal.field === "cpu") {
          return new ControlError(400, "invalid", `Body: cpu: ${withoutContent(refusal.error)}`);
        }
        if (refusal.field === "stopAt") {
          return new ControlError(
            400,
            "invalid",
            "Body: cpu: this VM runs forever, and the workload has no stopAt to end the run",
          );
        }
        const message = withoutContent(refusal.error).replace(/^Workload: body\./, "");
        return new ControlError(400, "invalid", `Body: ${message.replace(/^Workload: /, "io: ")}`);
      },
    });
  }

  /**
   * Removes a VM for good.
   *
   * @param id The VM's id.
   * @returns Its id and when it was removed.
   * @throws {ControlError} 404 `not_found`.
   */
  removeVm(id: string): { id: string; removedNs: number } {
    const vm = this.findVm(id);
    this.#simulation.removeVm(vm.index);
    return { id: vm.id, removedNs: this.#simulation.nowNs };
  }

  /**
   * Hands a domain to another policy without a gap; the old one stays if the new one fails.
   * Sets `entry.note` with the new policy's sha256, which a replay compares.
   *
   * @param entry The `policy.swap` mutation: the domain and the request.
   * @param replaying Whether it is replayed from the audit log.
   * @throws {ControlError} When the domain is missing, the rules refuse the policy, or it fails
   *   to load or start.
   */
  async swap(
    entry: AuditEntry,
    replaying: boolean,
  ): Promise<{ domain: string; policy: PolicyInfo }> {
    const name = entry.target as Domain, request = entry.body as PolicyRequest;
    const simulation = this.#simulation;
    const inCharge = () => simulation.policies().find((policy) => policy.domain === name);
    const domain = inCharge();
    if (domain === undefined) {
      throw new ControlError(
        409,
        "no_domain",
        `This kernel has no ${name} domain (the workload's host defines none)`,
      );
    }
    let plan;
    try {
      plan = planPolicy(name, request, this.#options.isolation);
    } catch (error) {
      if (error instanceof PolicyRuleError) {
        throw new ControlError(400, "refused", `Body: ${error.message}`);
      }
      throw error;
    }
    const loaded = await this.#load(name, request, plan);
    const old = domain.info.name;
    try {
      await simulation.swap(name, loaded);
    } catch (error) {
      if (error instanceof PolicyConfigError) {
        throw new ControlError(400, "invalid_config", `${error.message}; ${old} keeps running`);
      }
      const reason = error instanceof PolicyFailure ? `${error.kind}/${error.reason}: ` : "";
      throw new ControlError(
        409,
        "policy_failed",
        `The new ${name} policy failed to start (${reason}${
          bound(String((error as Error)?.message), POLICY_TEXT_CHARS)
        }); ${old} keeps running`,
      );
    }
    // The simulation now names it as the policy asked for.
    const info = inCharge()!.info;
    if (replaying && typeof entry.note?.sha256 === "string" && entry.note.sha256 !== info.sha256) {
      this.#options.onWarning?.(
        `Replay of mutation ${entry.seq}: policy ${info.reference} has changed since (sha256 ${info.sha256}, was ${entry.note.sha256})`,
      );
    }
    entry.note = { sha256: info.sha256 };
    return { domain: name, policy: info };
  }

  /** Removes the folder of posted source, if one was made. */
  async close(): Promise<void> {
    if (this.#sourceDir !== undefined) {
      await Deno.remove(this.#sourceDir, { recursive: true }).catch(() => {});
    }
  }

  /**
   * Reads a trace file a client named (`POST /v1/vms`): only inside the data folder, a regular
   * file within the size limit. Messages name the path as the client sent it.
   */
  #readClientTrace(path: string): string {
    try {
      return readTraceText(resolveDataPath(this.#options.dataDir, path), {
        maxBytes: this.#options.maxTraceBytes,
      });
    } catch (error) {
      if (error instanceof TraceFileError) throw new TraceFileError(path, error.reason);
      throw error;
    }
  }

  /**
   * Loads a policy the rules allowed. Posted source is written to a file of its own (the bundler
   * reads modules from files), bundled as untrusted code, and the file removed at once: nothing
   * the client could name stays behind, and the policy's reference is `posted source`.
   */
  async #load(name: Domain, request: PolicyRequest, plan: PolicyPlan): Promise<LoadedPolicy> {
    const options = {
      isolation: plan.isolation,
      config: request.config,
      untrusted: plan.untrusted,
    };
    let folder: string | undefined;
    try {
      if (plan.use !== undefined) return await loadPolicy(name, plan.use, options);
      this.#sourceDir ??= await Deno.makeTempDir({ prefix: "hyperhook-sources-" });
      folder = await Deno.makeTempDir({ dir: this.#sourceDir });
      const path = join(folder, "policy.ts");
      await Deno.writeTextFile(path, request.source!);
      const loaded = await loadPolicy(name, path, options);
      loaded.info = { ...loaded.info, name: POSTED_SOURCE, reference: POSTED_SOURCE };
      return loaded;
    } catch (error) {
      const message = error instanceof PolicyReferenceError
        ? error.message
        : `Policy: ${(error as Error)?.message}`;
      throw new ControlError(400, "invalid_policy", bound(message, POLICY_TEXT_CHARS));
    } finally {
      if (folder !== undefined) await Deno.remove(folder, { recursive: true }).catch(() => {});
    }
  }
}
