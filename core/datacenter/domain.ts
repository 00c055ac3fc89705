/**
 * The datacenter as a kernel domain (`placement`): VMs arriving, placed and leaving, live
 * migration, and the consolidation metrics, with a placement policy deciding where VMs run. The
 * hosts and VMs are kept in `_fleet.ts`; the `fluid` host model (demands and shares) is
 * `fluid.ts`'s; the books (energy, SLA) are `books.ts`'s. Between two instants nothing changes, so
 * energy and SLA times are integrated exactly, frame by frame.
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
import { PLACEMENT_OP as OP, type PlacementVmSpec } from "../policy/placement.ts";
import { type Reply, ReplyReader } from "../protocol/batch.ts";
import { invalidDecision as invalid } from "../protocol/runtime.ts";
import { type DatacenterModel, policyView } from "./model.ts";
import { Books } from "./books.ts";
import {
  COPYING,
  Fleet,
  GONE,
  Histories,
  PAUSED,
  remove,
  RUNNING,
  UNPLACED,
  WAITING,
} from "./_fleet.ts";
import { demandNow, DemandReader, measure, shareOut } from "./fluid.ts";
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

/**
 * What a trace hears of a datacenter run beyond its decision log (`observe/datacenter_trace.ts`):
 * migrations completing, VMs leaving, and every frame the books integrate.
 */
export interface DatacenterWatcher {
  /** A migration completed at `atNs`: VM `v` runs on host `to`, no longer on `from`. */
  migrated(v: number, from: number, to: number, atNs: number): void;
  /**
   * VM `v` left for good at `atNs`: it ran on `host` (-1: it was never placed) and was
   * migrating to `target` (-1: it was not).
   */
  left(v: number, host: number, target: number, atNs: number): void;
  /**
   * The books' frame [fromNs, toNs) with each host's state held in it (`books.u`, `active`,
   * `sla`, `watts`); `counted`: it counts in the figures (CloudSim's books open later).
   */
  frame(fromNs: number, toNs: number, books: Books, counted: boolean): void;
}

const EV_ARRIVE = 0, EV_SAMPLE = 1, EV_EVALUATE = 2, EV_MIGRATED = 3, EV_DOWNTIME = 4;
/** A pre-copy round on detailed hosts ends: its dirty pages are read from the source. */
const EV_ROUND = 5;
/** What `#asked` holds for the evaluation query (VM indices stand for place queries). */
const EVALUATE_QUERY = -1;

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

  /** The hosts and VMs. */
  #fleet: Fleet;
  /** What each host is, and the sums of the run. */
  #books: Books;
  /** VMs' utilisation histories, for a policy that takes over: a ring of 30 rows of all VMs. */
  #histories: Histories;
  #demands = new DemandReader();
  /** A trace's ears, if the run is traced. */
  #watcher: DatacenterWatcher | undefined;

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

    const fleet = new Fleet(model), vms = model.vmType.length;
    this.#fleet = fleet;
    this.#books = new Books(fleet.hostPower, {
      quirks: options.spec.quirks,
      firstEvaluationNs: this.#firstEvaluationNs,
    });
    this.#histories = new Histories(vms);

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

  /** Tells `watcher` what the decision log does not hold (a trace; call before the run). */
  watch(watcher: DatacenterWatcher): void {
    this.#watcher = watcher;
    this.#books.onFrame = (fromNs, toNs, counted) =>
      watcher.frame(fromNs, toNs, this.#books, counted);
  }

  /** The host kernels of detailed hosts (an internal API: for tests). */
  get detailed(): DetailedHosts | undefined {
    return this.#detailed;
  }

  /** VM `v`'s demand now, in MIPS (what detailed hosts' kernels release as work). */
  demand(v: number): number {
    return this.#fleet.vmDemand[v]!;
  }

  /** When the run ends, in ns. */
  get endNs(): number {
    return this.#endNs;
  }

  /** The datacenter as policies see it at start (and a fresh policy after an ejection). */
  host(): Record<string, unknown> {
    return policyView(this.model, this.#spec, {
      ramHeld: this.#ramHeld(),
      evaluation: this.#evaluation,
    }) as unknown as Record<string, unknown>;
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
          this.#fleet.vmState[v] = WAITING;
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
        if (this.#fleet.vmSerial[target] === tag && this.#fleet.vmTarget[target]! >= 0) {
          this.#arrive(target);
        }
        break;
      case EV_DOWNTIME:
        if (this.#fleet.vmSerial[target] === tag && this.#fleet.vmTarget[target]! >= 0) {
          this.#fleet.vmPhase[target] = PAUSED;
          this.#fleet.touch(this.#fleet.vmHost[target]!);
          this.#detailed?.remove(target);
        }
        break;
      case EV_ROUND:
        if (this.#fleet.vmSerial[target] === tag && this.#fleet.vmTarget[target]! >= 0) {
          this.#round(target);
        }
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
        if (this.#fleet.vmState[v] !== WAITING) continue;
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
    return this.#fleet.vmMips[v]!;
  }

  #writeState(now: number): void {
    const writer = this.slot.writer, vms = this.#fleet.vmDemand.length;
    writer.callN(OP.DEMANDS, now, this.#fleet.vmDemand, vms);
    writer.callN(OP.ALLOCATIONS, now, this.#fleet.vmAllocated, vms);
    writer.callN(OP.HOST_LOAD, now, this.#fleet.hostAllocated, this.#fleet.hostAllocated.length);
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
          this.#fleet.vmState[v] = UNPLACED;
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

  /** Checks that host `h` has room for VM `v` at `mips` (see `Fleet.checkRoom`). */
  #checkRoom(v: number, h: number, mips: number, planned: number[], what: string): void {
    this.#fleet.checkRoom(v, h, mips, planned, what, {
      reservation: this.#spec.migration.reservation,
      ramHeld: this.#ramHeld(),
    });
  }

  #place(v: number, h: number): void {
    const what = `place of VM ${this.#vmName(v)}`;
    this.#fleet.checkHost(h, what);
    this.#checkRoom(v, h, this.#placementDemand(v), [0, 0, 0], what);
    this.#fleet.vmState[v] = RUNNING;
    this.#fleet.vmHost[v] = h;
    this.#fleet.hostVms[h]!.push(v);
    this.#fleet.touch(h);
    this.#fleet.vmDemand[v] = this.#demandNow(v);
    this.#detailed?.add(v, h, this.#kernel.now);
    this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.PLACE, this.#kernel.now, v, h, 0);
    this.#dirty = true;
  }

  #startPlan(moves: Float64Array): void {
    const vms = this.#fleet.vmState.length, now = this.#kernel.now;
    // Check the whole plan first: it runs entirely or not at all.
    const seen = new Set<number>(), planned = new Map<number, number[]>();
    for (let i = 0; i < moves.length; i += 2) {
      const v = moves[i]!, h = moves[i + 1]!;
      if (!Number.isInteger(v) || v < 0 || v >= vms || this.#fleet.vmState[v] !== RUNNING) {
        throw invalid("unknown-vm", `a plan moves VM ${v}, which is not running`);
      }
      const what = `the migration of VM ${this.#vmName(v)}`;
      if (this.#fleet.vmTarget[v]! >= 0) {
        throw invalid(
          "migrating",
          `${what} to host ${h}: it is already migrating to host ${this.#fleet.vmTarget[v]}`,
        );
      }
      if (seen.has(v)) throw invalid("twice", `${what}: the plan moves it twice at once`);
      seen.add(v);
      this.#fleet.checkHost(h, what);
      if (h === this.#fleet.vmHost[v]) {
        throw invalid("same-host", `${what} to host ${h}, where it is`);
      }
      const room = planned.get(h) ?? [0, 0, 0];
      this.#checkRoom(v, h, this.#fleet.vmDemand[v]!, room, what);
      room[0]! += Math.min(this.#fleet.vmDemand[v]!, this.#fleet.hostCore[h]!);
      room[1]! += this.#fleet.vmRam[v]!;
      room[2]! += this.#fleet.vmBw[v]!;
      planned.set(h, room);
    }
    for (let i = 0; i < moves.length; i += 2) this.#startMigration(moves[i]!, moves[i + 1]!, now);
  }

  #startMigration(v: number, h: number, now: number): void {
    const from = this.#fleet.vmHost[v]!, migration = this.#spec.migration;
    this.#fleet.vmTarget[v] = h;
    this.#fleet.vmPhase[v] = COPYING;
    this.#fleet.hostVms[h]!.push(v);
    this.#fleet.touch(h), this.#fleet.touch(from);
    const serial = ++this.#fleet.vmSerial[v]!;
    // MB at `bandwidthShare` of the target's Mbit/s (CloudSim: RAM / (bandwidth / 2)).
    const rate = migration.bandwidthShare * this.#fleet.hostBw[h]! / 8;
    let copyNs: number, pauseNs = 0;
    if (migration.model === "cloudsim") {
      copyNs = Math.round(this.#fleet.vmRam[v]! / rate * 1e9);
    } else if (this.#detailed !== undefined) {
      // The rounds follow the source's own dirty bits, cleared now (log-dirty mode).
      this.#detailed.advance(now - 1);
      this.#detailed.dirtyMb(v);
      this.#fleet.vmRounds[v] = 0;
      this.#fleet.vmMigrationStart[v] = now;
      const firstNs = Math.round(this.#fleet.vmRam[v]! / rate * 1e9);
      this.#kernel.schedule(now + firstNs, this.#base + EV_ROUND, v, serial);
      this.#migrations++;
      this.#kernel.log.record(LOG.placement, PLACEMENT_LOG.MIGRATE, now, v, from, h);
      this.#dirty = true;
      return;
    } else {
      const dirty = this.#fleet.vmDirty[v]!, limit = migration.downtime / 1e9;
      let toSend = this.#fleet.vmRam[v]!, copySeconds = 0;
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
    const rate = migration.bandwidthShare * this.#fleet.hostBw[this.#fleet.vmTarget[v]!]! / 8;
    detailed.advance(now - 1);
    const toSend = detailed.dirtyMb(v), rounds = ++this.#fleet.vmRounds[v]!;
    const sendNs = Math.round(toSend / rate * 1e9), serial = this.#fleet.vmSerial[v]!;
    if (sendNs <= migration.downtime || rounds >= migration.maxRounds) {
      this.#fleet.vmPhase[v] = PAUSED;
      this.#fleet.touch(this.#fleet.vmHost[v]!);
      detailed.remove(v);
      this.#migrationNs += now + sendNs - this.#fleet.vmMigrationStart[v]!;
      this.#kernel.schedule(now + sendNs, this.#base + EV_MIGRATED, v, serial);
    } else {
      this.#kernel.schedule(now + sendNs, this.#base + EV_ROUND, v, serial);
    }
  }

  /** A migration completed: the VM runs on its target, at the end of its list. */
  #arrive(v: number): void {
    const from = this.#fleet.vmHost[v]!, to = this.#fleet.vmTarget[v]!;
    remove(this.#fleet.hostVms[from]!, v);
    remove(this.#fleet.hostVms[to]!, v);
    this.#fleet.hostVms[to]!.push(v);
    this.#fleet.vmHost[v] = to;
    this.#fleet.vmTarget[v] = -1;
    this.#fleet.vmPhase[v] = 0;
    this.#fleet.touch(from), this.#fleet.touch(to);
    if (this.#detailed !== undefined) {
      this.#detailed.remove(v);
      this.#detailed.add(v, to, this.#kernel.now);
    }
    this.slot.writer.call3(OP.MIGRATION_DONE, this.#kernel.now, v, from, to);
    this.#watcher?.migrated(v, from, to, this.#kernel.now);
  }

  /** A VM leaves for good (its curve ended, or CloudSim's zero-demand rule). */
  #leave(v: number): void {
    const state = this.#fleet.vmState[v];
    if (state !== RUNNING && state !== WAITING) return;
    this.#watcher?.left(
      v,
      state === RUNNING ? this.#fleet.vmHost[v]! : -1,
      state === RUNNING ? this.#fleet.vmTarget[v]! : -1,
      this.#kernel.now,
    );
    if (state === RUNNING) {
      remove(this.#fleet.hostVms[this.#fleet.vmHost[v]!]!, v);
      if (this.#fleet.vmTarget[v]! >= 0) remove(this.#fleet.hostVms[this.#fleet.vmTarget[v]!]!, v);
      this.#fleet.touch(this.#fleet.vmHost[v]!), this.#fleet.touch(this.#fleet.vmTarget[v]!);
    }
    this.#fleet.vmTarget[v] = -1;
    this.#fleet.vmSerial[v]!++;
    this.#fleet.vmState[v] = GONE;
    this.#detailed?.remove(v);
    this.#fleet.vmDemand[v] = 0;
    this.#fleet.vmAllocated[v] = 0;
    this.#left++;
    this.slot.writer.call1(OP.VM_REMOVE, this.#kernel.now, v);
    this.#dirty = true;
  }

  /** A VM's demand now, in MIPS. */
  #demandNow(v: number): number {
    return demandNow(
      this.#fleet,
      this.model,
      v,
      this.#kernel.now,
      this.#quirks,
      this.#firstEvaluationNs,
    );
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
    const vms = this.#fleet.vmState.length;
    // Demands change only with time: a second look in the same instant finds the same values.
    // hyperhook: demands change at samples; CloudSim re-reads them at every update from its first.
    const reading = this.#quirks.demandAtUpdates
      ? now >= this.#firstEvaluationNs && now !== this.#readNs
      : this.#sampled;
    this.#sampled = false;
    if (reading) {
      this.#readNs = now, this.#fleet.allTouched = true;
      this.#demands.read(this.#fleet, this.model, now, this.#quirks, (v) => this.#leave(v));
    }
    this.#dirty = false;
    shareOut(this.#fleet, this.#books, {
      quirks: this.#quirks,
      migration: this.#spec.migration,
      peak: this.#peak(),
    });
    this.#books.shared();
    if (this.#detailed !== undefined && now > this.#lastNs) {
      // Policies see what the host kernels measured over the frame that just ended.
      this.#fleet.hostAllocated.set(this.#measuredHost!);
      for (let v = 0; v < vms; v++) {
        if (this.#fleet.vmState[v] === RUNNING) this.#fleet.vmAllocated[v] = this.#measuredVm![v]!;
      }
    }
    this.#lastNs = now;
  }

  /** Detailed hosts: the host kernels' measure of the frame [fromNs, toNs) (`fluid.ts`). */
  #measured(fromNs: number, toNs: number): void {
    this.#measuredAt = toNs;
    measure(this.#fleet, this.#books, this.#detailed!, {
      fromNs,
      toNs,
      peak: this.#peak(),
      measuredHost: this.#measuredHost!,
      measuredVm: this.#measuredVm!,
    });
  }

  /** Whether the policy in charge manages no power (every host at full power). */
  #peak(): boolean {
    return this.slot.declared.power === "peak";
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
        u = Math.min(1, measured[h]! / this.#fleet.hostMips[h]!);
        w = hosts.active[h] === 1 ? powerAt(this.#fleet.hostPower[h]!, u) : 0;
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
    for (let v = 0; v < this.#fleet.vmState.length; v++) {
      if (this.#fleet.vmState[v] === RUNNING) running++;
    }
    timeline.vms.push(running);
    timeline.utilization.push(active === 0 ? 0 : busy / active);
    timeline.powerW.push(watts);
    this.#histories.push(this.#fleet);
  }

  replay(): void {
    const writer = this.slot.writer, now = this.#kernel.now, vms = this.#fleet.vmState.length;
    const waiting = new Set(this.#waiting);
    for (const v of this.#asked) if (v >= 0) waiting.add(v);
    this.#asked = [];
    this.#evaluationAsked = false;
    for (let v = 0; v < vms; v++) {
      const state = this.#fleet.vmState[v];
      if (state === RUNNING || state === WAITING) {
        writer.call1(OP.VM_ADD, now, writer.obj(this.#vmSpec(v)));
      }
      if (state === WAITING) waiting.add(v);
    }
    this.#fleet.hostVms.forEach((list, h) => {
      for (const v of list) {
        if (this.#fleet.vmTarget[v] === h) {
          writer.call3(OP.MIGRATION_START, now, v, this.#fleet.vmHost[v]!, h);
        } else writer.call2(OP.VM_PLACED, now, v, h);
      }
    });
    // An evaluation asked again must not find its own values in the histories twice.
    const skip = this.#evaluationDue && this.#recorded === this.#evaluation ? 1 : 0;
    for (let v = 0; v < vms; v++) {
      const values = this.#fleet.vmState[v] === RUNNING ? this.#histories.of(v, skip) : undefined;
      if (values !== undefined) writer.callN(OP.HISTORY, now, values);
    }
    this.#writeState(now);
    this.#waiting = [...waiting].sort((a, b) => a - b);
  }

  installed(): void {
    // A new policy may manage power otherwise (npa's peak power, its fallback's utilisation).
    this.#fleet.allTouched = true;
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
      hosts: this.#fleet.hostMips.length,
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
    return this.#fleet.vmHost.slice();
  }
}
