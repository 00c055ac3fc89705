/**
 * The `fluid` host model: what each VM asks for and what each host gives. A VM asks for its
 * demand (its curve × its MIPS), capped at one core; a host asked for more than it has gives
 * every VM the same share of its request (floored to whole MIPS in `cloudsim` mode, as CloudSim's
 * over-subscribing time-shared scheduler does). A VM migrating out keeps `1 - degradation` of its
 * share and its source counts it in full; its target reserves `reservation` of its demand. On
 * detailed hosts the host kernels' measure takes the shares' place ({@linkcode measure}).
 *
 * @module
 */

import type { Books } from "./books.ts";
import type { DetailedHosts } from "./detailed.ts";
import { type Fleet, PAUSED, RUNNING } from "./_fleet.ts";
import { type DatacenterModel, interpolated } from "./model.ts";
import { powerAt } from "./power.ts";
import type { DatacenterSpec, Quirks } from "./types.ts";

/**
 * Shares every touched host's MIPS among its VMs and holds the host states in the books.
 *
 * @param fleet The hosts and VMs (their demands read).
 * @param books The books, whose host states are set.
 * @param options The quirks, the migration's degradation and reservation, and whether the
 *   policy in charge manages no power (every host at full power).
 */
export function shareOut(
  fleet: Fleet,
  books: Books,
  options: { quirks: Quirks; migration: DatacenterSpec["migration"]; peak: boolean },
): void {
  const { quirks, peak } = options;
  const floor = quirks.floorShares, fromEvaluation = quirks.booksFromFirstEvaluation;
  const { degradation, reservation } = options.migration, keep = 1 - degradation;
  const all = fleet.allTouched, touched = fleet.touched;
  fleet.allTouched = false;
  // Fields in locals: this runs for every host at every update.
  const vmDemand = fleet.vmDemand, vmTarget = fleet.vmTarget, vmPhase = fleet.vmPhase;
  const vmAllocated = fleet.vmAllocated, hostVms = fleet.hostVms, hostMips = fleet.hostMips;
  const hostCore = fleet.hostCore, hostAllocated = fleet.hostAllocated;
  const hostPower = fleet.hostPower, hostRequested = fleet.hostRequested;
  const hostMissing = fleet.hostMissing, hostMigrationLoss = fleet.hostMigrationLoss;
  const bookU = books.u, bookActive = books.active, bookSla = books.sla;
  const bookWatts = books.watts, slaCountsTargets = quirks.slaCountsTargets;
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
    const active = fromEvaluation ? allocated > 0 : list.length > 0;
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
  books.requested = requested;
  books.migrationLoss = migrationLoss;
  books.missing = missing;
}

function floorIf(floor: boolean, mips: number): number {
  return floor ? Math.floor(mips) : mips;
}

/**
 * Detailed hosts: runs the host kernels through the frame [fromNs, toNs) and puts what they
 * measured in the books in place of the fluid shares: each host's utilisation and power, the
 * demand its VMs did not get, and what VMs migrating out lost. Policies see the measure too.
 *
 * @param fleet The hosts and VMs.
 * @param books The books.
 * @param detailed The host kernels.
 * @param frame The frame, whether the policy manages no power, and where the measure goes (host
 *   and VM MIPS).
 */
export function measure(
  fleet: Fleet,
  books: Books,
  detailed: DetailedHosts,
  frame: {
    fromNs: number;
    toNs: number;
    peak: boolean;
    measuredHost: Float64Array;
    measuredVm: Float64Array;
  },
): void {
  const { fromNs, toNs, peak, measuredHost, measuredVm } = frame;
  detailed.advance(toNs - 1);
  const { hostBusyNs, vmRanNs } = detailed.take();
  const dt = toNs - fromNs;
  let missing = 0, migrationLoss = 0;
  for (let h = 0; h < fleet.hostVms.length; h++) {
    const core = fleet.hostCore[h]!, cores = fleet.hostMips[h]! / core;
    const u = Math.min(1, hostBusyNs[h]! / (dt * cores));
    books.u[h] = u;
    books.watts[h] = peak
      ? fleet.hostPower[h]![10]!
      : books.active[h] === 1
      ? powerAt(fleet.hostPower[h]!, u)
      : 0;
    measuredHost[h] = u * fleet.hostMips[h]!;
    for (const v of fleet.hostVms[h]!) {
      if (fleet.vmTarget[v] === h) continue;
      const given = Math.min(1, vmRanNs[v]! / dt) * core;
      measuredVm[v] = given;
      const lost = Math.max(0, fleet.vmDemand[v]! - given);
      missing += lost;
      if (fleet.vmTarget[v]! >= 0) migrationLoss += lost;
    }
  }
  books.missing = missing;
  books.migrationLoss = migrationLoss;
}

/** Reads the running VMs' demands, with the curve positions worked out once per demand group. */
export class DemandReader {
  #k1 = new Float64Array(0);
  #k2 = new Float64Array(0);
  #divisor = new Float64Array(0);
  #offset = new Float64Array(0);

  /**
   * Reads every running VM's demand now, as {@linkcode demandNow} would (in the same order of
   * operations).
   *
   * @param fleet The hosts and VMs; their demands are set.
   * @param model The flattened workload (the curves).
   * @param now The time.
   * @param quirks The mode's quirks.
   * @param leave Called for a VM that leaves at a zero demand (CloudSim's rule).
   */
  read(
    fleet: Fleet,
    model: DatacenterModel,
    now: number,
    quirks: Quirks,
    leave: (v: number) => void,
  ): void {
    const groups = model.groups, count = groups.length;
    const cloudsim = quirks.demandAtUpdates, leaveAtZero = quirks.leaveAtZero;
    if (this.#k1.length !== count) {
      this.#k1 = new Float64Array(count), this.#k2 = new Float64Array(count);
      this.#divisor = new Float64Array(count), this.#offset = new Float64Array(count);
    }
    const k1s = this.#k1, k2s = this.#k2, divisors = this.#divisor, offsets = this.#offset;
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
    const state = fleet.vmState, demand = fleet.vmDemand, target = fleet.vmTarget;
    const vmGroup = model.vmGroup, curves = model.curves, mips = fleet.vmMips;
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
      if (leaveAtZero && demand[v] === 0 && target[v] === -1) leave(v);
    }
  }
}

/**
 * A VM's demand now, in MIPS.
 *
 * @param fleet The hosts and VMs.
 * @param model The flattened workload.
 * @param v The VM.
 * @param now The time.
 * @param quirks The mode's quirks.
 * @param firstEvaluationNs When the first evaluation is (CloudSim's VMs ask for their full MIPS
 *   before it).
 */
export function demandNow(
  fleet: Fleet,
  model: DatacenterModel,
  v: number,
  now: number,
  quirks: Quirks,
  firstEvaluationNs: number,
): number {
  const group = model.groups[model.vmGroup[v]!]!, curve = model.curves[v]!;
  if (quirks.demandAtUpdates) {
    // CloudSim's VMs ask for their full MIPS until their workload's first update.
    if (now < firstEvaluationNs) return fleet.vmMips[v]!;
    return interpolated(curve, (now - group.arriveNs) / 1e9, group.intervalNs / 1e9) *
      fleet.vmMips[v]!;
  }
  const k = Math.floor((now - group.arriveNs) / group.intervalNs);
  return k < curve.length ? curve[k]! * fleet.vmMips[v]! : 0;
}
