/**
 * The decision log in words: each record `(domain, kind, atNs, a, b, c)` of the kernel's log as a
 * {@linkcode Decision} with named fields (the VM and vCPU by their ids, the pCPU, the slice, the
 * reason). `--log`, `--trace` and `diff` read a run this way; the binary log behind `eventsHash`
 * stays as it is.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import { CPU_LOG } from "../cpu/domain.ts";
import { MEMORY_LOG } from "../memory/domain.ts";
import { IO_LOG } from "../io/domain.ts";
import { STOP_REASONS } from "../protocol/ops.ts";
import type { Simulation } from "../simulation/mod.ts";
import type { SimulationParts } from "../simulation/build.ts";
import { internals } from "../simulation/internals.ts";

/** One decision the kernel applied, with named fields (absent fields do not apply). */
export interface Decision {
  /** Simulated time (ns). */
  atNs: number;
  /** `cpu`, `memory`, `io` or `kernel`. */
  domain: string;
  /**
   * What was decided: `run`, `stop`, `preempt`, `tick-preempt`, `timer-preempt`, `params`,
   * `remove` (cpu); `load`, `evict`, `target`, `remove` (memory); `start`, `seek`, `hold`,
   * `release`, `params` (io); `eject`, `swap` (kernel).
   */
  decision: string;
  /** The VM's id. */
  vm?: string;
  /** The vCPU's index in its VM. */
  vcpu?: number;
  /** The pCPU. */
  pcpu?: number;
  /** The slice given (ns), or null for none (run to block). */
  sliceNs?: number | null;
  /** Why a vCPU stopped (`slice`, `block`, `done`, `preempt`). */
  reason?: string;
  /** A disk request's id. */
  request?: number;
  /** The disk's id. */
  disk?: string;
  /** A cylinder (a head movement). */
  cylinder?: number;
  /** How long the disk is busy with it (ns). */
  serviceNs?: number;
  /** A memory frame. */
  frame?: number;
  /** A page of the VM. */
  page?: number;
  /** A balloon target (frames) or an I/O weight. */
  value?: number;
  /** The domain whose policy was ejected or swapped (kernel decisions). */
  affects?: string;
  /** The policy taking over (kernel `swap`). */
  policy?: string;
}

/** The fields of a {@linkcode Decision}, in the order of a CSV log's columns. */
export const DECISION_FIELDS: readonly (keyof Decision)[] = [
  "atNs",
  "domain",
  "decision",
  "vm",
  "vcpu",
  "pcpu",
  "sliceNs",
  "reason",
  "request",
  "disk",
  "cylinder",
  "serviceNs",
  "frame",
  "page",
  "value",
  "affects",
  "policy",
];

const DOMAINS = ["", "cpu", "memory", "io", "kernel", "placement"];
const CPU_NAMES: Record<number, string> = {
  [CPU_LOG.RUN]: "run",
  [CPU_LOG.STOP]: "stop",
  [CPU_LOG.PREEMPT]: "preempt",
  [CPU_LOG.TICK_PREEMPT]: "tick-preempt",
  [CPU_LOG.PARAMS]: "params",
  [CPU_LOG.REMOVE]: "remove",
  [CPU_LOG.TIMER_PREEMPT]: "timer-preempt",
};

/**
 * Names a run's records: vCPUs, VMs and disks by their ids, requests by their VM. Made from a
 * simulation; it reads the simulation when asked, so VMs added live are named too.
 */
export class DecisionNames {
  readonly #simulation: Simulation;
  /** The simulation's kernel and domains, which name what the records number. */
  readonly #parts: SimulationParts;
  /** Each request's VM index, as the I/O batches told (filled by `batches.ts`). */
  readonly requestVm: Map<number, number> = new Map();

  /** @param simulation The run whose records are named. */
  constructor(simulation: Simulation) {
    this.#simulation = simulation;
    this.#parts = internals(simulation);
  }

  /** The id of the VM with index `index`. */
  vm(index: number): string {
    return this.#parts.cpu.vms[index]?.id ?? `#${index}`;
  }

  /** The VM index and the index in it of the vCPU with global id `id`. */
  vcpu(id: number): { vm: number; index: number } {
    const vcpu = this.#parts.cpu.vcpus[id];
    return vcpu === undefined ? { vm: -1, index: id } : { vm: vcpu.vm.index, index: vcpu.index };
  }

  /** The id of disk `index`. */
  disk(index: number): string {
    return this.#parts.io?.disks[index]?.id ?? `#${index}`;
  }

  /** The name of the policy in charge of domain number `index` (the kernel's order). */
  policy(index: number): string {
    return this.#parts.kernel.domains[index]?.slot.info.name ?? `#${index}`;
  }

  /** How many pCPUs the host has. */
  get pcpus(): number {
    return this.#parts.cpu.pcpus.length;
  }

  /** The record `(domain, kind, atNs, a, b, c)` as a {@linkcode Decision}. */
  describe(domain: number, kind: number, atNs: number, a: number, b: number, c: number): Decision {
    const out: Decision = { atNs, domain: DOMAINS[domain] ?? String(domain), decision: "" };
    switch (domain) {
      case LOG.cpu:
        out.decision = CPU_NAMES[kind] ?? `kind-${kind}`;
        if (kind === CPU_LOG.RUN || kind === CPU_LOG.STOP) {
          const vcpu = this.vcpu(a);
          out.vm = this.vm(vcpu.vm);
          out.vcpu = vcpu.index;
          out.pcpu = b;
          if (kind === CPU_LOG.RUN) out.sliceNs = Number.isFinite(c) ? c : null;
          else out.reason = STOP_REASONS[c] ?? String(c);
        } else if (kind === CPU_LOG.PREEMPT) {
          const vcpu = this.vcpu(b);
          out.pcpu = a;
          out.vm = this.vm(vcpu.vm);
          out.vcpu = vcpu.index;
          out.reason = "wake";
        } else if (kind === CPU_LOG.TICK_PREEMPT || kind === CPU_LOG.TIMER_PREEMPT) {
          out.pcpu = a;
          out.reason = kind === CPU_LOG.TICK_PREEMPT ? "tick" : "timer";
        } else out.vm = this.vm(a);
        return out;
      case LOG.memory:
        out.decision = kind === MEMORY_LOG.LOAD
          ? "load"
          : kind === MEMORY_LOG.EVICT
          ? "evict"
          : kind === MEMORY_LOG.TARGET
          ? "target"
          : kind === MEMORY_LOG.REMOVE
          ? "remove"
          : `kind-${kind}`;
        if (kind === MEMORY_LOG.LOAD || kind === MEMORY_LOG.EVICT) {
          out.frame = a;
          out.vm = this.vm(b);
          out.page = c;
        } else {
          out.vm = this.vm(a);
          if (kind === MEMORY_LOG.TARGET) out.value = b;
        }
        return out;
      case LOG.io:
        switch (kind) {
          case IO_LOG.START: {
            out.decision = "start";
            out.request = a;
            const vm = this.requestVm.get(a);
            if (vm !== undefined) out.vm = this.vm(vm);
            out.disk = this.disk(b);
            out.serviceNs = c;
            return out;
          }
          case IO_LOG.SEEK:
            out.decision = "seek";
            out.disk = this.disk(a);
            out.cylinder = b;
            out.serviceNs = c;
            return out;
          case IO_LOG.HOLD:
          case IO_LOG.RELEASE:
            out.decision = kind === IO_LOG.HOLD ? "hold" : "release";
            out.request = a;
            out.vm = this.vm(b);
            if (kind === IO_LOG.HOLD) out.value = c;
            return out;
          case IO_LOG.PARAMS:
            out.decision = "params";
            out.vm = this.vm(a);
            out.value = b;
            return out;
        }
        out.decision = `kind-${kind}`;
        return out;
      case LOG.kernel:
        out.decision = kind === 1 ? "eject" : kind === 2 ? "swap" : `kind-${kind}`;
        out.affects = this.#parts.kernel.domains[a]?.name ?? String(a);
        if (kind === 2) out.policy = this.policy(a);
        return out;
    }
    out.decision = `kind-${kind}`;
    return out;
  }
}

/**
 * A decision in one line for people: `12ms cpu run a/0 on pCPU 1 (slice 4ms)`.
 *
 * @example
 * ```ts
 * import { formatDecision } from "./decisions.ts";
 * const line = formatDecision({ atNs: 4_000_000, domain: "cpu", decision: "run", vm: "P2", vcpu: 0, pcpu: 0, sliceNs: 4_000_000 });
 * console.assert(line === "4ms cpu run P2/0 on pCPU 0 (slice 4ms)");
 * ```
 */
export function formatDecision(decision: Decision): string {
  const parts = [formatNs(decision.atNs), decision.domain, decision.decision];
  if (decision.vm !== undefined) {
    parts.push(decision.vcpu === undefined ? decision.vm : `${decision.vm}/${decision.vcpu}`);
  }
  if (decision.pcpu !== undefined) parts.push(`on pCPU ${decision.pcpu}`);
  if (decision.request !== undefined) parts.push(`request ${decision.request}`);
  if (decision.disk !== undefined) parts.push(`disk ${decision.disk}`);
  if (decision.cylinder !== undefined) parts.push(`to cylinder ${decision.cylinder}`);
  if (decision.frame !== undefined) parts.push(`frame ${decision.frame}`);
  if (decision.page !== undefined) parts.push(`page ${decision.page}`);
  if (decision.value !== undefined) parts.push(`= ${decision.value}`);
  if (decision.affects !== undefined) parts.push(`of ${decision.affects}`);
  if (decision.policy !== undefined) parts.push(`to policy ${decision.policy}`);
  const notes: string[] = [];
  if (decision.sliceNs !== undefined) {
    notes.push(`slice ${decision.sliceNs === null ? "none" : formatNs(decision.sliceNs)}`);
  }
  if (decision.serviceNs !== undefined) notes.push(`busy ${formatNs(decision.serviceNs)}`);
  if (decision.reason !== undefined) notes.push(decision.reason);
  return parts.join(" ") + (notes.length > 0 ? ` (${notes.join(", ")})` : "");
}

/** A time in ns, shortest exact unit: `4ms`, `1.5s`, `250us`, `17ns`. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  for (const [unit, size] of [["s", 1e9], ["ms", 1e6], ["us", 1e3]] as const) {
    if (Math.abs(ns) >= size) {
      const value = ns / size;
      if (Number.isInteger(value * 1000)) return `${value}${unit}`;
    }
  }
  return `${ns}ns`;
}
