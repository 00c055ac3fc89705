/**
 * A datacenter run recorded into a trace file ({@linkcode TraceFile} in `trace.ts`):
 *
 * - one process per host: its VMs, each placement a complete (`X`) slice from the VM's placement
 *   (or the end of its migration there) to its migration away, its departure or the end of the
 *   run, on lanes ("VMs 1", "VMs 2", …: VMs run side by side, and a track's slices may not
 *   overlap); a VM migrating in holds a lane from the migration's start as `VM ← host`; its
 *   utilisation as a counter; each time it is at 100 % CPU (SLATAH's time) an `overloaded` slice
 *   on its first track, which add up to its `slaNs`;
 * - the placement policy's track: each placement, each VM left unplaced and each migration (with
 *   its source and target) as instant events; incidents and swaps marked across the trace;
 * - the datacenter's counters: active hosts, VMs placed, power (W).
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import type { DatacenterSimulation } from "../datacenter/simulation.ts";
import type { Books } from "../datacenter/books.ts";
import type { TraceFile } from "./trace.ts";
import { TrackNames } from "./_track_names.ts";

/** `PLACEMENT_LOG` of `datacenter/domain.ts` (not imported: this module loads with any trace). */
const PLACE = 1, UNPLACED = 2, MIGRATE = 3;

/** One datacenter run recorded into a {@linkcode TraceFile}. */
export class DatacenterTraceRun {
  /** The run's label, when the file holds several. */
  readonly label: string | undefined;
  readonly #file: TraceFile;
  readonly #simulation: DatacenterSimulation;
  readonly #pid: number;
  readonly #from: number;
  readonly #to: number;
  readonly #hostIds: readonly string[];
  readonly #vmIds: readonly string[];
  /** Per VM: the host it is on (-1: none), since when, how it came there, its lane. */
  #host: Int32Array;
  #since: Float64Array;
  #via: string[];
  #lane: Int32Array;
  /** Per VM: the host it migrates to (-1: none), since when, from where, its lane there. */
  #target: Int32Array;
  #targetSince: Float64Array;
  #targetLane: Int32Array;
  /** Per host: which lanes are taken (index 0 is the overload track), and the most used. */
  #lanes: Uint8Array[];
  #lanesUsed: Int32Array;
  /** Per host: overloaded since (NaN: not), its utilisation last written (hundredths, -1). */
  #overSince: Float64Array;
  #written: Float64Array;
  /** The end of the last frame. */
  #lastFrameNs = 0;
  #placed = 0;
  #lastActive = -1;
  #lastPower = NaN;
  #lastPlaced = -1;
  #until = Infinity;
  #finished = false;

  /**
   * Use {@linkcode TraceFile.watchDatacenter}.
   *
   * @ignore
   */
  constructor(
    file: TraceFile,
    simulation: DatacenterSimulation,
    pid: number,
    label: string | undefined,
  ) {
    this.#file = file;
    this.#simulation = simulation;
    this.#pid = pid;
    this.label = label;
    this.#from = file.fromNs;
    this.#to = file.toNs;
    const model = simulation.domain.model;
    this.#hostIds = model.hostIds;
    this.#vmIds = model.vmIds;
    const vms = model.vmIds.length, hosts = model.hostIds.length;
    this.#host = new Int32Array(vms).fill(-1);
    this.#since = new Float64Array(vms);
    this.#via = new Array<string>(vms).fill("");
    this.#lane = new Int32Array(vms);
    this.#target = new Int32Array(vms).fill(-1);
    this.#targetSince = new Float64Array(vms);
    this.#targetLane = new Int32Array(vms);
    this.#lanes = Array.from({ length: hosts }, () => new Uint8Array(1));
    this.#lanesUsed = new Int32Array(hosts);
    this.#overSince = new Float64Array(hosts).fill(NaN);
    this.#written = new Float64Array(hosts).fill(-1);
    simulation.kernel.log.observe((domain, kind, atNs, a, b, c) => {
      if (domain === LOG.placement) this.#decision(kind, atNs, a, b, c);
      else if (domain === LOG.kernel) this.#kernelDecision(kind, atNs, a);
    });
    simulation.domain.watch({
      migrated: (v, from, to, atNs) => this.#migrated(v, from, to, atNs),
      left: (v, host, target, atNs) => this.#left(v, host, target, atNs),
      frame: (fromNs, toNs, books, counted) => this.#frame(fromNs, toNs, books, counted),
    });
  }

  #push(event: string, atNs: number): void {
    this.#file.push(event, atNs, this);
  }

  #inWindow(atNs: number): boolean {
    return atNs >= this.#from && atNs < this.#to;
  }

  /** A complete slice `[startNs, endNs)` (clipped to the window) of `text` on `pid`/`tid`. */
  #slice(pid: number, tid: number, text: string, startNs: number, endNs: number): void {
    const start = Math.max(startNs, this.#from), end = Math.min(endNs, this.#to, this.#until);
    if (end < start || (end === start && !this.#inWindow(startNs))) return;
    this.#push(
      `{"ph":"X","pid":${pid},"tid":${tid},${text},"ts":${start / 1000},"dur":${
        (end - start) / 1000
      }}`,
      start,
    );
  }

  #instant(tid: number, name: string, atNs: number, args: unknown, global = false): void {
    if (!this.#inWindow(atNs)) return;
    this.#push(
      `{"ph":"i",${global ? `"s":"g",` : ""}"pid":${this.#pid + 3},"tid":${tid},"name":${
        JSON.stringify(name)
      },"ts":${atNs / 1000},"args":${JSON.stringify(args)}}`,
      atNs,
    );
  }

  #counter(pid: number, name: string, args: string, atNs: number): void {
    const at = Math.max(atNs, this.#from);
    if (!this.#inWindow(at)) return;
    this.#push(`{"ph":"C","pid":${pid},"name":"${name}","args":${args},"ts":${at / 1000}}`, at);
  }

  /** The lowest free VM lane of host `h` (1 and up), taken. */
  #takeLane(h: number): number {
    let lanes = this.#lanes[h]!;
    let lane = lanes.indexOf(0, 1);
    if (lane < 0) {
      lane = lanes.length;
      const more = new Uint8Array(2 * lanes.length);
      more.set(lanes);
      lanes = this.#lanes[h] = more;
    }
    lanes[lane] = 1;
    this.#lanesUsed[h] = Math.max(this.#lanesUsed[h]!, lane);
    return lane;
  }

  #decision(kind: number, atNs: number, a: number, b: number, c: number): void {
    const vm = this.#vmIds[a] ?? `#${a}`;
    if (kind === PLACE) {
      this.#instant(4, `place ${vm} on ${this.#hostIds[b]}`, atNs, {
        vm,
        host: this.#hostIds[b],
      });
      this.#begin(a, b, atNs, "placement", this.#takeLane(b));
      this.#placed++;
    } else if (kind === UNPLACED) {
      this.#instant(4, `unplaced ${vm}`, atNs, { vm });
    } else if (kind === MIGRATE) {
      const from = this.#hostIds[b], to = this.#hostIds[c];
      this.#instant(4, `migrate ${vm}: ${from} → ${to}`, atNs, { vm, from, to });
      this.#target[a] = c;
      this.#targetSince[a] = atNs;
      this.#targetLane[a] = this.#takeLane(c);
    }
  }

  #kernelDecision(kind: number, atNs: number, index: number): void {
    const domain = this.#simulation.kernel.domains[index];
    const name = domain?.name ?? String(index);
    if (kind === 1) this.#instant(0, `eject: ${name} policy`, atNs, { affects: name }, true);
    else if (kind === 2) {
      const policy = domain?.slot.info.name;
      this.#instant(0, `swap: ${name} policy ${policy}`, atNs, { affects: name, policy }, true);
    }
  }

  /** VM `v` is on host `h` from `atNs` (placed, or migrated there), on `lane`. */
  #begin(v: number, h: number, atNs: number, via: string, lane: number): void {
    this.#host[v] = h;
    this.#since[v] = atNs;
    this.#via[v] = via;
    this.#lane[v] = lane;
  }

  /** VM `v`'s stay on its host ends at `atNs` (`end`: why). */
  #end(v: number, atNs: number, end: string): void {
    const h = this.#host[v]!;
    if (h < 0) return;
    this.#host[v] = -1;
    this.#lanes[h]![this.#lane[v]!] = 0;
    const vm = JSON.stringify(this.#vmIds[v]);
    this.#slice(
      this.#pid + 100 + h,
      this.#lane[v]!,
      `"name":${vm},"args":{"vm":${vm},"host":${JSON.stringify(this.#hostIds[h])},"via":"${
        this.#via[v]
      }","end":${JSON.stringify(end)}}`,
      this.#since[v]!,
      atNs,
    );
  }

  /** VM `v`'s migration to its target ends at `atNs` (`end`: how). */
  #endIncoming(v: number, atNs: number, end: string): void {
    const h = this.#target[v]!;
    if (h < 0) return;
    this.#target[v] = -1;
    if (end !== "arrived") this.#lanes[h]![this.#targetLane[v]!] = 0;
    const vm = this.#vmIds[v]!, from = this.#hostIds[this.#host[v]!] ?? "";
    this.#slice(
      this.#pid + 100 + h,
      this.#targetLane[v]!,
      `"name":${JSON.stringify(`${vm} ← ${from}`)},"cat":"migration","args":${
        JSON.stringify({ vm, from, to: this.#hostIds[h], end })
      }`,
      this.#targetSince[v]!,
      atNs,
    );
  }

  #migrated(v: number, from: number, to: number, atNs: number): void {
    const lane = this.#targetLane[v]!;
    this.#endIncoming(v, atNs, "arrived");
    this.#end(v, atNs, `migrated to ${this.#hostIds[to]}`);
    // The VM keeps the lane its migration held there.
    this.#begin(v, to, atNs, `migration from ${this.#hostIds[from]}`, lane);
  }

  #left(v: number, _host: number, _target: number, atNs: number): void {
    if (this.#host[v]! >= 0) this.#placed--;
    this.#endIncoming(v, atNs, "left");
    this.#end(v, atNs, "left");
  }

  #frame(fromNs: number, toNs: number, books: Books, counted: boolean): void {
    this.#lastFrameNs = toNs;
    const hosts = books.u.length;
    // Counters are written for the frames the window sees (the first with every value).
    const visible = toNs > this.#from && fromNs < this.#to;
    let active = 0, watts = 0;
    for (let h = 0; h < hosts; h++) {
      const on = books.active[h] === 1;
      if (on) active++, watts += books.watts[h]!;
      const over = counted && on && books.sla[h] === 1, since = this.#overSince[h]!;
      if (over && since !== since) this.#overSince[h] = fromNs;
      else if (!over && since === since) this.#closeOverload(h, fromNs);
      const hundredths = on ? Math.round(1e4 * books.u[h]!) : 0;
      if (visible && hundredths !== this.#written[h]) {
        this.#written[h] = hundredths;
        this.#counter(this.#pid + 100 + h, "utilization", `{"%":${hundredths / 100}}`, fromNs);
      }
    }
    const pid = this.#pid + 1;
    if (!visible) return;
    if (active !== this.#lastActive) {
      this.#lastActive = active;
      this.#counter(pid, "active hosts", `{"hosts":${active}}`, fromNs);
    }
    if (watts !== this.#lastPower) {
      this.#lastPower = watts;
      this.#counter(pid, "power", `{"W":${Math.round(100 * watts) / 100}}`, fromNs);
    }
    if (this.#placed !== this.#lastPlaced) {
      this.#lastPlaced = this.#placed;
      this.#counter(pid, "VMs placed", `{"VMs":${this.#placed}}`, fromNs);
    }
  }

  #closeOverload(h: number, atNs: number): void {
    const since = this.#overSince[h]!;
    this.#overSince[h] = NaN;
    this.#slice(this.#pid + 100 + h, 0, `"name":"overloaded","cat":"sla"`, since, atNs);
  }

  /**
   * The size cap stopped the recording, in this run at `atNs` (undefined: in another run, or
   * before this one began; now, then).
   *
   * @ignore
   */
  stopped(atNs?: number): void {
    this.#until = atNs ?? this.#simulation.kernel.now;
  }

  /** Closes what is still open at the end of the run; marks the incidents. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const end = this.#simulation.kernel.now;
    // Overloads end with the books' last frame (CloudSim's books close at the last update).
    for (let h = 0; h < this.#overSince.length; h++) {
      if (this.#overSince[h] === this.#overSince[h]) this.#closeOverload(h, this.#lastFrameNs);
    }
    for (let v = 0; v < this.#host.length; v++) {
      this.#endIncoming(v, end, "end of run");
      this.#end(v, end, "end of run");
    }
    for (const incident of this.#simulation.kernel.incidents) {
      this.#instant(
        4,
        `incident: ${incident.domain} policy ${incident.policy} ejected (${incident.kind}/${incident.reason})`,
        incident.atNs,
        incident,
        true,
      );
    }
  }

  /** The metadata events naming the run's processes and tracks. */
  metadata(): string[] {
    const tracks = new TrackNames(this.label);
    tracks.process(this.#pid + 1, "datacenter");
    tracks.process(this.#pid + 3, "policies");
    tracks.thread(this.#pid + 3, 0, "kernel");
    tracks.thread(this.#pid + 3, 4, "placement policy");
    this.#hostIds.forEach((id, h) => {
      const pid = this.#pid + 100 + h;
      tracks.process(pid, `host ${id}`);
      tracks.thread(pid, 0, "overloaded");
      for (let lane = 1; lane <= this.#lanesUsed[h]!; lane++) {
        tracks.thread(pid, lane, `VMs ${lane}`);
      }
    });
    return tracks.events;
  }
}
