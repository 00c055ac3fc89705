/**
 * The books of a datacenter run: what each host is (utilisation, power, active, at 100 % CPU) and
 * what the VMs ask and get, held from one instant to the next and integrated frame by frame into
 * energy, SLA time, migration losses and shutdowns.
 *
 * The domain shares the hosts' MIPS out at every instant and writes the result here (`u`, `watts`,
 * `active`, `sla`, `requested`, `missing`, `migrationLoss`); before it does, `close` integrates the
 * frame since the previous instant with what was held. Between two instants nothing changes, so the
 * sums are exact; CloudSim's books (`booksFromFirstEvaluation`) open at the first evaluation, sum
 * energy by trapezoids and close at the last update.
 *
 * @module
 */

import { powerAt } from "./power.ts";
import type { HostFigures } from "./report.ts";
import type { Quirks } from "./types.ts";

/** The books. */
export class Books {
  /** Each host's utilisation (0..1), as held since the last instant. */
  readonly u: Float64Array;
  /** Each host's power, in W. */
  readonly watts: Float64Array;
  /** 1 while a host is active. */
  readonly active: Uint8Array;
  /** 1 while a host is at 100 % CPU (SLATAH's time). */
  readonly sla: Uint8Array;
  /** MIPS asked for by all VMs now. */
  requested = 0;
  /** MIPS asked for and not given, now. */
  missing = 0;
  /** MIPS not given to VMs migrating out, now (PDM's loss). */
  migrationLoss = 0;
  /** Active-to-idle transitions counted so far. */
  shutdowns = 0;
  /** Told of every frame `close` integrates, before the state changes (a trace). */
  onFrame: ((fromNs: number, toNs: number, counted: boolean) => void) | undefined;

  #power: number[][];
  #cloudsim: boolean;
  #opensAtNs: number;
  #activeNs: Float64Array;
  #slaNs: Float64Array;
  #energyJ: Float64Array;
  #busy: Float64Array;
  #wasActive: Uint8Array;
  #frameStartU: Float64Array;
  #frameSeconds = 0;
  #totalJ = 0;
  #lossMipsS = 0;
  #requestedMipsS = 0;
  #missingMipsS = 0;

  /**
   * Opens the books.
   *
   * @param power Each host's power table (W at 0, 10, …, 100 %).
   * @param options CloudSim's books or not, and when the first evaluation comes.
   */
  constructor(power: number[][], options: { quirks: Quirks; firstEvaluationNs: number }) {
    const hosts = power.length;
    this.#power = power;
    this.#cloudsim = options.quirks.booksFromFirstEvaluation;
    this.#opensAtNs = this.#cloudsim ? options.firstEvaluationNs : 0;
    this.u = new Float64Array(hosts);
    this.watts = new Float64Array(hosts);
    this.active = new Uint8Array(hosts);
    this.sla = new Uint8Array(hosts);
    this.#activeNs = new Float64Array(hosts);
    this.#slaNs = new Float64Array(hosts);
    this.#energyJ = new Float64Array(hosts);
    this.#busy = new Float64Array(hosts);
    // CloudSim counts a shutdown from each host's start as active; hyperhook from off.
    this.#wasActive = new Uint8Array(hosts).fill(this.#cloudsim ? 1 : 0);
    this.#frameStartU = new Float64Array(hosts);
  }

  /** Whether a host's power is its table's at its utilisation (CloudSim's books: while allocated). */
  get cloudsim(): boolean {
    return this.#cloudsim;
  }

  /**
   * Integrates the frame [fromNs, toNs) with the state held since `fromNs`. `peak`: every host at
   * its full power from the start, whatever it does (no power management).
   */
  close(fromNs: number, toNs: number, peak: boolean): void {
    const dt = toNs - fromNs, seconds = dt / 1e9;
    if (peak) {
      for (let h = 0; h < this.#power.length; h++) this.#charge(h, this.#power[h]![10]! * seconds);
    }
    this.onFrame?.(fromNs, toNs, fromNs >= this.#opensAtNs);
    if (fromNs < this.#opensAtNs) return;
    this.entry();
    const exact = !peak && !this.#cloudsim;
    for (let h = 0; h < this.active.length; h++) {
      if (this.active[h] === 0) continue;
      this.#activeNs[h]! += dt;
      this.#busy[h]! += this.u[h]! * dt;
      if (this.sla[h] === 1) this.#slaNs[h]! += dt;
      if (exact) this.#charge(h, this.watts[h]! * seconds);
    }
    this.#lossMipsS += this.migrationLoss * seconds;
    this.#requestedMipsS += this.requested * seconds;
    this.#missingMipsS += this.missing * seconds;
    if (!peak && this.#cloudsim) {
      // CloudSim's energy needs the utilisation at the frame's end too: see `shared`.
      this.#frameStartU.set(this.u);
      this.#frameSeconds = seconds;
    }
  }

  /** The state of the instant is shared out: CloudSim's frame just closed gets its energy. */
  shared(): void {
    const seconds = this.#frameSeconds;
    if (seconds === 0) return;
    this.#frameSeconds = 0;
    // [u0 > 0] · (P(u0) + P(u1)) / 2 · Δt, in CloudSim's order of operations.
    for (let h = 0; h < this.u.length; h++) {
      const before = this.#frameStartU[h]!;
      if (before === 0) continue;
      const table = this.#power[h]!;
      const from = powerAt(table, before), to = powerAt(table, this.u[h]!);
      this.#charge(h, (from + (to - from) / 2) * seconds);
    }
  }

  #charge(h: number, joules: number): void {
    this.#totalJ += joules;
    this.#energyJ[h]! += joules;
  }

  /** Counts hosts that went from active to idle since the previous entry. */
  entry(): void {
    for (let h = 0; h < this.active.length; h++) {
      const active = this.active[h]!;
      if (this.#wasActive[h] === 1 && active === 0) this.shutdowns++;
      this.#wasActive[h] = active;
    }
  }

  /** Closes the books at the end: the last frame (hyperhook's) and the last entry. */
  finish(lastNs: number, endNs: number, peak: boolean): void {
    if (!this.#cloudsim) {
      if (endNs > lastNs) this.close(lastNs, endNs, peak);
      this.entry();
    } else if (lastNs >= this.#opensAtNs) {
      // CloudSim's books end at its last update; its state there is a last entry.
      this.entry();
    }
  }

  /** Energy (kWh), SLATAH, PDM, SLA overall and hosts active now. */
  totals(): { energyKwh: number; slatah: number; pdm: number; slaOverall: number; active: number } {
    let activeTime = 0, slaTime = 0, active = 0;
    for (let h = 0; h < this.#activeNs.length; h++) {
      activeTime += this.#activeNs[h]!;
      slaTime += this.#slaNs[h]!;
      active += this.active[h]!;
    }
    const requested = this.#requestedMipsS;
    return {
      energyKwh: this.#totalJ / 3.6e6,
      slatah: activeTime === 0 ? 0 : slaTime / activeTime,
      pdm: requested === 0 ? 0 : this.#lossMipsS / requested,
      slaOverall: requested === 0 ? 0 : this.#missingMipsS / requested,
      active,
    };
  }

  /** Per-host totals, given each host's id and type. */
  hosts(ids: readonly string[], types: readonly string[]): HostFigures[] {
    return ids.map((id, h) => ({
      id,
      type: types[h]!,
      activeNs: this.#activeNs[h]!,
      slaNs: this.#slaNs[h]!,
      energyKwh: this.#energyJ[h]! / 3.6e6,
      meanUtilization: this.#activeNs[h] === 0 ? 0 : this.#busy[h]! / this.#activeNs[h]!,
    }));
  }
}
