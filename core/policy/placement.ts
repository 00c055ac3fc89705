/**
 * The placement policy SDK: `definePlacementPolicy`, the views a placement policy sees, and the
 * placement opcodes.
 *
 * A placement policy decides where a datacenter's VMs run. Its hooks: `place` (a VM arrived: name
 * a host, or none), `evaluate` (every evaluation interval: plan live migrations, `ctx.migrate(vm,
 * host)` for each), and the notifications `vmAdded`, `vmRemoved` and `migrated`. Before every
 * evaluation the SDK has updated each VM's `demand` (MIPS asked for now), `allocatedMips` and
 * `history`, and each host's measured `allocatedMips`. The kernel checks every decision (the host
 * exists and has room for the VM's demand and RAM; a VM moves once at a time) and runs the
 * migrations itself; an invalid decision ejects the policy.
 *
 * @module
 */

import { powerAt } from "../datacenter/power.ts";
import { Rng } from "../engine/rng.ts";
import { type ConfigOf, type Param, resolveConfig } from "./params.ts";
import { type Batch, type Reply, ReplyWriter } from "../protocol/batch.ts";
import {
  API_VERSION,
  type PolicyDefinition,
  type PolicyHandler,
  type StartMessage,
  type StartResult,
} from "../protocol/definition.ts";

/**
 * Placement opcodes of the wire protocol. Queries are 20 and above.
 *
 * @example
 * ```ts
 * import { PLACEMENT_OP } from "./placement.ts";
 * console.assert(PLACEMENT_OP.EVALUATE >= 20 && PLACEMENT_OP.DEMANDS < 20);
 * ```
 */
export const PLACEMENT_OP = {
  /** `[objIndex]`, objs: {@linkcode PlacementVmSpec}: a VM arrived (a `PLACE` query follows). */
  VM_ADD: 1,
  /** `[vm]`: a VM left for good (finished, or CloudSim's zero-demand rule). */
  VM_REMOVE: 2,
  /** `[vm, host]`: a VM runs on a host (sent when a new policy takes over). */
  VM_PLACED: 3,
  /** `[vm, from, to]`: a migration in flight (sent when a new policy takes over). */
  MIGRATION_START: 4,
  /** `[vm, from, to]`: a migration completed; the VM now runs on `to`. */
  MIGRATION_DONE: 5,
  /** `[mips of VM 0, VM 1, …]`: every VM's demand now (0 for VMs that are not running). */
  DEMANDS: 6,
  /** `[mips of VM 0, VM 1, …]`: what every VM is given now on its (source) host. */
  ALLOCATIONS: 7,
  /** `[mips of host 0, host 1, …]`: every host's measured allocated MIPS. */
  HOST_LOAD: 8,
  /** `[vm, count, newest, …, oldest]`: a VM's utilisation history (when a new policy takes over). */
  HISTORY: 9,
  /**
   * Query `[vm, size, demand]` → `[host]` or `[]` (no host: the VM is not placed). `size` is what
   * the VM is placed at (its full MIPS), `demand` what it asks for once it runs.
   */
  PLACE: 20,
  /** Query `[evaluation]` → `[vm, host]*`: the migrations to start now. */
  EVALUATE: 21,
} as const;

/**
 * What the MIPS fields of the views start as, before their constructors set them: a value that
 * is not a small integer, so that V8 keeps them as doubles from the start. A field that starts as
 * an integer and later holds a fraction changes its objects' hidden class on the way.
 */
const NOT_SMI = 0.5;

/** How many utilisation values a VM's history keeps (CloudSim's `PowerVm.HISTORY_LENGTH`). */
export const HISTORY_LENGTH = 30;

/** A host type as the kernel describes it at start (JSON). */
export interface HostTypeInfo {
  /** The type's name. */
  id: string;
  /** Physical cores. */
  cores: number;
  /** MIPS of one core. */
  coreMips: number;
  /** RAM in MB. */
  ram: number;
  /** Bandwidth in Mbit/s. */
  bandwidth: number;
  /** Watts at 0, 10, …, 100 % CPU. */
  power: number[];
}

/** A VM type as the kernel describes it at start (JSON). */
export interface VmTypeInfo {
  /** The type's name. */
  id: string;
  /** MIPS (one vCPU). */
  mips: number;
  /** RAM in MB. */
  ram: number;
  /** Bandwidth in Mbit/s. */
  bandwidth: number;
}

/** The datacenter as the kernel describes it at start (`StartMessage.host`). */
export interface DatacenterInfo {
  /** `hyperhook` or `cloudsim` (CloudSim 3.0.3's accounting; policies may copy its quirks). */
  mode: "hyperhook" | "cloudsim";
  /** The evaluation interval, in ns. */
  intervalNs: number;
  /** Host types. */
  hostTypes: HostTypeInfo[];
  /** Hosts: their ids and type indices. */
  hosts: { id: string; type: number }[];
  /** VM types. */
  vmTypes: VmTypeInfo[];
  /** Live migration: the share of bandwidth it gets, the demand lost and reserved meanwhile. */
  migration: { model: string; bandwidthShare: number; degradation: number; reservation: number };
  /** Whether RAM binds only until the first evaluation (CloudSim's quirk; default: `cloudsim`). */
  ramOnlyAtStart?: boolean;
}

/** What the kernel sends when a VM arrives (JSON). */
export interface PlacementVmSpec {
  /** The VM's index: the number decisions name. */
  index: number;
  /** The VM's id. */
  id: string;
  /** Its type's index. */
  type: number;
}

/** A host type, as a policy sees it. */
export class HostTypeView {
  /** The type's index. */
  readonly index: number;
  /** The type's name. */
  readonly id: string;
  /** Physical cores. */
  readonly cores: number;
  /** MIPS of one core: no VM (one vCPU) gets more. */
  readonly coreMips: number;
  /** MIPS of the whole host. */
  readonly mips: number;
  /** RAM in MB. */
  readonly ram: number;
  /** Bandwidth in Mbit/s. */
  readonly bandwidth: number;
  /** Watts at 0, 10, …, 100 % CPU. */
  readonly power: readonly number[];

  /**
   * Creates the view (the SDK does this).
   *
   * @param index The type's index.
   * @param info The kernel's description.
   */
  constructor(index: number, info: HostTypeInfo) {
    this.index = index;
    this.id = info.id;
    this.cores = info.cores;
    this.coreMips = info.coreMips;
    this.mips = info.cores * info.coreMips;
    this.ram = info.ram;
    this.bandwidth = info.bandwidth;
    this.power = info.power;
  }

  /**
   * Watts at utilisation `u` (0..1), interpolated in the table.
   *
   * @example
   * ```ts
   * import { HostTypeView } from "./placement.ts";
   * const g5 = new HostTypeView(0, { id: "G5", cores: 2, coreMips: 2660, ram: 4096,
   *   bandwidth: 1000, power: [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135] });
   * console.assert(g5.powerAt(1) === 135 && g5.mips === 5320);
   * ```
   */
  powerAt(u: number): number {
    return powerAt(this.power, u);
  }
}

/**
 * A host as a policy sees it. The SDK updates it; policies read it.
 *
 * `vms` lists the VMs on the host in the order they came (a VM migrating in is listed from the
 * moment its migration is planned; a VM migrating out stays until its migration completes), as
 * CloudSim's hosts list theirs, so that "first in the list" means the same.
 *
 * @example
 * ```ts
 * import { definePlacementPolicy } from "./placement.ts";
 *
 * // The emptiest host that can take the VM.
 * export default definePlacementPolicy({
 *   name: "emptiest",
 *   create: () => ({
 *     place(ctx, vm) {
 *       let best = null;
 *       for (const host of ctx.hosts) {
 *         if (!ctx.fits(vm, host, vm.mips)) continue;
 *         if (best === null || host.requestedMips < best.requestedMips) best = host;
 *       }
 *       return best;
 *     },
 *   }),
 * });
 * ```
 */
export class HostView {
  /** The host's index: the number decisions name. */
  readonly index: number;
  /** The host's id. */
  readonly id: string;
  /** Its type. */
  readonly type: HostTypeView;
  /** The VMs on it (and migrating to it), in the order they came. */
  readonly vms: PlacementVmView[] = [];
  /** MIPS allocated at the last evaluation, as measured (a VM migrating in counts its reservation). */
  allocatedMips: number = NOT_SMI;
  /** Free slot for the policy's own per-host state. */
  data: unknown = undefined;

  /**
   * Creates the view (the SDK does this).
   *
   * @param index The host's index.
   * @param id Its id.
   * @param type Its type.
   */
  constructor(index: number, id: string, type: HostTypeView) {
    this.index = index;
    this.id = id;
    this.type = type;
    this.allocatedMips = 0;
  }

  /** MIPS of the whole host. */
  get mips(): number {
    return this.type.mips;
  }

  /** Measured utilisation (0..1) at the last evaluation: `allocatedMips / mips`. */
  get utilization(): number {
    return this.allocatedMips / this.type.mips;
  }

  /** What its VMs ask for now, each in full (VMs migrating in included). */
  get requestedMips(): number {
    let sum = 0;
    for (const vm of this.vms) sum += vm.demand;
    return sum;
  }

  /** RAM its VMs hold, in MB (see {@linkcode PlacementContext.ramHeld}). */
  get usedRam(): number {
    let sum = 0;
    for (const vm of this.vms) sum += vm.type.ram;
    return sum;
  }

  /**
   * The host's utilisation history, CloudSim's way: slot i (0 = newest) is the sum over its VMs
   * of their i-th utilisation × VM MIPS / host MIPS, with trailing zeros dropped.
   */
  history(): number[] {
    let length = 0;
    for (const vm of this.vms) length = Math.max(length, vm.history.length);
    const slots = new Array<number>(length).fill(0);
    for (const vm of this.vms) {
      const scale = vm.type.mips / this.type.mips, values = vm.history;
      for (let i = 0; i < values.length; i++) slots[i]! += values[i]! * scale;
    }
    while (slots.length > 0 && slots[slots.length - 1] === 0) slots.pop();
    return slots;
  }
}

/** A VM type, as a policy sees it. */
export interface VmTypeView {
  /** The type's index. */
  readonly index: number;
  /** The type's name. */
  readonly id: string;
  /** MIPS (one vCPU). */
  readonly mips: number;
  /** RAM in MB. */
  readonly ram: number;
  /** Bandwidth in Mbit/s. */
  readonly bandwidth: number;
}

/**
 * A VM as a policy sees it. The SDK updates it; policies read it.
 *
 * @example
 * ```ts
 * import { definePlacementPolicy, type PlacementVmView } from "./placement.ts";
 *
 * // Every evaluation, move the busiest VM off any host asked for more than it has.
 * export default definePlacementPolicy({
 *   name: "relieve",
 *   create: () => ({
 *     evaluate(ctx) {
 *       for (const host of ctx.hosts) {
 *         if (host.requestedMips <= host.mips) continue;
 *         let busiest: PlacementVmView | undefined;
 *         for (const vm of host.vms) {
 *           if (!vm.migrating && (busiest === undefined || vm.demand > busiest.demand)) busiest = vm;
 *         }
 *         const to = busiest && ctx.hosts.find((h) => h !== host && ctx.fits(busiest, h));
 *         if (busiest && to) ctx.migrate(busiest, to);
 *       }
 *     },
 *   }),
 * });
 * ```
 */
export class PlacementVmView {
  /** The VM's index: the number decisions name. */
  readonly index: number;
  /** The VM's id. */
  readonly id: string;
  /** Its type. */
  readonly type: VmTypeView;
  /** The host it runs on (its source while it migrates), or null before it is placed. */
  host: HostView | null = null;
  /** The host it is migrating to, or null. */
  target: HostView | null = null;
  /** MIPS it asks for now (at placement: its full MIPS). */
  demand: number = NOT_SMI;
  /** MIPS it is given now on its host. */
  allocatedMips: number = NOT_SMI;
  /** Its demand as a fraction of its MIPS at each evaluation, newest first (at most 30). */
  history: number[] = [];
  /** False once it left. */
  alive = true;
  /** Free slot for the policy's own per-VM state. */
  data: unknown = undefined;

  /**
   * Creates the view (the SDK does this).
   *
   * @param index The VM's index.
   * @param id Its id.
   * @param type Its type.
   */
  constructor(index: number, id: string, type: VmTypeView) {
    this.index = index;
    this.id = id;
    this.type = type;
    this.demand = type.mips;
    this.allocatedMips = 0;
  }

  /** Its MIPS. */
  get mips(): number {
    return this.type.mips;
  }

  /** Whether it is migrating (or planned to, in the current evaluation). */
  get migrating(): boolean {
    return this.target !== null;
  }
}

/** One planned migration. */
export interface Move {
  /** The VM (view or index). */
  vm: PlacementVmView | number;
  /** Where it goes (view or index). */
  host: HostView | number;
}

/** What every hook receives. */
export interface PlacementContext<C> {
  /** The simulated time of the call, in ns. */
  readonly now: number;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
  /** The resolved configuration. */
  readonly config: C;
  /** `hyperhook`, or `cloudsim` when the run copies CloudSim 3.0.3 (quirks included). */
  readonly mode: "hyperhook" | "cloudsim";
  /** The evaluation interval, in ns. */
  readonly intervalNs: number;
  /** Every host, by index. */
  readonly hosts: readonly HostView[];
  /** Every VM that arrived, by index (sparse until all arrived). */
  readonly vms: readonly PlacementVmView[];
  /** How many evaluations came before this one. */
  readonly evaluation: number;
  /**
   * Whether placed VMs hold their RAM: always, except with CloudSim's quirk (`cloudsim` mode) from
   * the first evaluation on (its VMs' RAM use drops to zero once created: RAM binds only at first).
   */
  readonly ramHeld: boolean;
  /**
   * Whether `host` has room for `vm` at `mips` (default: its demand now): the VM fits in one core,
   * in the host's MIPS not asked for by its VMs (each counted in full, VMs migrating in too), and
   * in its RAM and bandwidth (while {@linkcode ramHeld}). A decision that passes this check always
   * passes the kernel's.
   */
  fits(vm: PlacementVmView, host: HostView, mips?: number): boolean;
  /** Plans a migration (in `evaluate`): the views change at once, the kernel checks it later. */
  migrate(vm: PlacementVmView | number, host: HostView | number): void;
}

/** The hooks of a placement policy. Every one is optional. */
export interface PlacementHooks<C> {
  /**
   * A VM arrived (`vm.demand` is its full MIPS, what it is placed at; once placed, it is what the
   * VM asks for now): name its host, or null to leave it unplaced. Without this hook, the first
   * host that fits takes it.
   */
  place?(ctx: PlacementContext<C>, vm: PlacementVmView): HostView | number | null | undefined;
  /**
   * An evaluation: plan migrations with `ctx.migrate` (or return them). Views hold the demands,
   * allocations and histories of now.
   */
  evaluate?(ctx: PlacementContext<C>): readonly Move[] | void;
  /** A VM arrived (before `place`). */
  vmAdded?(ctx: PlacementContext<C>, vm: PlacementVmView): void;
  /** A VM left for good. */
  vmRemoved?(ctx: PlacementContext<C>, vm: PlacementVmView): void;
  /** A migration completed (`vm.host` is now `to`). */
  migrated?(ctx: PlacementContext<C>, vm: PlacementVmView, from: HostView, to: HostView): void;
}

/** What a placement policy's `create` receives. */
export interface PlacementSetup<C> {
  /** The resolved configuration. */
  readonly config: C;
  /** The hosts. */
  readonly hosts: readonly HostView[];
  /** The datacenter as the kernel described it. */
  readonly datacenter: DatacenterInfo;
  /** The policy's seeded PRNG. */
  readonly rng: Rng;
}

/** The declaration of a placement policy, given to {@linkcode definePlacementPolicy}. */
export interface PlacementPolicySpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Declared parameters with defaults (see `param`). */
  config?: S;
  /**
   * How hosts draw power under this policy: `utilization` (default: a host with work draws its
   * table's power at its utilisation, an empty one is off) or `peak` (no power management: every
   * host draws its 100 % power all the time, CloudSim's NPA).
   */
  power?: "utilization" | "peak";
  /** Creates the policy's state and returns its hooks. */
  create(setup: PlacementSetup<ConfigOf<S>>): PlacementHooks<ConfigOf<S>>;
}

/** A placement policy: what a placement policy module exports by default. */
export interface PlacementPolicy extends PolicyDefinition {
  /** Always `placement`. */
  readonly domain: "placement";
}

/**
 * Defines a placement policy. The result is the module's default export.
 *
 * @example First fit in a dozen lines
 * ```ts
 * import { definePlacementPolicy } from "./placement.ts";
 *
 * export default definePlacementPolicy({
 *   name: "my-first-fit",
 *   create: () => ({
 *     place: (ctx, vm) => ctx.hosts.find((host) => ctx.fits(vm, host, vm.mips)) ?? null,
 *   }),
 * });
 * ```
 */
export function definePlacementPolicy<
  S extends Record<string, Param<unknown>> = Record<never, never>,
>(spec: PlacementPolicySpec<S>): PlacementPolicy {
  return {
    apiVersion: API_VERSION,
    domain: "placement",
    name: spec.name,
    start(message: StartMessage): { handler: PolicyHandler; result: StartResult } {
      const { config, json } = resolveConfig(spec.name, spec.config ?? ({} as S), message.config);
      const info = message.host as unknown as DatacenterInfo;
      const types = (info.hostTypes ?? []).map((type, i) => new HostTypeView(i, type));
      const hosts = (info.hosts ?? []).map((host, i) =>
        new HostView(i, host.id, types[host.type]!)
      );
      const rng = new Rng(message.seed);
      const hooks = spec.create({ config, hosts, datacenter: info, rng });
      const handler = new PlacementHandler(hooks, config, info, hosts, rng);
      const names = Object.keys(hooks).filter((key) =>
        typeof (hooks as Record<string, unknown>)[key] === "function"
      );
      const result: StartResult = { name: spec.name, config: json, hooks: names };
      if (spec.power === "peak") result.power = "peak";
      return { handler, result };
    },
  };
}

function remove<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

class PlacementHandler<C> implements PolicyHandler, PlacementContext<C> {
  now = 0;
  evaluation = 0;
  ramHeld = true;
  readonly rng: Rng;
  readonly config: C;
  readonly mode: "hyperhook" | "cloudsim";
  readonly intervalNs: number;
  readonly hosts: readonly HostView[];
  readonly vms: PlacementVmView[] = [];
  #vmTypes: VmTypeView[];
  #hooks: PlacementHooks<C>;
  #reply = new ReplyWriter();
  #ramOnlyAtStart: boolean;
  /** The moves of the evaluation being answered, or null outside `evaluate`. */
  #moves: number[] | null = null;

  constructor(
    hooks: PlacementHooks<C>,
    config: C,
    info: DatacenterInfo,
    hosts: readonly HostView[],
    rng: Rng,
  ) {
    this.#hooks = hooks;
    this.config = config;
    this.mode = info.mode ?? "hyperhook";
    this.intervalNs = info.intervalNs ?? 0;
    this.#ramOnlyAtStart = info.ramOnlyAtStart ?? this.mode === "cloudsim";
    const resumed = info as DatacenterInfo & { ramHeld?: boolean; evaluation?: number };
    this.ramHeld = resumed.ramHeld ?? true;
    this.evaluation = resumed.evaluation ?? 0;
    this.hosts = hosts;
    this.rng = rng;
    this.#vmTypes = (info.vmTypes ?? []).map((type, index) => ({ index, ...type }));
  }

  fits(vm: PlacementVmView, host: HostView, mips = vm.demand): boolean {
    const type = host.type;
    if (mips > type.coreMips) return false;
    let asked = mips, ram = vm.type.ram, bandwidth = vm.type.bandwidth;
    for (const other of host.vms) {
      if (other === vm) return false;
      asked += Math.min(other.demand, type.coreMips);
      ram += other.type.ram;
      bandwidth += other.type.bandwidth;
    }
    return asked <= type.mips &&
      (!this.ramHeld || (ram <= type.ram && bandwidth <= type.bandwidth));
  }

  migrate(vm: PlacementVmView | number, host: HostView | number): void {
    const moves = this.#moves;
    if (moves === null) throw new Error("ctx.migrate: only in the evaluate hook");
    const vmIndex = typeof vm === "number" ? vm : vm.index;
    const hostIndex = typeof host === "number" ? host : host.index;
    moves.push(vmIndex, hostIndex);
    // The views change at once, so that later choices of the same evaluation see the move; an
    // impossible one is left for the kernel to refuse.
    const view = this.vms[vmIndex], target = this.hosts[hostIndex];
    if (view !== undefined && target !== undefined && view.target === null && view.host !== null) {
      view.target = target;
      target.vms.push(view);
    }
  }

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    for (let i = 0; i < batch.length;) {
      const op = nums[i]!, a = i + 3, count = nums[i + 2]!;
      this.now = nums[i + 1]!;
      i = a + count;
      switch (op) {
        case PLACEMENT_OP.VM_ADD: {
          const spec = batch.objs[nums[a]!] as PlacementVmSpec;
          const vm = new PlacementVmView(spec.index, spec.id, this.#vmTypes[spec.type]!);
          this.vms[spec.index] = vm;
          hooks.vmAdded?.(this, vm);
          break;
        }
        case PLACEMENT_OP.VM_REMOVE: {
          const vm = this.vms[nums[a]!];
          if (vm === undefined) break;
          if (vm.host !== null) remove(vm.host.vms, vm);
          if (vm.target !== null) remove(vm.target.vms, vm);
          vm.alive = false;
          hooks.vmRemoved?.(this, vm);
          break;
        }
        case PLACEMENT_OP.VM_PLACED: {
          const vm = this.vms[nums[a]!], host = this.hosts[nums[a + 1]!];
          if (vm === undefined || host === undefined) break;
          vm.host = host;
          host.vms.push(vm);
          break;
        }
        case PLACEMENT_OP.MIGRATION_START: {
          const vm = this.vms[nums[a]!], to = this.hosts[nums[a + 2]!];
          if (vm === undefined || to === undefined) break;
          vm.host = this.hosts[nums[a + 1]!] ?? null;
          vm.target = to;
          to.vms.push(vm);
          break;
        }
        case PLACEMENT_OP.MIGRATION_DONE: {
          const vm = this.vms[nums[a]!];
          const from = this.hosts[nums[a + 1]!], to = this.hosts[nums[a + 2]!];
          if (vm === undefined || from === undefined || to === undefined) break;
          remove(from.vms, vm);
          // It joins the end of its new host's list, as CloudSim re-creates it there.
          remove(to.vms, vm);
          to.vms.push(vm);
          vm.host = to;
          vm.target = null;
          hooks.migrated?.(this, vm, from, to);
          break;
        }
        case PLACEMENT_OP.DEMANDS:
        case PLACEMENT_OP.ALLOCATIONS: {
          const vms = this.vms, n = Math.min(count, vms.length);
          for (let k = 0; k < n; k++) {
            const vm = vms[k];
            if (vm === undefined) continue;
            if (op === PLACEMENT_OP.DEMANDS) vm.demand = nums[a + k]!;
            else vm.allocatedMips = nums[a + k]!;
          }
          break;
        }
        case PLACEMENT_OP.HOST_LOAD: {
          const hosts = this.hosts, n = Math.min(count, hosts.length);
          for (let k = 0; k < n; k++) hosts[k]!.allocatedMips = nums[a + k]!;
          break;
        }
        case PLACEMENT_OP.HISTORY: {
          const vm = this.vms[nums[a]!];
          if (vm !== undefined) vm.history = Array.from(nums.subarray(a + 2, a + 2 + nums[a + 1]!));
          break;
        }
        case PLACEMENT_OP.PLACE: {
          const vm = this.vms[nums[a]!];
          if (vm === undefined) {
            reply.begin(0);
            break;
          }
          vm.demand = nums[a + 1]!;
          vm.allocatedMips = 0;
          // Once placed, it asks for what it uses now (its full MIPS again in cloudsim mode).
          const running = count > 2 ? nums[a + 2]! : vm.demand;
          const answer = hooks.place === undefined
            ? this.hosts.find((host) => this.fits(vm, host, vm.mips))
            : hooks.place(this, vm);
          if (answer === null || answer === undefined) {
            reply.begin(0);
            vm.alive = false;
            break;
          }
          const index = typeof answer === "number" ? answer : Number(answer?.index);
          reply.begin(1);
          reply.push(Number.isInteger(index) ? index : NaN);
          const host = this.hosts[index];
          if (host !== undefined) {
            vm.host = host;
            vm.demand = running;
            vm.allocatedMips = Math.min(running, host.type.coreMips);
            host.vms.push(vm);
          }
          break;
        }
        case PLACEMENT_OP.EVALUATE:
          this.#evaluate(nums[a]!);
          break;
      }
    }
    return reply;
  }

  #evaluate(evaluation: number): void {
    this.evaluation = evaluation;
    if (this.#ramOnlyAtStart) this.ramHeld = false;
    for (const vm of this.vms) {
      if (vm === undefined || !vm.alive || vm.host === null) continue;
      vm.history.unshift(vm.demand / vm.type.mips);
      if (vm.history.length > HISTORY_LENGTH) vm.history.length = HISTORY_LENGTH;
    }
    const moves: number[] = this.#moves = [];
    try {
      const returned = this.#hooks.evaluate?.(this);
      if (Array.isArray(returned)) {
        for (const move of returned as readonly Move[]) {
          this.migrate(move?.vm ?? NaN, move?.host ?? NaN);
        }
      }
    } finally {
      this.#moves = null;
    }
    const reply = this.#reply;
    reply.begin(moves.length);
    for (const value of moves) reply.push(Number.isInteger(value) ? value : NaN);
  }
}
