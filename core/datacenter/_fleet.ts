/**
 * The datacenter's hosts and VMs as the placement domain keeps them (private to this folder): one
 * typed array per figure, indexed by host or VM, built from the flattened workload. The domain
 * changes them; the fluid model (`fluid.ts`) reads demands into them and shares MIPS out.
 *
 * @module
 */

import { HISTORY_LENGTH } from "../policy/placement.ts";
import { invalidDecision as invalid } from "../protocol/runtime.ts";
import type { DatacenterModel } from "./model.ts";

/** Slack for sums of MIPS compared by policy and kernel in different orders. */
const EPSILON = 1e-6;

// A VM is first not arrived (0), then waiting for its place, running, gone, or never placed.
/** A VM arrived and waits for its place. */
export const WAITING = 1;
/** A VM runs on a host. */
export const RUNNING = 2;
/** A VM left for good. */
export const GONE = 3;
/** A VM the policy left unplaced. */
export const UNPLACED = 4;
/** A migrating VM's memory is being copied (it runs on its source). */
export const COPYING = 1;
/** A migrating VM is paused for the last copy (it runs nowhere). */
export const PAUSED = 2;

/** The hosts and VMs of a datacenter, by index. */
export class Fleet {
  // Hosts.
  /** Each host's MIPS (cores × MIPS a core). */
  readonly hostMips: Float64Array;
  /** Each host's MIPS a core (a VM's most). */
  readonly hostCore: Float64Array;
  /** Each host's RAM, in MB. */
  readonly hostRam: Float64Array;
  /** Each host's bandwidth, in Mbit/s. */
  readonly hostBw: Float64Array;
  /** Each host's power curve (11 points, 0 % to 100 %). */
  readonly hostPower: number[][];
  /** Each host's VMs, in order of arrival there (a VM migrating in included). */
  readonly hostVms: number[][];
  /** MIPS each host gives now. */
  readonly hostAllocated: Float64Array;
  /** MIPS each host's own VMs ask for now. */
  readonly hostRequested: Float64Array;
  /** MIPS each host's VMs ask for and do not get. */
  readonly hostMissing: Float64Array;
  /** MIPS each host's VMs migrating out do not get. */
  readonly hostMigrationLoss: Float64Array;
  /** Hosts whose VMs changed since the last share-out. */
  readonly touched: Uint8Array;
  /** Whether every host is to be shared out again (demands were read, or the policy changed). */
  allTouched = true;

  // VMs.
  /** Each VM's MIPS (its type's). */
  readonly vmMips: Float64Array;
  /** Each VM's RAM, in MB. */
  readonly vmRam: Float64Array;
  /** Each VM's bandwidth, in Mbit/s. */
  readonly vmBw: Float64Array;
  /** Each VM's dirty rate (pre-copy), in MB/s. */
  readonly vmDirty: Float64Array;
  /** Each VM's state: 0 (not arrived), WAITING, RUNNING, GONE, UNPLACED. */
  readonly vmState: Uint8Array;
  /** Each VM's host, or -1. */
  readonly vmHost: Int32Array;
  /** Where each VM migrates to, or -1. */
  readonly vmTarget: Int32Array;
  /** Each migrating VM's phase: 0, COPYING or PAUSED. */
  readonly vmPhase: Uint8Array;
  /** Bumped when a VM's migration ends or it leaves, so stale events are recognised. */
  readonly vmSerial: Int32Array;
  /** Each VM's demand now, in MIPS. */
  readonly vmDemand: Float64Array;
  /** MIPS each VM gets now. */
  readonly vmAllocated: Float64Array;
  /** Pre-copy on detailed hosts: rounds done. */
  readonly vmRounds: Int32Array;
  /** Pre-copy on detailed hosts: when the migration started. */
  readonly vmMigrationStart: Float64Array;

  /** @param model The flattened workload. */
  constructor(model: DatacenterModel) {
    const hosts = model.hostType.length, vms = model.vmType.length;
    const hostType = (h: number) => model.hostTypes[model.hostType[h]!]!;
    this.hostMips = Float64Array.from({ length: hosts }, (_, h) => {
      const type = hostType(h);
      return type.cores * type.mips;
    });
    this.hostCore = Float64Array.from({ length: hosts }, (_, h) => hostType(h).mips);
    this.hostRam = Float64Array.from({ length: hosts }, (_, h) => hostType(h).ram);
    this.hostBw = Float64Array.from({ length: hosts }, (_, h) => hostType(h).bandwidth);
    this.hostPower = Array.from({ length: hosts }, (_, h) => hostType(h).power);
    this.hostVms = Array.from({ length: hosts }, () => []);
    this.hostAllocated = new Float64Array(hosts);
    this.hostRequested = new Float64Array(hosts);
    this.hostMissing = new Float64Array(hosts);
    this.hostMigrationLoss = new Float64Array(hosts);
    this.touched = new Uint8Array(hosts);

    const vmType = (v: number) => model.vmTypes[model.vmType[v]!]!;
    this.vmMips = Float64Array.from({ length: vms }, (_, v) => vmType(v).mips);
    this.vmRam = Float64Array.from({ length: vms }, (_, v) => vmType(v).ram);
    this.vmBw = Float64Array.from({ length: vms }, (_, v) => vmType(v).bandwidth);
    this.vmDirty = Float64Array.from({ length: vms }, (_, v) => vmType(v).dirtyRate);
    this.vmState = new Uint8Array(vms);
    this.vmHost = new Int32Array(vms).fill(-1);
    this.vmTarget = new Int32Array(vms).fill(-1);
    this.vmPhase = new Uint8Array(vms);
    this.vmSerial = new Int32Array(vms);
    this.vmDemand = new Float64Array(vms);
    this.vmAllocated = new Float64Array(vms);
    this.vmRounds = new Int32Array(vms);
    this.vmMigrationStart = new Float64Array(vms);
  }

  /**
   * Marks host `h` (-1: none) for the next share-out.
   *
   * @param h The host.
   */
  touch(h: number): void {
    if (h >= 0) this.touched[h] = 1;
  }

  /**
   * MIPS a host's VMs are asked for now, a VM migrating in at its reservation.
   *
   * @param h The host.
   * @param reservation The share of its demand a VM migrating in reserves.
   */
  required(h: number, reservation: number): number {
    const core = this.hostCore[h]!;
    let sum = 0;
    for (const v of this.hostVms[h]!) {
      const capped = Math.min(this.vmDemand[v]!, core);
      sum += this.vmTarget[v] === h ? reservation * capped : capped;
    }
    return sum;
  }

  /**
   * The RAM and bandwidth a host's VMs hold.
   *
   * @param h The host.
   * @returns MB of RAM and Mbit/s.
   */
  usedRam(h: number): [number, number] {
    let ram = 0, bw = 0;
    for (const v of this.hostVms[h]!) ram += this.vmRam[v]!, bw += this.vmBw[v]!;
    return [ram, bw];
  }

  /**
   * Checks that a host a policy named exists.
   *
   * @param host The host.
   * @param what The decision, for the message.
   * @throws {PolicyFailure} `invalid`, `unknown-host`.
   */
  checkHost(host: number, what: string): void {
    if (!Number.isInteger(host) || host < 0 || host >= this.hostMips.length) {
      throw invalid(
        "unknown-host",
        `${what} names host ${host}, which does not exist (hosts 0..${this.hostMips.length - 1})`,
      );
    }
  }

  /**
   * Checks that host `h` has room for VM `v` at `mips`, beside `planned` MIPS, RAM and BW.
   *
   * @param v The VM.
   * @param h The host.
   * @param mips What the VM asks for.
   * @param planned MIPS, RAM and bandwidth the same decision already puts on the host.
   * @param what The decision, for the message.
   * @param rules The reservation of a VM migrating in, and whether placed VMs hold their RAM.
   * @throws {PolicyFailure} `invalid`: `full-host`, `ram` or `bandwidth`.
   */
  checkRoom(
    v: number,
    h: number,
    mips: number,
    planned: number[],
    what: string,
    rules: { reservation: number; ramHeld: boolean },
  ): void {
    const capped = Math.min(mips, this.hostCore[h]!);
    const free = this.hostMips[h]! - this.required(h, rules.reservation) - planned[0]!;
    if (capped > free + EPSILON) {
      throw invalid(
        "full-host",
        `${what} puts ${capped} MIPS on host ${h}, which has ${Math.max(0, free)} MIPS free`,
      );
    }
    if (!rules.ramHeld) return;
    const [ram, bw] = this.usedRam(h);
    if (ram + planned[1]! + this.vmRam[v]! > this.hostRam[h]! + EPSILON) {
      throw invalid(
        "ram",
        `${what} needs ${this.vmRam[v]} MB of RAM on host ${h}, which has ${
          this.hostRam[h]! - ram - planned[1]!
        } MB free`,
      );
    }
    if (bw + planned[2]! + this.vmBw[v]! > this.hostBw[h]! + EPSILON) {
      throw invalid(
        "bandwidth",
        `${what} needs ${this.vmBw[v]} Mbit/s on host ${h}, which has ${
          this.hostBw[h]! - bw - planned[2]!
        } Mbit/s free`,
      );
    }
  }
}

/**
 * The running VMs' utilisation at the last evaluations, for a policy that takes over: a ring of
 * `HISTORY_LENGTH` rows of all VMs, the newest first.
 */
export class Histories {
  #ring: Float64Array;
  #head = 0;
  #count: Int32Array;
  #vms: number;

  /** @param vms How many VMs. */
  constructor(vms: number) {
    this.#vms = vms;
    this.#ring = new Float64Array(vms * HISTORY_LENGTH);
    this.#count = new Int32Array(vms);
  }

  /**
   * Records every running VM's utilisation now (demand over MIPS) as the newest row.
   *
   * @param fleet The hosts and VMs.
   */
  push(fleet: Fleet): void {
    const vms = this.#vms;
    this.#head = (this.#head + HISTORY_LENGTH - 1) % HISTORY_LENGTH;
    const slot = this.#head * vms;
    for (let v = 0; v < vms; v++) {
      if (fleet.vmState[v] !== RUNNING) continue;
      this.#ring[slot + v] = fleet.vmDemand[v]! / fleet.vmMips[v]!;
      if (this.#count[v]! < HISTORY_LENGTH) this.#count[v]!++;
    }
  }

  /**
   * A VM's history as `HISTORY` sends it: `[v, count, newest…]`, or undefined when it has none.
   *
   * @param v The VM.
   * @param skip How many of the newest rows to leave out.
   */
  of(v: number, skip: number): number[] | undefined {
    const count = this.#count[v]! - skip;
    if (count <= 0) return undefined;
    const values = [v, count];
    for (let i = skip; i < count + skip; i++) {
      values.push(this.#ring[((this.#head + i) % HISTORY_LENGTH) * this.#vms + v]!);
    }
    return values;
  }
}

/**
 * Takes `v` out of `list`, if it is in.
 *
 * @param list A host's VMs.
 * @param v The VM.
 */
export function remove(list: number[], v: number): void {
  const at = list.indexOf(v);
  if (at >= 0) list.splice(at, 1);
}
