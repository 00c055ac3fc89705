/**
 * The datacenter as a kernel domain (`placement`): hosts and VMs, the `fluid` host model, live
 * migration, power and the consolidation metrics, with a placement policy deciding where VMs run.
 *
 * Fluid hosts: each VM asks for its demand (its curve × its MIPS), capped at one core; a host
 * asked for more than it has gives every VM the same share of its request (floored to whole MIPS
 * in `cloudsim` mode, as CloudSim's over-subscribing time-shared scheduler does). A VM migrating
 * out keeps `1 - degradation` of its share and its source counts it in full; its target reserves
 * `reservation` of its demand. Between two instants nothing changes, so energy and SLA times are
 * integrated exactly, frame by frame.
 *
 * The policy is asked `place` for every VM that arrives and `evaluate` at every evaluation
 * interval; the kernel checks each decision (the host exists, has room for the VM's demand and
 * RAM, a VM moves once at a time) and logs it. The first invalid one ejects the policy.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import type { Kernel, KernelDomain } from "../kernel/kernel.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import {
  type DatacenterInfo,
  HISTORY_LENGTH,
  PLACEMENT_OP as OP,
  type PlacementVmSpec,
} from "../policy/placement.ts";
import { type Reply, ReplyReader } from "../protocol/batch.ts";
import { invalidDecision as invalid } from "../protocol/runtime.ts";
import { type DatacenterModel, interpolated } from "./model.ts";
import { Books } from "./books.ts";
import { internals } from "../simulation/internals.ts";
import type { DetailedHosts } from "./detailed.ts";
import { powerAt } from "./power.ts";
import type { DatacenterFigures, DatacenterTimeline, HostFigures } from "./report.ts";
import type { DatacenterSpec, Quirks } from "./types.ts";

/** Kinds of placement decisions in the decision log. */
export const PLACEMENT_LOG = {
  /** `(vm, host, 0)`: a VM was placed. */
  PLACE: 1,
  /** `(vm, 0, 0)`: the policy left a VM unplaced. */
  UNPLACED: 2,
  /** `(vm, from, to)`: a migration started. */
  MIGRATE: 3,
  /** `(host, word, value)`: detailed hosts, at the end: 32 bits of a host kernel's digest. */
  HOST_DIGEST: 4,
} as const;

const EV_ARRIVE = 0, EV_SAMPLE = 1, EV_EVALUATE = 2, EV_MIGRATED = 3, EV_DOWNTIME = 4;
/** A pre-copy round on detailed hosts ends: its dirty pages are read from the source. */
const EV_ROUND = 5;
// A VM is first not arrived (0), then waiting for its place, running, gone, or never placed.
const WAITING = 1, RUNNING = 2, GONE = 3, UNPLACED = 4;
const COPYING = 1, PAUSED = 2;
/** What `#asked` holds for the evaluation query (VM indices stand for place queries). */
const EVALUATE_QUERY = -1;
/** Slack for sums of MIPS compared by policy and kernel in different orders. */
const EPSILON = 1e-6;

/** The datacenter domain. */
export class DatacenterDomain implements KernelDomain {
  /** Always `placement`. */
  readonly name = "placement" as const;
  /** The policy slot. */
  readonly slot: PolicySlot;
  /** The flattened workload. */
  readonly model: DatacenterModel;
  /** Per-host utilisation at each evaluation (rows follow `timeline.atNs`). */
  readonly utilizationRows: Float32Array[] = [];
  /** Aggregates at each evaluation. */
  readonly timeline: DatacenterTimeline = {
    atNs: [],
    activeHosts: [],
    vms: [],
    utilization: [],
    powerW: [],
  };

  #kernel: Kernel;
  #base: number;
  #spec: DatacenterSpec;
  #quirks: Quirks;
  #endNs: number;
  #firstEvaluationNs: number;
  #reader = new ReplyReader();
  /** The host kernels, on detailed hosts. */
  #detailed: DetailedHosts | undefined;
  /** Detailed hosts: what the last frame measured (host and VM MIPS), which policies see. */
  #measuredHost: Float64Array | undefined;
  #measuredVm: Float64Array | undefined;
  /** Detailed hosts: the end of the last frame measured. */
  #measuredAt = 0;

  // Hosts.
  #hostMips: Float64Array;
  #hostCore: Float64Array;
  #hostRam: Float64Array;
  #hostBw: Float64Array;
  #hostPower: number[][];
  #hostVms: number[][];
  #hostAllocated: Float64Array;
  /** What each host is, and the sums of the run. */
  #books: Books;
  #hostRequested: Float64Array;
  #hostMissing: Float64Array;
  #hostMigrationLoss: Float64Array;
  /** Hosts whose VMs changed since the last share-out (all of them when demands were read). */
  #touched: Uint8Array;
  #allTouched = true;

  // VMs.
  #vmMips: Float64Array;
  #vmRam: Float64Array;
  #vmBw: Float64Array;
  #vmDirty: Float64Array;
  #vmState: Uint8Array;
  #vmHost: Int32Array;
  #vmTarget: Int32Array;
  #vmPhase: Uint8Array;
  #vmSerial: Int32Array;
  #vmDemand: Float64Array;
  #vmAllocated: Float64Array;
  /** Pre-copy on detailed hosts: rounds done, and when the migration started. */
  #vmRounds: Int32Array;
  #vmMigrationStart: Float64Array;
  /** VMs' utilisation histories, for a policy that takes over: a ring of 30 rows of all VMs. */
  #historyRing: Float64Array;
  #historyHead = 0;
  #historyCount: Int32Array;
  /** `#readDemands`' curve positions, per demand group. */
  #groupK1 = new Float64Array(0);
  #groupK2 = new Float64Array(0);
  #groupDivisor = new Float64Array(0);
  #groupOffset = new Float64Array(0);

  // Metrics.
  #lastNs = 0;
  /** When demands were last read. */
  #readNs = -1;
  /** Whether a sample boundary passed since demands were last read (hyperhook mode). */
  #sampled = false;
  #migrations = 0;
  #migrationNs = 0;
  #left = 0;
  #unplaced = 0;
  #arrived = 0;

  // Queries.
  #dirty = true;
  #waiting: number[] = [];
  #asked: number[] = [];
  #evaluationDue = false;
  #evaluationAsked = false;
  #evaluation = 0;
  /** The last evaluation whose state was recorded (an evaluation asked again is not). */
  #recorded = -1;

  /**
   * Creates the domain and registers it with the kernel.
   *
   * @param kernel The kernel.
   * @param slot The placement policy's slot.
   * @param model The flattened workload.
   * @param options The datacenter section and when the run ends.
   */
  constructor(
    kernel: Kernel,
    slot: PolicySlot,
    model: DatacenterModel,
    options: { spec: DatacenterSpec; endNs: number; detailed?: DetailedHosts },
  ) {
    this.#kernel = kernel;
    this.slot = slot;
    this.model = model;
    this.#spec = options.spec;
    this.#quirks = options.spec.quirks;
    this.#endNs = options.endNs;
    this.#firstEvaluationNs = options.spec.offset + options.spec.interval;
    this.#detailed = options.detailed;
    if (this.#detailed !== undefined) {
      this.#measuredHost = new Float64Array(model.hostType.length);
      this.#measuredVm = new Float64Array(model.vmType.length);
    }
    this.#base = kernel.register(this, 6);

    const hosts = model.hostType.length, vms = model.vmType.length;
    const hostType = (h: number) => model.hostTypes[model.hostType[h]!]!;
    this.#hostMips = Float64Array.from({ length: hosts }, (_, h) => {
      const type = hostType(h);
      return type.cores * type.mips;
    });
    this.#hostCore = Float64Array.from({ length: hosts }, (_, h) => hostType(h).mips);
    this.#hostRam = Float64Array.from({ length: hosts }, (_, h) => hostType(h).ram);
    this.#hostBw = Float64Array.from({ length: hosts }, (_, h) => hostType(h).bandwidth);
    this.#hostPower = Array.from({ length: hosts }, (_, h) => hostType(h).power);
    this.#hostVms = Array.from({ length: hosts }, () => []);
    this.#hostAllocated = new Float64Array(hosts);
    this.#books = new Books(this.#hostPower, {
      quirks: options.spec.quirks,
      firstEvaluationNs: this.#firstEvaluationNs,
    });
    this.#hostRequested = new Float64Array(hosts);
    this.#hostMissing = new Float64Array(hosts);
    this.#hostMigrationLoss = new Float64Array(hosts);
    this.#touched = new Uint8Array(hosts);

    const vmType = (v: number) => model.vmTypes[model.vmType[v]!]!;
    this.#vmMips = Float64Array.from({ length: vms }, (_, v) => vmType(v).mips);
    this.#vmRam = Float64Array.from({ length: vms }, (_, v) => vmType(v).ram);
    this.#vmBw = Float64Array.from({ length: vms }, (_, v) => vmType(v).bandwidth);
    this.#vmDirty = Float64Array.from({ length: vms }, (_, v) => vmType(v).dirtyRate);
    this.#vmState = new Uint8Array(vms);
    this.#vmHost = new Int32Array(vms).fill(-1);
    this.#vmTarget = new Int32Array(vms).fill(-1);
    this.#vmPhase = new Uint8Array(vms);
    this.#vmSerial = new Int32Array(vms);
    this.#vmDemand = new Float64Array(vms);
    this.#vmAllocated = new Float64Array(vms);
    this.#vmRounds = new Int32Array(vms);
    this.#vmMigrationStart = new Float64Array(vms);
    this.#historyRing = new Float64Array(vms * HISTORY_LENGTH);
    this.#historyCount = new Int32Array(vms);

    model.groups.forEach((group, g) => {
      if (group.arriveNs <= this.#endNs) kernel.schedule(group.arriveNs, this.#base + EV_ARRIVE, g);
      // A curve that ends with the run does not leave: the run is over.
      const next = group.arriveNs + group.intervalNs;
      if (!this.#quirks.demandAtUpdates && next < this.#endNs) {
        kernel.schedule(next, this.#base + EV_SAMPLE, g, 1);
      }
    });
    if (this.#firstEvaluationNs < this.#endNs) {
      kernel.schedule(this.#firstEvaluationNs, this.#base + EV_EVALUATE, 0, 0);
    }
  }

  /** The host kernels of detailed hosts (an internal API: for tests). */
  get detailed(): DetailedHosts | undefined {
    return this.#detailed;
  }

  /** VM `v`'s demand now, in MIPS (what detailed hosts' kernels release as work). */
  demand(v: number): number {
    return this.#vmDemand[v]!;
  }

  /** When the run ends, in ns. */
  get endNs(): number {
    return this.#endNs;
  }

  /** The datacenter as policies see it at start (and a fresh policy after an ejection). */
  host(): Record<string, unknown> {
    const model = this.model, spec = this.#spec;
    const info: DatacenterInfo & { ramHeld: boolean; evaluation: number } = {
      mode: spec.mode,
      intervalNs: spec.interval,
      hostTypes: model.hostTypes.map((type) => ({
        id: type.id,
        cores: type.cores,
        coreMips: type.mips,
        ram: type.ram,
        bandwidth: type.bandwidth,
        power: type.power,
      })),
      hosts: model.hostIds.map((id, h) => ({ id, type: model.hostType[h]! })),
      vmTypes: model.vmTypes.map((type) => ({
        id: type.id,
        mips: type.mips,
        ram: type.ram,
        bandwidth: type.bandwidth,
      })),
      migration: {
        model: spec.migration.model,
        bandwidthShare: spec.migration.bandwidthShare,
        degradation: spec.migration.degradation,
        reservation: spec.migration.reservation,
      },
      ramOnlyAtStart: this.#quirks.ramOnlyAtStart,
      ramHeld: this.#ramHeld(),
      evaluation: this.#evaluation,
    };
    return info as unknown as Record<string, unknown>;
  }

  /** Placed VMs hold their RAM, except in `cloudsim` mode once its first update came. */
  #ramHeld(): boolean {
    return !(this.#quirks.ramOnlyAtStart && this.#kernel.now >= this.#firstEvaluationNs);
  }

  onEvent(kind: number, target: number, tag: number): void {
    const now = this.#kernel.now;
    // Detailed hosts: the frame that ends now is measured before anything of the instant moves.
    if (this.#detailed !== undefined && now > this.#lastNs && now > this.#measuredAt) {
      this.#measured(this.#lastNs, now);
    }
    this.#dirty = true;
    switch (kind - this.#base) {
      case EV_ARRIVE: {
        const writer = this.slot.writer;
        for (const v of this.model.groups[target]!.vms) {
          this.#vmState[v] = WAITING;
          this.#arrived++;
          writer.call1(OP.VM_ADD, now, writer.obj(this.#vmSpec(v)));
          this.#waiting.push(v);
        }
        break;
      }
      case EV_SAMPLE: {
        this.#sampled = true;
        // Demands are read when the books are brought up to date; a curve that ends here leaves.
        const group = this.model.groups[target]!;
        for (const v of group.vms) if (this.model.curves[v]!.length === tag) this.#leave(v);
        const next = group.arriveNs + (tag + 1) * group.intervalNs;
        if (tag < group.length && next < this.#endNs) {
          this.#kernel.schedule(next, this.#base + EV_SAMPLE, target, tag + 1);
        }
        break;
      }
      case EV_EVALUATE: {
        this.#evaluationDue = true;
        this.#evaluationAsked = false;
        this.#evaluation = tag;
        const next = this.#firstEvaluationNs + (tag + 1) * this.#spec.interval;
        if (next < this.#endNs) this.#kernel.schedule(next, this.#base + EV_EVALUATE, 0, tag + 1);
        break;
      }
      case EV_MIGRATED:
        if (this.#vmSerial[target] === tag && this.#vmTarget[target]! >= 0) this.#arrive(target);
        break;
      case EV_DOWNTIME:
        if (this.#vmSerial[target] === tag && this.#vmTarget[target]! >= 0) {
          this.#vmPhase[target] = PAUSED;
          this.#touch(this.#vmHost[target]!);
          this.#detailed?.remove(target);
        }
        break;
      case EV_ROUND:
        if (this.#vmSerial[target] === tag && this.#vmTarget[target]! >= 0) this.#round(target);
        break;
    }
  }

  #vmSpec(v: number): PlacementVmSpec {
    return { index: v, id: this.model.vmIds[v]!, type: this.model.vmType[v]! };
  }

  settle(): void {
    if (this.#dirty) this.#refresh();
    const writer = this.slot.writer, now = this.#kernel.now;
    if (this.#asked.length > 0) return;
    if (this.#waiting.length > 0) {
      for (const v of this.#waiting) {
        if (this.#vmState[v] !== WAITING) continue;
        writer.call3(OP.PLACE, now, v, this.#placementDemand(v), this.#demandNow(v));
        writer.queries++;
        this.#asked.push(v);
      }
      this.#waiting = [];
      if (this.#asked.length > 0) return;
    }
    if (this.#evaluationDue && !this.#evaluationAsked) {
      if (this.#recorded !== this.#evaluation) this.#record();
      this.#recorded = this.#evaluation;
      this.#writeState(now);
      writer.call1(OP.EVALUATE, now, this.#evaluation);
      writer.queries++;
      this.#asked.push(EVALUATE_QUERY);
      this.#evaluationAsked = true;
    }
  }

  /** What a VM asks for when it is placed: its full MIPS (it has not started yet). */
  #placementDemand(v: number): number {
    return this.#vmMips[v]!;
  }

  #writeState(now: number): void {
    const writer = this.slot.writer, vms = this.#vmDemand.length;
    writer.callN(OP.DEMANDS, now, this.#vmDemand, vms);
    writer.callN(OP.ALLOCATIONS, now, this.#vmAllocated, vms);
    writer.callN(OP.HOST_LOAD, now, this.#hostAllocated, this.#hostAllocated.length);
  }

  apply(reply: Reply): void {
    const reader = this.#reader;
    reader.reset(reply);
    const asked = this.#asked;
    this.#asked = [];
    for (let q = 0; q < asked.length; q++) {
      const v = asked[q]!;
      const count = reader.begin();
      if (v >= 0) {
        if (count === 0) {
          this.#vmState[v] = UNPLACED;
          this.#unplaced++;
          this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.UNPLACED, this.#kernel.now, v, 0, 0);
          continue;
        }
        if (count !== 1) {
          // Put back what is still unanswered, so a fallback is asked again.
          this.#waiting.push(...asked.slice(q));
          throw invalid("bad-place", `place of VM ${this.#vmName(v)} answered ${count} hosts`);
        }
        const host = reader.next();
        try {
          this.#place(v, host);
        } catch (error) {
          this.#waiting.push(...asked.slice(q));
          throw error;
        }
      } else {
        if (count % 2 !== 0) {
          throw invalid("bad-plan", `an evaluation plan of ${count} numbers (pairs of VM, host)`);
        }
        const moves = new Float64Array(count);
        for (let i = 0; i < count; i++) moves[i] = reader.next();
        this.#startPlan(moves);
        this.#evaluationDue = false;
      }
    }
  }

  #vmName(v: number): string {
    return `${v} (${this.model.vmIds[v]})`;
  }

  #checkHost(host: number, what: string): void {
    if (!Number.isInteger(host) || host < 0 || host >= this.#hostMips.length) {
      throw invalid(
        "unknown-host",
        `${what} names host ${host}, which does not exist (hosts 0..${this.#hostMips.length - 1})`,
      );
    }
  }

  /** MIPS a host's VMs are asked for now, a VM migrating in at its reservation. */
  #required(h: number): number {
    const core = this.#hostCore[h]!, reservation = this.#spec.migration.reservation;
    let sum = 0;
    for (const v of this.#hostVms[h]!) {
      const capped = Math.min(this.#vmDemand[v]!, core);
      sum += this.#vmTarget[v] === h ? reservation * capped : capped;
    }
    return sum;
  }

  #usedRam(h: number): [number, number] {
    let ram = 0, bw = 0;
    for (const v of this.#hostVms[h]!) ram += this.#vmRam[v]!, bw += this.#vmBw[v]!;
    return [ram, bw];
  }

  /** Checks that host `h` has room for VM `v` at `mips`, beside `planned` MIPS, RAM and BW. */
  #checkRoom(v: number, h: number, mips: number, planned: number[], what: string): void {
    const capped = Math.min(mips, this.#hostCore[h]!);
    const free = this.#hostMips[h]! - this.#required(h) - planned[0]!;
    if (capped > free + EPSILON) {
      throw invalid(
        "full-host",
        `${what} puts ${capped} MIPS on host ${h}, which has ${Math.max(0, free)} MIPS free`,
      );
    }
    if (!this.#ramHeld()) return;
    const [ram, bw] = this.#usedRam(h);
    if (ram + planned[1]! + this.#vmRam[v]! > this.#hostRam[h]! + EPSILON) {
      throw invalid(
        "ram",
        `${what} needs ${this.#vmRam[v]} MB of RAM on host ${h}, which has ${
          this.#hostRam[h]! - ram - planned[1]!
        } MB free`,
      );
    }
    if (bw + planned[2]! + this.#vmBw[v]! > this.#hostBw[h]! + EPSILON) {
      throw invalid(
        "bandwidth",
        `${what} needs ${this.#vmBw[v]} Mbit/s on host ${h}, which has ${
          this.#hostBw[h]! - bw - planned[2]!
        } Mbit/s free`,
      );
    }
  }

  #place(v: number, h: number): void {
    const what = `place of VM ${this.#vmName(v)}`;
    this.#checkHost(h, what);
    this.#checkRoom(v, h, this.#placementDemand(v), [0, 0, 0], what);
    this.#vmState[v] = RUNNING;
    this.#vmHost[v] = h;
    this.#hostVms[h]!.push(v);
    this.#touch(h);
    this.#vmDemand[v] = this.#demandNow(v);
    this.#detailed?.add(v, h, this.#kernel.now);
    this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.PLACE, this.#kernel.now, v, h, 0);
    this.#dirty = true;
  }

  #startPlan(moves: Float64Array): void {
    const vms = this.#vmState.length, now = this.#kernel.now;
    // Check the whole plan first: it runs entirely or not at all.
    const seen = new Set<number>(), planned = new Map<number, number[]>();
    for (let i = 0; i < moves.length; i += 2) {
      const v = moves[i]!, h = moves[i + 1]!;
      if (!Number.isInteger(v) || v < 0 || v >= vms || this.#vmState[v] !== RUNNING) {
        throw invalid("unknown-vm", `a plan moves VM ${v}, which is not running`);
      }
      const what = `the migration of VM ${this.#vmName(v)}`;
      if (this.#vmTarget[v]! >= 0) {
        throw invalid(
          "migrating",
          `${what} to host ${h}: it is already migrating to host ${this.#vmTarget[v]}`,
        );
      }
      if (seen.has(v)) throw invalid("twice", `${what}: the plan moves it twice at once`);
      seen.add(v);
      this.#checkHost(h, what);
      if (h === this.#vmHost[v]) throw invalid("same-host", `${what} to host ${h}, where it is`);
      const room = planned.get(h) ?? [0, 0, 0];
      this.#checkRoom(v, h, this.#vmDemand[v]!, room, what);
      room[0]! += Math.min(this.#vmDemand[v]!, this.#hostCore[h]!);
      room[1]! += this.#vmRam[v]!;
      room[2]! += this.#vmBw[v]!;
      planned.set(h, room);
    }
    for (let i = 0; i < moves.length; i += 2) this.#startMigration(moves[i]!, moves[i + 1]!, now);
  }

  #startMigration(v: number, h: number, now: number): void {
    const from = this.#vmHost[v]!, migration = this.#spec.migration;
    this.#vmTarget[v] = h;
    this.#vmPhase[v] = COPYING;
    this.#hostVms[h]!.push(v);
    this.#touch(h), this.#touch(from);
    const serial = ++this.#vmSerial[v]!;
    // MB at `bandwidthShare` of the target's Mbit/s (CloudSim: RAM / (bandwidth / 2)).
    const rate = migration.bandwidthShare * this.#hostBw[h]! / 8;
    let copyNs: number, pauseNs = 0;
    if (migration.model === "cloudsim") {
      copyNs = Math.round(this.#vmRam[v]! / rate * 1e9);
    } else if (this.#detailed !== undefined) {
      // The rounds follow the source's own dirty bits, cleared now (log-dirty mode).
      this.#detailed.advance(now - 1);
      this.#detailed.dirtyMb(v);
      this.#vmRounds[v] = 0;
      this.#vmMigrationStart[v] = now;
      const firstNs = Math.round(this.#vmRam[v]! / rate * 1e9);
      this.#kernel.schedule(now + firstNs, this.#base + EV_ROUND, v, serial);
      this.#migrations++;
      this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.MIGRATE, now, v, from, h);
      this.#dirty = true;
      return;
    } else {
      const dirty = this.#vmDirty[v]!, limit = migration.downtime / 1e9;
      let toSend = this.#vmRam[v]!, copySeconds = 0;
      for (let round = 0; round < migration.maxRounds; round++) {
        const seconds = toSend / rate;
        copySeconds += seconds;
        toSend = dirty * seconds;
        if (toSend / rate <= limit) break;
      }
      copyNs = Math.round(copySeconds * 1e9);
      pauseNs = Math.round(toSend / rate * 1e9);
      this.#kernel.schedule(now + copyNs, this.#base + EV_DOWNTIME, v, serial);
    }
    this.#kernel.schedule(now + copyNs + pauseNs, this.#base + EV_MIGRATED, v, serial);
    this.#migrations++;
    this.#migrationNs += copyNs + pauseNs;
    this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.MIGRATE, now, v, from, h);
    this.#dirty = true;
  }

  /**
   * A pre-copy round on detailed hosts ended: what the VM dirtied meanwhile is sent next, in
   * another round, or in a pause when it fits the downtime (or the rounds are used up).
   */
  #round(v: number): void {
    const now = this.#kernel.now, migration = this.#spec.migration, detailed = this.#detailed!;
    const rate = migration.bandwidthShare * this.#hostBw[this.#vmTarget[v]!]! / 8;
    detailed.advance(now - 1);
    const toSend = detailed.dirtyMb(v), rounds = ++this.#vmRounds[v]!;
    const sendNs = Math.round(toSend / rate * 1e9), serial = this.#vmSerial[v]!;
    if (sendNs <= migration.downtime || rounds >= migration.maxRounds) {
      this.#vmPhase[v] = PAUSED;
      this.#touch(this.#vmHost[v]!);
      detailed.remove(v);
      this.#migrationNs += now + sendNs - this.#vmMigrationStart[v]!;
      this.#kernel.schedule(now + sendNs, this.#base + EV_MIGRATED, v, serial);
    } else {
      this.#kernel.schedule(now + sendNs, this.#base + EV_ROUND, v, serial);
    }
  }

  /** A migration completed: the VM runs on its target, at the end of its list. */
  #arrive(v: number): void {
    const from = this.#vmHost[v]!, to = this.#vmTarget[v]!;
    remove(this.#hostVms[from]!, v);
    remove(this.#hostVms[to]!, v);
    this.#hostVms[to]!.push(v);
    this.#vmHost[v] = to;
    this.#vmTarget[v] = -1;
    this.#vmPhase[v] = 0;
    this.#touch(from), this.#touch(to);
    if (this.#detailed !== undefined) {
      this.#detailed.remove(v);
      this.#detailed.add(v, to, this.#kernel.now);
    }
    this.slot.writer.call3(OP.MIGRATION_DONE, this.#kernel.now, v, from, to);
  }

  /** A VM leaves for good (its curve ended, or CloudSim's zero-demand rule). */
  #leave(v: number): void {
    const state = this.#vmState[v];
    if (state !== RUNNING && state !== WAITING) return;
    if (state === RUNNING) {
      remove(this.#hostVms[this.#vmHost[v]!]!, v);
      if (this.#vmTarget[v]! >= 0) remove(this.#hostVms[this.#vmTarget[v]!]!, v);
      this.#touch(this.#vmHost[v]!), this.#touch(this.#vmTarget[v]!);
    }
    this.#vmTarget[v] = -1;
    this.#vmSerial[v]!++;
    this.#vmState[v] = GONE;
    this.#detailed?.remove(v);
    this.#vmDemand[v] = 0;
    this.#vmAllocated[v] = 0;
    this.#left++;
    this.slot.writer.call1(OP.VM_REMOVE, this.#kernel.now, v);
    this.#dirty = true;
  }

  /**
   * Reads every running VM's demand now, as `#demandNow` would, with the curve positions worked
   * out once per group (in the same order of operations).
   */
  #readDemands(now: number): void {
    const groups = this.model.groups, count = groups.length;
    const cloudsim = this.#quirks.demandAtUpdates, leaveAtZero = this.#quirks.leaveAtZero;
    if (this.#groupK1.length !== count) {
      this.#groupK1 = new Float64Array(count), this.#groupK2 = new Float64Array(count);
      this.#groupDivisor = new Float64Array(count), this.#groupOffset = new Float64Array(count);
    }
    const k1s = this.#groupK1, k2s = this.#groupK2, divisors = this.#groupDivisor;
    const offsets = this.#groupOffset;
    for (let g = 0; g < count; g++) {
      const group = groups[g]!;
      if (!cloudsim) {
        k1s[g] = Math.floor((now - group.arriveNs) / group.intervalNs);
        continue;
      }
      // `interpolated`'s steps: an exact sample (divisor 0), or the two around and the slope's.
      const time = (now - group.arriveNs) / 1e9, interval = group.intervalNs / 1e9;
      if (time % interval === 0) {
        k1s[g] = time / interval, divisors[g] = 0;
        continue;
      }
      const k1 = Math.floor(time / interval), k2 = Math.ceil(time / interval);
      k1s[g] = k1, k2s[g] = k2;
      divisors[g] = (k2 - k1) * interval;
      offsets[g] = time - k1 * interval;
    }
    const state = this.#vmState, demand = this.#vmDemand, target = this.#vmTarget;
    const vmGroup = this.model.vmGroup, curves = this.model.curves, mips = this.#vmMips;
    for (let v = 0; v < state.length; v++) {
      if (state[v] !== RUNNING) continue;
      const g = vmGroup[v]!, curve = curves[v]!;
      if (!cloudsim) {
        const k = k1s[g]!;
        demand[v] = k < curve.length ? curve[k]! * mips[v]! : 0;
      } else {
        const last = curve.length - 1, divisor = divisors[g]!;
        let u: number;
        if (divisor === 0) {
          u = curve[Math.min(last, k1s[g]!)]!;
        } else {
          const u1 = curve[Math.min(last, k1s[g]!)]!, u2 = curve[Math.min(last, k2s[g]!)]!;
          const delta = (u2 - u1) / divisor;
          u = u1 + delta * offsets[g]!;
        }
        demand[v] = u * mips[v]!;
      }
      // CloudSim takes a VM that asks for nothing at an update, and is not moving, as finished.
      if (leaveAtZero && demand[v] === 0 && target[v] === -1) this.#leave(v);
    }
  }

  /** A VM's demand now, in MIPS. */
  #demandNow(v: number): number {
    const now = this.#kernel.now;
    const group = this.model.groups[this.model.vmGroup[v]!]!, curve = this.model.curves[v]!;
    if (this.#quirks.demandAtUpdates) {
      // CloudSim's VMs ask for their full MIPS until their workload's first update.
      if (now < this.#firstEvaluationNs) return this.#vmMips[v]!;
      return interpolated(curve, (now - group.arriveNs) / 1e9, group.intervalNs / 1e9) *
        this.#vmMips[v]!;
    }
    const k = Math.floor((now - group.arriveNs) / group.intervalNs);
    return k < curve.length ? curve[k]! * this.#vmMips[v]! : 0;
  }

  /**
   * Brings the books up to now: closes the frame since the last instant with the state it had,
   * re-reads demands, shares every host's MIPS out, and holds the result until the next instant.
   */
  #refresh(): void {
    const now = this.#kernel.now;
    this.#dirty = false;
    if (now > this.#lastNs) {
      if (this.#detailed !== undefined && now > this.#measuredAt) this.#measured(this.#lastNs, now);
      this.#books.close(this.#lastNs, now, this.#peak());
    }
    const vms = this.#vmState.length;
    // Demands change only with time: a second look in the same instant finds the same values.
    // hyperhook: demands change at samples; CloudSim re-reads them at every update from its first.
    const reading = this.#quirks.demandAtUpdates
      ? now >= this.#firstEvaluationNs && now !== this.#readNs
      : this.#sampled;
    this.#sampled = false;
    if (reading) this.#readNs = now, this.#allTouched = true, this.#readDemands(now);
    this.#dirty = false;
    this.#share();
    this.#books.shared();
    if (this.#detailed !== undefined && now > this.#lastNs) {
      // Policies see what the host kernels measured over the frame that just ended.
      this.#hostAllocated.set(this.#measuredHost!);
      for (let v = 0; v < vms; v++) {
        if (this.#vmState[v] === RUNNING) this.#vmAllocated[v] = this.#measuredVm![v]!;
      }
    }
    this.#lastNs = now;
  }

  /**
   * Detailed hosts: runs the host kernels through the frame [fromNs, toNs) and puts what they
   * measured in the books in place of the fluid shares: each host's utilisation and power, the
   * demand its VMs did not get, and what VMs migrating out lost. Policies see the measure too.
   */
  #measured(fromNs: number, toNs: number): void {
    const detailed = this.#detailed!, books = this.#books, peak = this.#peak();
    this.#measuredAt = toNs;
    detailed.advance(toNs - 1);
    const { hostBusyNs, vmRanNs } = detailed.take();
    const dt = toNs - fromNs;
    let missing = 0, migrationLoss = 0;
    for (let h = 0; h < this.#hostVms.length; h++) {
      const core = this.#hostCore[h]!, cores = this.#hostMips[h]! / core;
      const u = Math.min(1, hostBusyNs[h]! / (dt * cores));
      books.u[h] = u;
      books.watts[h] = peak
        ? this.#hostPower[h]![10]!
        : books.active[h] === 1
        ? powerAt(this.#hostPower[h]!, u)
        : 0;
      this.#measuredHost![h] = u * this.#hostMips[h]!;
      for (const v of this.#hostVms[h]!) {
        if (this.#vmTarget[v] === h) continue;
        const given = Math.min(1, vmRanNs[v]! / dt) * core;
        this.#measuredVm![v] = given;
        const lost = Math.max(0, this.#vmDemand[v]! - given);
        missing += lost;
        if (this.#vmTarget[v]! >= 0) migrationLoss += lost;
      }
    }
    books.missing = missing;
    books.migrationLoss = migrationLoss;
  }

  /** Shares every host's MIPS among its VMs and holds the host states. */
  #share(): void {
    const quirks = this.#quirks, peak = this.#peak(), hostBooks = this.#books;
    const floor = quirks.floorShares, books = quirks.booksFromFirstEvaluation;
    const { degradation, reservation } = this.#spec.migration, keep = 1 - degradation;
    const all = this.#allTouched, touched = this.#touched;
    this.#allTouched = false;
    // Fields in locals: this runs for every host at every update.
    const vmDemand = this.#vmDemand, vmTarget = this.#vmTarget, vmPhase = this.#vmPhase;
    const vmAllocated = this.#vmAllocated, hostVms = this.#hostVms, hostMips = this.#hostMips;
    const hostCore = this.#hostCore, hostAllocated = this.#hostAllocated;
    const hostPower = this.#hostPower, hostRequested = this.#hostRequested;
    const hostMissing = this.#hostMissing, hostMigrationLoss = this.#hostMigrationLoss;
    const bookU = hostBooks.u, bookActive = hostBooks.active, bookSla = hostBooks.sla;
    const bookWatts = hostBooks.watts, slaCountsTargets = quirks.slaCountsTargets;
    for (let h = 0; h < hostVms.length; h++) {
      if (!all && touched[h] === 0) continue;
      touched[h] = 0;
      const list = hostVms[h]!, capacity = hostMips[h]!, core = hostCore[h]!;
      // Sequentially as CloudSim's scheduler allocates, so that the same sums tip it over.
      let free = capacity, total = 0, asked = 0, oversubscribed = false;
      for (const v of list) {
        const capped = Math.min(vmDemand[v]!, core);
        const need = vmTarget[v] === h ? capped * reservation : capped;
        total += need;
        asked += vmDemand[v]!;
        if (free >= need) free -= need;
        else oversubscribed = true, free = 0;
      }
      const scale = oversubscribed ? capacity / total : 1;
      let allocated = 0, requested = 0, missing = 0, migrationLoss = 0;
      for (const v of list) {
        const demand = vmDemand[v]!, capped = Math.min(demand, core);
        if (vmTarget[v] === h) {
          let given = capped * reservation;
          if (oversubscribed) given = floorIf(floor, given * scale);
          allocated += given;
          continue;
        }
        const out = vmTarget[v]! >= 0;
        let given: number;
        if (out && vmPhase[v] === PAUSED) given = 0;
        else if (!oversubscribed) given = out ? capped * keep : capped;
        else given = floorIf(floor, out ? capped * scale * keep : capped * scale);
        vmAllocated[v] = given;
        // The source works for the VM in full while it moves (CloudSim: allocated / 0.9).
        allocated += out && keep > 0 ? given / keep : given;
        // The VM's own books are kept on its host (its source while it moves).
        requested += demand;
        if (given < demand) {
          missing += demand - given;
          if (out) migrationLoss += demand - given;
        }
      }
      const u = Math.min(1, allocated / capacity);
      const active = books ? allocated > 0 : list.length > 0;
      hostAllocated[h] = allocated;
      bookU[h] = u;
      bookActive[h] = active ? 1 : 0;
      // CloudSim: allocated < requested, a VM migrating in counted in full; hyperhook: saturated.
      bookSla[h] = (slaCountsTargets ? allocated < asked : total > capacity) ? 1 : 0;
      bookWatts[h] = peak ? hostPower[h]![10]! : active ? powerAt(hostPower[h]!, u) : 0;
      hostRequested[h] = requested;
      hostMissing[h] = missing;
      hostMigrationLoss[h] = migrationLoss;
    }
    let requested = 0, missing = 0, migrationLoss = 0;
    for (let h = 0; h < hostVms.length; h++) {
      requested += hostRequested[h]!;
      missing += hostMissing[h]!;
      migrationLoss += hostMigrationLoss[h]!;
    }
    hostBooks.requested = requested;
    hostBooks.migrationLoss = migrationLoss;
    hostBooks.missing = missing;
  }

  /** Whether the policy in charge manages no power (every host at full power). */
  #peak(): boolean {
    return this.slot.declared.power === "peak";
  }

  /** Marks host h (-1: none) for `#share` to compute again. */
  #touch(h: number): void {
    if (h >= 0) this.#touched[h] = 1;
  }

  /** Records the state at an evaluation (before the policy's answer) for charts and histories. */
  #record(): void {
    const now = this.#kernel.now;
    let active = 0, busy = 0, watts = 0;
    const hosts = this.#books, row = Float32Array.from(hosts.u), measured = this.#measuredHost;
    for (let h = 0; h < row.length; h++) {
      let u = hosts.u[h]!, w = hosts.watts[h]!;
      // Detailed hosts: what their kernels ran over the frame that just ended.
      if (measured !== undefined && !this.#peak()) {
        u = Math.min(1, measured[h]! / this.#hostMips[h]!);
        w = hosts.active[h] === 1 ? powerAt(this.#hostPower[h]!, u) : 0;
        row[h] = u;
      }
      watts += w;
      if (hosts.active[h] === 1) active++, busy += u;
    }
    this.utilizationRows.push(row);
    const timeline = this.timeline;
    timeline.atNs.push(now);
    timeline.activeHosts.push(active);
    let running = 0;
    for (let v = 0; v < this.#vmState.length; v++) if (this.#vmState[v] === RUNNING) running++;
    timeline.vms.push(running);
    timeline.utilization.push(active === 0 ? 0 : busy / active);
    timeline.powerW.push(watts);
    const vms = this.#vmState.length;
    this.#historyHead = (this.#historyHead + HISTORY_LENGTH - 1) % HISTORY_LENGTH;
    const slot = this.#historyHead * vms;
    for (let v = 0; v < vms; v++) {
      if (this.#vmState[v] !== RUNNING) continue;
      this.#historyRing[slot + v] = this.#vmDemand[v]! / this.#vmMips[v]!;
      if (this.#historyCount[v]! < HISTORY_LENGTH) this.#historyCount[v]!++;
    }
  }

  replay(): void {
    const writer = this.slot.writer, now = this.#kernel.now, vms = this.#vmState.length;
    const waiting = new Set(this.#waiting);
    for (const v of this.#asked) if (v >= 0) waiting.add(v);
    this.#asked = [];
    this.#evaluationAsked = false;
    for (let v = 0; v < vms; v++) {
      const state = this.#vmState[v];
      if (state === RUNNING || state === WAITING) {
        writer.call1(OP.VM_ADD, now, writer.obj(this.#vmSpec(v)));
      }
      if (state === WAITING) waiting.add(v);
    }
    this.#hostVms.forEach((list, h) => {
      for (const v of list) {
        if (this.#vmTarget[v] === h) writer.call3(OP.MIGRATION_START, now, v, this.#vmHost[v]!, h);
        else writer.call2(OP.VM_PLACED, now, v, h);
      }
    });
    // An evaluation asked again must not find its own values in the histories twice.
    const skip = this.#evaluationDue && this.#recorded === this.#evaluation ? 1 : 0;
    for (let v = 0; v < vms; v++) {
      const count = this.#historyCount[v]! - skip;
      if (this.#vmState[v] !== RUNNING || count <= 0) continue;
      const values = [v, count];
      for (let i = skip; i < count + skip; i++) {
        values.push(this.#historyRing[((this.#historyHead + i) % HISTORY_LENGTH) * vms + v]!);
      }
      writer.callN(OP.HISTORY, now, values);
    }
    this.#writeState(now);
    this.#waiting = [...waiting].sort((a, b) => a - b);
  }

  installed(): void {
    // A new policy may manage power otherwise (npa's peak power, its fallback's utilisation).
    this.#allTouched = true;
    this.#dirty = true;
  }

  finish(endNs: number): void {
    if (this.#dirty) this.#refresh();
    if (this.#detailed !== undefined && endNs > this.#lastNs && endNs > this.#measuredAt) {
      this.#measured(this.#lastNs, endNs);
    }
    this.#books.finish(this.#lastNs, endNs, this.#peak());
    // Detailed hosts: their kernels' decisions join the run's: each one's digest, 32 bits a record.
    this.#detailed?.hosts.forEach((host, h) => {
      const hex = internals(host).kernel.log.digest();
      for (let word = 0; word < 8; word++) {
        const value = parseInt(hex.slice(8 * word, 8 * word + 8), 16);
        this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.HOST_DIGEST, endNs, h, word, value);
      }
    });
  }

  /** Figures of the run so far. */
  figures(): DatacenterFigures {
    const { energyKwh, slatah, pdm, slaOverall, active } = this.#books.totals();
    const slav = slatah * pdm;
    return {
      hosts: this.#hostMips.length,
      vms: this.#arrived,
      energyKwh,
      migrations: this.#migrations,
      slatah,
      pdm,
      slav,
      esv: energyKwh * slav,
      hostShutdowns: this.#books.shutdowns,
      slaOverall,
      meanMigrationNs: this.#migrations === 0
        ? 0
        : Math.round(this.#migrationNs / this.#migrations),
      vmsLeft: this.#left,
      unplaced: this.#unplaced,
      activeHosts: active,
    };
  }

  /** Per-host totals of the run so far. */
  hostFigures(): HostFigures[] {
    const types = Array.from(this.model.hostType, (t) => this.model.hostTypes[t]!.id);
    return this.#books.hosts(this.model.hostIds, types);
  }

  /** Where each VM is now (-1: nowhere), for tests and the live view. */
  placement(): Int32Array {
    return this.#vmHost.slice();
  }
}

function remove(list: number[], v: number): void {
  const at = list.indexOf(v);
  if (at >= 0) list.splice(at, 1);
}

function floorIf(floor: boolean, mips: number): number {
  return floor ? Math.floor(mips) : mips;
}
