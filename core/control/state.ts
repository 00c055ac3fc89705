/**
 * What a live kernel shows: the state `GET /v1/state` answers with, kept as a snapshot the pacing
 * loop refreshes inside the kernel's queue (so reads never wait for the kernel), the samples SSE
 * clients get several times a second, and the feed that sends them.
 *
 * @module
 */

import type { CpuFigures } from "../cpu/figures.ts";
import type { Incident, PolicyInfo } from "../kernel/slot.ts";
import type { Simulation, SimulationFigures } from "../simulation/mod.ts";
import { LiveHistory, type LiveHistoryView } from "./_history.ts";

/** Someone listening to a live kernel's events (an SSE client). */
export interface LiveSubscriber {
  /** Receives one event. */
  send(event: string, data: unknown): void;
  /** The kernel is shutting down: end the stream. */
  close(): void;
}

/** A VM in the live state. */
export interface LiveVm {
  /** Its id. */
  id: string;
  /** Its index (stable; never reused). */
  index: number;
  /** How many vCPUs. */
  vcpus: number;
  /** vCPUs by status (`running`, `ready`, `blocked`, `new`, `done`). */
  status: Record<string, number>;
  /** Weight, cap, priority and policy-specific parameters. */
  params: { weight: number; cap: number; priority: number; sched: Record<string, unknown> };
  /** Whether it has arrived. */
  arrived: boolean;
  /** When it finished, or null. */
  finishNs: number | null;
  /** When it was removed, or null. */
  removedNs: number | null;
  /** CPU figures so far. */
  cpu: {
    runNs: number;
    waitNs: number;
    switches: number;
    share: number;
    recentShare: number;
    latencyNs: { p50: number; p99: number; max: number };
  };
  /** Memory figures (refs, faults, resident frames, target), when it has memory activity. */
  memory?: Record<string, unknown>;
  /** I/O figures (requests, completed, bytes, latency), when the host has disks. */
  io?: Record<string, unknown>;
}

/** The state `GET /v1/state` answers with. */
export interface LiveState {
  /** The workload's name. */
  workload: string;
  /** The seed. */
  seed: number;
  /** Simulated time (ns). */
  nowNs: number;
  /** When the run stops, or null. */
  stopAtNs: number | null;
  /** Whether the run is over. */
  ended: boolean;
  /** Whether the clock is paused. */
  paused: boolean;
  /** Simulated seconds per wall-clock second, or `"max"`. */
  speed: number | "max";
  /** How far the clock is behind its pace (ns). */
  lagNs: number;
  /** Decisions logged so far. */
  decisions: number;
  /** Acknowledged mutations so far. */
  mutations: number;
  /** The policy in charge of each domain. */
  policies: Record<string, PolicyInfo & { underTest: boolean }>;
  /** The VMs (removed ones included, with `removedNs`). */
  vms: LiveVm[];
  /** The pCPUs. */
  pcpus: {
    index: number;
    vm: string | null;
    busyNs: number;
    utilization: number;
    recentUtilization: number;
  }[];
  /** Other domains' figures, when the kernel has them. */
  domains: Record<string, unknown>;
  /** Every incident so far. */
  incidents: Incident[];
  /** Where state is kept, or null. */
  stateDir: string | null;
  /** Wall-clock time of the snapshot (ms since the epoch). */
  takenAtMs: number;
}

/** A sample of cumulative counters, sent to SSE clients several times a second. */
export interface LiveSample {
  /** Simulated time (ns). */
  nowNs: number;
  /** Whether the clock is paused. */
  paused: boolean;
  /** Whether the run is over. */
  ended: boolean;
  /** Speed. */
  speed: number | "max";
  /** Per VM id: CPU time and wait so far (ns). */
  vms: Record<string, { runNs: number; waitNs: number }>;
  /** Busy time of each pCPU so far (ns). */
  pcpus: number[];
  /** How many incidents so far. */
  incidents: number;
  /** Other domains' counters (faults, I/O latency), when the kernel has them. */
  domains: Record<string, unknown>;
}

/** How many recent samples the state keeps to compute recent shares (about two seconds). */
const RECENT_SAMPLES = 8;

/** What the state shows beside the simulation's own figures: the clock and the books. */
export interface StateContext {
  /** Whether the clock is paused. */
  paused: boolean;
  /** Simulated seconds per wall-clock second, or `"max"`. */
  speed: number | "max";
  /** How far the clock is behind its pace (ns). */
  lagNs: number;
  /** Acknowledged mutations so far. */
  mutations: number;
  /** Where state is kept, or null. */
  stateDir: string | null;
}

/**
 * The live state of a simulation, as a JSON snapshot refreshed on demand, and the samples sent to
 * SSE clients.
 *
 * @example
 * ```ts ignore
 * import { LiveSnapshots } from "./state.ts";
 *
 * const snapshots = new LiveSnapshots(simulation);
 * snapshots.refresh({ paused: false, speed: 1, lagNs: 0, mutations: 0, stateDir: null });
 * console.log(snapshots.text);
 * ```
 */
export class LiveSnapshots {
  #simulation: Simulation;
  #text = "";
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #atMs = 0;
  #recent: { wallMs: number; nowNs: number; run: Map<string, number>; busy: number[] }[] = [];

  /** @param simulation The simulation shown. */
  constructor(simulation: Simulation) {
    this.#simulation = simulation;
  }

  /** The snapshot, as JSON text. */
  get text(): string {
    return this.#text;
  }

  /** The same snapshot as UTF-8 bytes, encoded once per refresh (the hot read of the API). */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#bytes ??= new TextEncoder().encode(this.#text);
  }

  /** The snapshot, parsed. */
  state(): LiveState {
    return JSON.parse(this.#text);
  }

  /**
   * How old the snapshot is.
   *
   * @param wallMs The wall-clock time now (`performance.now()`).
   */
  ageMs(wallMs: number): number {
    return wallMs - this.#atMs;
  }

  /**
   * Takes a new snapshot (call inside the kernel's queue).
   *
   * @param context The clock and the books.
   */
  refresh(context: StateContext): void {
    const wallMs = performance.now();
    this.#atMs = wallMs;
    this.#text = JSON.stringify(this.#build(wallMs, context));
    this.#bytes = undefined;
  }

  #build(wallMs: number, context: StateContext): LiveState {
    const simulation = this.#simulation;
    const now = simulation.nowNs;
    const figures = simulation.figures(), cpu = figures.cpu;
    const run = runNow(cpu);
    const busy = busyNow(cpu);
    const recent = this.#recentBase(wallMs, now, run, busy);
    const pcpus = busy.length;
    const capacity = now * pcpus;
    const recentSpan = now - recent.nowNs;
    const policies: LiveState["policies"] = {};
    for (const { domain, info, underTest } of simulation.policies()) {
      policies[domain] = { ...info, underTest };
    }
    const { memory, io } = figures;
    const vms = cpu.vms.map((vm): LiveVm => {
      const runNs = run.get(vm.id) ?? 0;
      const before = recent.run.get(vm.id) ?? 0;
      const latency = vm.latency;
      const memoryFigures = memory?.vms[vm.index], ioFigures = io?.vms[vm.index];
      return {
        id: vm.id,
        index: vm.index,
        vcpus: vm.vcpus,
        status: vm.status,
        params: {
          weight: vm.params.weight,
          cap: vm.params.cap,
          priority: vm.params.priority,
          sched: vm.params.sched,
        },
        arrived: vm.arrived,
        finishNs: vm.finishNs,
        removedNs: vm.removedNs,
        cpu: {
          runNs,
          waitNs: vm.waitNs + vm.waitingNs,
          switches: vm.switches,
          share: capacity === 0 ? 0 : runNs / capacity,
          recentShare: recentSpan <= 0 ? 0 : (runNs - before) / (recentSpan * pcpus),
          latencyNs: {
            p50: latency.quantile(0.5),
            p99: latency.quantile(0.99),
            max: latency.max,
          },
        },
        ...(memoryFigures === undefined ? {} : { memory: memoryFigures }),
        ...(ioFigures === undefined ? {} : { io: ioFigures }),
      };
    });
    return {
      workload: simulation.workload.name,
      seed: simulation.workload.seed,
      nowNs: now,
      stopAtNs: simulation.stopAtNs ?? null,
      ended: simulation.ended,
      paused: context.paused,
      speed: context.speed,
      lagNs: context.lagNs,
      decisions: simulation.decisions,
      mutations: context.mutations,
      policies,
      vms,
      pcpus: busy.map((busyNs, i) => ({
        index: i,
        vm: cpu.running[i]!,
        busyNs,
        utilization: now === 0 ? 0 : busyNs / now,
        recentUtilization: recentSpan <= 0 ? 0 : (busyNs - (recent.busy[i] ?? 0)) / recentSpan,
      })),
      domains: domainFigures(figures),
      incidents: [...simulation.incidents],
      stateDir: context.stateDir,
      takenAtMs: Date.now(),
    };
  }

  /** The oldest recent sample (about two seconds back), and records the current one. */
  #recentBase(
    wallMs: number,
    nowNs: number,
    run: Map<string, number>,
    busy: number[],
  ): { nowNs: number; run: Map<string, number>; busy: number[] } {
    const recent = this.#recent;
    const last = recent[recent.length - 1];
    if (last === undefined || wallMs - last.wallMs >= 250 || nowNs < last.nowNs) {
      if (last !== undefined && nowNs < last.nowNs) recent.length = 0;
      recent.push({ wallMs, nowNs, run, busy });
      if (recent.length > RECENT_SAMPLES) recent.shift();
    }
    return recent[0]!;
  }

  /**
   * A sample of cumulative counters for SSE clients (call inside the kernel's queue).
   *
   * @param context The clock (its pause and speed).
   */
  sample(context: Pick<StateContext, "paused" | "speed">): LiveSample {
    const simulation = this.#simulation, figures = simulation.figures(), cpu = figures.cpu;
    const vms: LiveSample["vms"] = {};
    for (const vm of cpu.vms) {
      if (vm.removedNs === null) {
        vms[vm.id] = { runNs: vm.runNs + vm.runningNs, waitNs: vm.waitNs + vm.waitingNs };
      }
    }
    return {
      nowNs: simulation.nowNs,
      paused: context.paused,
      ended: simulation.ended,
      speed: context.speed,
      vms,
      pcpus: busyNow(cpu),
      incidents: simulation.incidents.length,
      domains: domainFigures(figures),
    };
  }
}

/**
 * The SSE clients of a live kernel: each event goes to every one; a client whose stream fails is
 * dropped. The recent samples and changes are kept (`_history.ts`), so that a client that
 * connects late starts with them.
 *
 * @example
 * ```ts
 * import { LiveFeed } from "./state.ts";
 *
 * const feed = new LiveFeed(), got: string[] = [];
 * const leave = feed.subscribe({ send: (event) => got.push(event), close() {} });
 * feed.broadcast("sample", {});
 * leave();
 * feed.broadcast("sample", {});
 * console.assert(got.length === 1 && feed.size === 0);
 * ```
 */
export class LiveFeed {
  #subscribers = new Set<LiveSubscriber>();
  #history = new LiveHistory();

  /** How many clients listen. */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Adds a client.
   *
   * @param subscriber The client.
   * @returns The function that removes it.
   */
  subscribe(subscriber: LiveSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /**
   * Sends an event to every client.
   *
   * @param event The event's name.
   * @param data Its data.
   */
  broadcast(event: string, data: unknown): void {
    this.#history.record(event, data);
    for (const subscriber of this.#subscribers) {
      try {
        subscriber.send(event, data);
      } catch {
        this.#subscribers.delete(subscriber);
      }
    }
  }

  /** What a client that connects now has missed: the recent samples and marked changes. */
  history(): LiveHistoryView {
    return this.#history.view();
  }

  /** Ends every client's stream. */
  closeAll(): void {
    for (const subscriber of this.#subscribers) {
      try {
        subscriber.close();
      } catch {
        // Already gone.
      }
    }
    this.#subscribers.clear();
  }
}

/** CPU time of every VM so far, including the runs going on now, by VM id. */
function runNow(cpu: CpuFigures): Map<string, number> {
  return new Map(cpu.vms.map((vm) => [vm.id, vm.runNs + vm.runningNs]));
}

/** Busy time of every pCPU so far, including the runs going on now. */
function busyNow(cpu: CpuFigures): number[] {
  return cpu.busyNs.map((busy, i) => busy + cpu.runningNs[i]!);
}

/** Host figures of the memory and I/O domains (faults; requests, latency, disks). */
function domainFigures(figures: SimulationFigures): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (figures.memory !== undefined) out.memory = figures.memory.host;
  if (figures.io !== undefined) out.io = figures.io.live();
  return out;
}
