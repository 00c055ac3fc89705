/**
 * The I/O domain: disks with their service-time models, the requests VMs submit, and the
 * mechanics of serving them. The policy decides which queued request each idle disk serves next;
 * this file makes it happen, checks every decision, enforces each VM's `io.max` limits and keeps
 * the books (latency, bytes, head movement, busy time, deadline misses).
 *
 * A request's life: *submitted* by its VM (an explicit request, a generator, a trace, or a vCPU's
 * `{io}` step); *held* by the kernel while its VM is over its `io.max` limit; *queued* at the policy
 * (the `submitted` hook); *dispatched* into its disk's local queue by the policy's answer to
 * `dispatch` (several at once are served in order without asking again, like sched_ext's local
 * dispatch queues); *started* on the disk, whose model gives its service time; *completed*.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { VcpuControl, VmDomain } from "../kernel/domain.ts";
import { Queries } from "../kernel/_queries.ts";
import { Watchdog } from "../kernel/_watchdog.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import { LiveById } from "../engine/live_by_id.ts";
import type { DiskInfo, IoLimits, IoVmSpec } from "../protocol/payloads.ts";
import { IO_OP } from "../protocol/ops.ts";
import type { Reply } from "../protocol/batch.ts";

import { invalidDecision as invalid, PolicyFailure } from "../protocol/runtime.ts";
import { WorkloadError } from "../workload/error.ts";
import { IO_WEIGHT, VM_IO_DEFAULTS } from "../workload/defaults.ts";
import { readTraceText } from "../workload/trace_file.ts";
import type { VmWorkload } from "../workload/types.ts";
import type { DiskRequestShape } from "./disk/model.ts";
import { type IoStep, resolveVmIo } from "./requests.ts";
import { RequestDraft, type RequestSource } from "./sources.ts";
import { type IoFigures, ioFigures } from "./figures.ts";
import {
  type Disk,
  FREE,
  HELD,
  IoRequest,
  IoVm,
  LOCAL,
  QUEUED,
  SERVICE,
  STATE_NAMES,
} from "./model.ts";

const EV_SUBMIT = 0, EV_COMPLETE = 1, EV_RELEASE = 2, EV_WATCHDOG = 3, EV_PARAMS = 4;

/** How many head movements a disk accepts in a row before a request must come. */
const MAX_SEEKS_IN_A_ROW = 2;

/**
 * Log kinds of I/O decisions (`kernel.log` records `(LOG.io, kind, atNs, a, b, c)`). Submissions
 * and completions follow from the workload and these decisions, so they are not logged.
 */
export const IO_LOG = {
  /** `(id, disk, serviceNs)`: a request started on its disk. */
  START: 2,
  /** `(disk, cylinder, ns)`: the head moved on the policy's order. */
  SEEK: 4,
  /** `(id, vm, releaseNs)`: the VM's `io.max` held a request back. */
  HOLD: 5,
  /** `(id, vm, 0)`: a held request was released to the policy. */
  RELEASE: 6,
  /** `(vm, weight, 0)`: a VM's I/O parameters changed. */
  PARAMS: 7,
} as const;

/** A change of a VM's I/O parameters. */
export interface IoParamsSet {
  /** Its `io.weight` (clamped to 1..10000). */
  weight?: number;
  /** `io.max` fields to set (0 removes a limit). */
  max?: Partial<IoLimits>;
  /** Both `riops` and `wiops` at once. */
  iops?: number;
  /** Both `rbps` and `wbps` at once. */
  bytesPerSecond?: number;
}

/** A VM's I/O, checked and resolved by {@linkcode IoDomain.prepareVm} but not added yet. */
export interface PreparedIoVm {
  /** The VM's index. */
  readonly index: number;
  /** Its validated description. */
  readonly spec: VmWorkload;
  /** Its `{io}` program steps, by their workload object. */
  readonly steps: Map<unknown, IoStep>;
  /** Its request sources, not yet armed. */
  readonly sources: RequestSource[];
}

/** Where a source stands. */
class SourceState {
  readonly source: RequestSource;
  /** Open loop: the next request, ready. */
  readonly draft: RequestDraft = new RequestDraft();
  outstanding = 0;
  exhausted = false;
  counted: boolean;

  constructor(source: RequestSource) {
    this.source = source;
    this.counted = source.finite;
  }
}

/** The I/O domain of a kernel. */
export class IoDomain implements VmDomain<PreparedIoVm, IoParamsSet, IoFigures> {
  /** Always `io`. */
  readonly name = "io" as const;
  /** The I/O policy slot. */
  readonly slot: PolicySlot;
  /** The disks, in `host.disks` order. */
  readonly disks: Disk[];
  /** The VMs, in workload order. */
  readonly vms: IoVm[] = [];
  #kernel: Kernel;
  #base: number;
  /** Parameter changes the workload's timeline scheduled, by event target. */
  #timeline: { index: number; set: IoParamsSet }[] = [];
  #cpu: VcpuControl | undefined;
  #readText: (path: string) => string;
  #diskIndex: Map<string, number>;
  /** The `{io}` program steps of every VM, by their workload object, with the VM's index. */
  #steps = new Map<unknown, { step: IoStep; vm: number }>();
  #sources: SourceState[] = [];
  /** The live requests by id. */
  #requests = new LiveById<IoRequest>(1024);
  #pool: IoRequest[] = [];
  #nextId = 0;
  #queries: Queries;
  #args = new Float64Array(10);
  #shape: DiskRequestShape = { lba: 0, blocks: 1, write: false };
  #shapeCylinder: DiskRequestShape = { lba: 0, blocks: 1, write: false, cylinder: 0 };
  #watchdog: Watchdog;

  /**
   * @param kernel The kernel.
   * @param slot The policy slot.
   * @param disks The disks.
   * @param options `cpu`: the CPU domain's vCPUs, which block on `{io}` steps (to wake them);
   *   `readText`: reads trace files (default `readTraceText`: regular files within a size limit).
   */
  constructor(
    kernel: Kernel,
    slot: PolicySlot,
    disks: Disk[],
    options: { cpu?: VcpuControl; readText?: (path: string) => string } = {},
  ) {
    this.#kernel = kernel;
    this.slot = slot;
    this.disks = disks;
    this.#cpu = options.cpu;
    this.#readText = options.readText ?? ((path) => readTraceText(path));
    this.#diskIndex = new Map(disks.map((disk) => [disk.id, disk.index]));
    this.#base = kernel.register(this, 5);
    this.#queries = new Queries(slot);
    this.#watchdog = new Watchdog(kernel, this.#base + EV_WATCHDOG);
  }

  /**
   * Checks a VM's I/O and builds its sources, changing nothing: a VM added live is checked in
   * every domain before any of them changes. {@linkcode IoDomain.addVm} then adds it. Every VM
   * has its place in the I/O domain, with or without I/O of its own, so that indices match.
   *
   * @param index The VM's index, which must be the next one.
   * @param spec The VM's validated description.
   * @param place Where the VM sits, for messages.
   * @param readText Reads its trace files (default: the domain's reader).
   * @throws {WorkloadError} When a request does not fit its disk, a trace cannot be used, or a
   *   source never ends and the run has no `stopAt`.
   */
  prepareVm(
    index: number,
    spec: VmWorkload,
    place = `vms[${index}]`,
    readText: (path: string) => string = this.#readText,
  ): PreparedIoVm {
    if (index !== this.vms.length) {
      throw new Error(`The I/O domain expected VM index ${this.vms.length}, got ${index}`);
    }
    const { steps, sources } = resolveVmIo(spec, index, {
      disks: this.disks,
      diskIndex: this.#diskIndex,
      rng: this.#kernel.rng,
      readText,
      arriveNs: this.#kernel.now + (spec.cpu?.arrive ?? 0),
      place,
    });
    for (const source of sources) {
      if (!source.finite && this.#kernel.stopAtNs === undefined) {
        throw new WorkloadError(
          `Workload: stopAt: expected a duration such as "10s", because ${place} (${spec.id}) submits forever (${source.label})`,
        );
      }
    }
    return { index, spec, steps, sources };
  }

  /** Adds a VM checked by {@linkcode IoDomain.prepareVm} (at the same index and time). */
  addVm(prepared: PreparedIoVm): IoVm {
    const { index, spec, steps, sources } = prepared;
    if (index !== this.vms.length) {
      throw new Error(`The I/O domain expected VM index ${this.vms.length}, got ${index}`);
    }
    // A VM without an `io` section still has its place, with the defaults its section would have.
    const { weight, max } = spec.io ?? VM_IO_DEFAULTS;
    const vm = new IoVm(index, spec.id, weight, { ...max });
    this.vms.push(vm);
    for (const [payload, step] of steps) this.#steps.set(payload, { step, vm: index });
    for (const source of sources) this.#addSource(source);
    return vm;
  }

  /**
   * Removes a VM (live control): its sources stop submitting; requests already submitted are
   * still served, and the policy hears `VM_REMOVE`.
   *
   * @param index The VM's index.
   */
  removeVm(index: number): void {
    const vm = this.vms[index];
    if (vm === undefined || vm.removedNs !== null) return;
    vm.removedNs = this.#kernel.now;
    for (const state of this.#sources) if (state.source.vm === index) this.#exhaust(state);
    if (vm.announced) this.slot.writer.call1(IO_OP.VM_REMOVE, this.#kernel.now, index);
  }

  /**
   * Changes a VM's I/O parameters (live control, `PATCH /v1/vms/{id}` with `io`). `max` sets
   * `io.max` fields; `iops` and `bytesPerSecond` set both directions at once.
   *
   * @param index The VM's index.
   * @param set The new weight (clamped to 1..10000) and limits (0 removes one).
   */
  setVmParams(index: number, set: IoParamsSet): void {
    const vm = this.vms[index];
    if (vm === undefined) throw new Error(`The I/O domain has no VM ${index}`);
    const max: Partial<IoLimits> = { ...set.max };
    if (set.iops !== undefined) max.riops = max.wiops = set.iops;
    if (set.bytesPerSecond !== undefined) max.rbps = max.wbps = set.bytesPerSecond;
    this.#setParams(vm, {
      weight: set.weight === undefined
        ? undefined
        : Math.min(IO_WEIGHT.max, Math.max(IO_WEIGHT.min, set.weight)),
      max: Object.keys(max).length > 0 ? max : undefined,
    });
  }

  /**
   * Schedules `setVmParams(index, set)` at `atNs` (workload timeline), as the CPU domain
   * schedules its parameter changes: one event per change, in the order they were scheduled.
   */
  scheduleVmParams(atNs: number, index: number, set: IoParamsSet): void {
    this.#timeline.push({ index, set });
    this.#kernel.schedule(atNs, this.#base + EV_PARAMS, this.#timeline.length - 1);
  }

  /** Adds a source of requests; finite sources hold the run open until they are done. */
  #addSource(source: RequestSource): void {
    const state = new SourceState(source);
    const index = this.#sources.push(state) - 1;
    if (state.counted) this.#kernel.pendingWork++;
    if (source.depth > 0) {
      this.#kernel.schedule(source.startNs, this.#base + EV_SUBMIT, index, source.depth);
    } else if (source.next(state.draft)) {
      this.#kernel.schedule(state.draft.atNs, this.#base + EV_SUBMIT, index, 0);
    } else {
      this.#exhaust(state);
    }
  }

  /**
   * Changes a VM's I/O weight or limits now; held requests are paced again under the new limits,
   * and the policy hears of it in its next batch.
   */
  #setParams(vm: IoVm, set: { weight?: number; max?: Partial<IoLimits> }): void {
    if (vm.removedNs !== null) return;
    const now = this.#kernel.now;
    if (set.weight !== undefined) vm.weight = set.weight;
    if (set.max !== undefined) vm.max = { ...vm.max, ...set.max };
    this.#kernel.log.record(LOG.io, IO_LOG.PARAMS, now, vm.index, vm.weight, 0);
    if (set.max !== undefined) this.#repace(vm);
    if (vm.announced) {
      const writer = this.slot.writer;
      writer.call1(IO_OP.VM_PARAMS, now, writer.obj(this.#vmSpec(vm)));
    }
  }

  /** The domain's figures now, per VM and per disk. */
  figures(nowNs: number): IoFigures {
    return ioFigures(this.vms, this.disks, nowNs);
  }

  host(): Record<string, unknown> {
    const disks: DiskInfo[] = this.disks.map((disk) => ({
      id: disk.id,
      kind: disk.model.kind,
      cylinders: disk.model.cylinders,
      totalBlocks: disk.model.totalBlocks,
      head: disk.model.headCylinder(),
      direction: disk.direction,
    }));
    return { disks };
  }

  installed(): void {}

  onEvent(kind: number, target: number, tag: number): void {
    switch (kind - this.#base) {
      case EV_SUBMIT:
        return this.#sourceDue(target, tag);
      case EV_COMPLETE: {
        const disk = this.disks[target]!;
        if (disk.gen === tag) this.#complete(disk);
        return;
      }
      case EV_RELEASE:
        return this.#release(this.vms[target]!, tag);
      case EV_WATCHDOG:
        return this.#watchdogDue();
      case EV_PARAMS: {
        const change = this.#timeline[target]!;
        return this.setVmParams(change.index, change.set);
      }
    }
  }

  // Requests and their ids.

  #alloc(): IoRequest {
    const request = this.#pool.pop() ?? new IoRequest();
    request.id = this.#nextId++;
    this.#requests.add(request);
    return request;
  }

  #free(request: IoRequest): void {
    this.#requests.delete(request);
    request.state = FREE;
    request.id = -1;
    this.#pool.push(request);
  }

  /** The live request with this id, or undefined. */
  #lookup(id: number): IoRequest | undefined {
    return this.#requests.get(id);
  }

  /** Every live request, in id order. */
  #live(): IoRequest[] {
    return this.#requests.live();
  }

  // Submission.

  #sourceDue(index: number, count: number): void {
    const state = this.#sources[index]!;
    if (state.source.depth > 0) {
      for (let i = 0; i < Math.max(1, count); i++) if (!this.#pull(state, index)) return;
      return;
    }
    const now = this.#kernel.now, draft = state.draft;
    if (state.exhausted) return;
    for (;;) {
      this.#submitDraft(state, index);
      if (!state.source.next(draft)) return this.#exhaust(state);
      if (draft.atNs > now) {
        this.#kernel.schedule(draft.atNs, this.#base + EV_SUBMIT, index, 0);
        return;
      }
    }
  }

  /** Closed loop: submits the source's next request now; false when it has none left. */
  #pull(state: SourceState, index: number): boolean {
    if (state.exhausted || !state.source.next(state.draft)) {
      this.#exhaust(state);
      return false;
    }
    this.#submitDraft(state, index);
    return true;
  }

  #submitDraft(state: SourceState, index: number): void {
    const draft = state.draft, request = this.#alloc();
    request.vm = state.source.vm;
    request.disk = draft.disk;
    request.lba = draft.lba;
    request.bytes = draft.bytes;
    request.named = draft.cylinder;
    request.write = draft.write;
    request.thinkNs = draft.thinkNs;
    request.source = index;
    request.vcpu = -1;
    request.deadlineNs = this.#kernel.now + draft.deadlineNs;
    state.outstanding++;
    this.#submit(request);
  }

  /**
   * A vCPU reached an `{io}` step of its program (the CPU domain calls it, as wired where the
   * simulation is composed): its request is submitted, and the vCPU waits for its completion.
   *
   * @param vcpu The vCPU's id.
   * @param payload The step, as the workload gave it.
   */
  ioStep(vcpu: number, payload: unknown): void {
    const known = this.#steps.get(payload);
    if (known === undefined) {
      throw new Error(`vCPU ${vcpu}: an {io} step the I/O domain does not know`);
    }
    const step = known.step, request = this.#alloc();
    request.vm = known.vm;
    request.disk = step.disk;
    request.lba = step.lba;
    request.bytes = step.bytes;
    request.named = step.cylinder;
    request.write = step.write;
    request.thinkNs = 0;
    request.source = -1;
    request.vcpu = vcpu;
    request.deadlineNs = this.#kernel.now + step.deadlineNs;
    this.#submit(request);
  }

  #exhaust(state: SourceState): void {
    state.exhausted = true;
    if (state.counted && state.outstanding === 0) {
      state.counted = false;
      this.#kernel.pendingWork--;
    }
  }

  #submit(request: IoRequest): void {
    const now = this.#kernel.now, disk = this.disks[request.disk]!, vm = this.vms[request.vm]!;
    request.blocks = Math.max(1, Math.ceil(request.bytes / 512));
    request.cylinder = request.named >= 0 ? request.named : disk.model.cylinderOf(request.lba);
    request.submitNs = now;
    vm.requests++;
    const release = this.#pace(vm, request, now);
    if (release > now) {
      request.state = HELD;
      request.releaseNs = release;
      vm.held[request.write ? 1 : 0].push(request);
      this.#kernel.log.record(LOG.io, IO_LOG.HOLD, now, request.id, vm.index, release);
      this.#kernel.schedule(release, this.#base + EV_RELEASE, vm.index, request.id);
      return;
    }
    this.#enqueue(request);
  }

  /**
   * When `io.max` lets a request go: requests of one direction leave in order, spaced so that
   * neither the bytes nor the requests per second exceed the limits (strict pacing, no burst).
   */
  #pace(vm: IoVm, request: IoRequest, fromNs: number): number {
    const max = vm.max, dir = request.write ? 1 : 0, pace = vm.pace;
    const bps = dir === 0 ? max.rbps : max.wbps, iops = dir === 0 ? max.riops : max.wiops;
    if (bps <= 0 && iops <= 0) return fromNs;
    let release = Math.max(fromNs, pace[dir]!);
    if (bps > 0) release = Math.max(release, pace[2 + dir]!);
    if (iops > 0) release = Math.max(release, pace[4 + dir]!);
    pace[dir] = release;
    if (bps > 0) pace[2 + dir] = release + Math.ceil(request.bytes * 1e9 / bps);
    if (iops > 0) pace[4 + dir] = release + Math.ceil(1e9 / iops);
    return release;
  }

  /** New limits: forget the old pacing and pace the held requests again, in order. */
  #repace(vm: IoVm): void {
    const now = this.#kernel.now;
    vm.pace.fill(0);
    for (const fifo of vm.held) {
      for (const request of fifo) {
        request.releaseNs = this.#pace(vm, request, now);
        this.#kernel.schedule(request.releaseNs, this.#base + EV_RELEASE, vm.index, request.id);
      }
    }
  }

  #release(vm: IoVm, id: number): void {
    const request = this.#lookup(id), now = this.#kernel.now;
    if (request === undefined || request.state !== HELD || request.releaseNs !== now) return;
    const fifo = vm.held[request.write ? 1 : 0];
    if (fifo.peek() === request) fifo.shift();
    else fifo.remove(request);
    vm.throttledNs += now - request.submitNs;
    this.#kernel.log.record(LOG.io, IO_LOG.RELEASE, now, id, vm.index, 0);
    this.#enqueue(request);
  }

  /** Hands a request to the policy. */
  #enqueue(request: IoRequest): void {
    const now = this.#kernel.now, vm = this.vms[request.vm]!, disk = this.disks[request.disk]!;
    if (!vm.announced) this.#announce(vm);
    request.state = QUEUED;
    request.queuedNs = now;
    disk.queued++;
    this.#writeSubmit(request, now);
  }

  #announce(vm: IoVm): void {
    vm.announced = true;
    const writer = this.slot.writer;
    writer.call1(IO_OP.VM_ADD, this.#kernel.now, writer.obj(this.#vmSpec(vm)));
  }

  #vmSpec(vm: IoVm): IoVmSpec {
    return { index: vm.index, id: vm.id, weight: vm.weight, max: { ...vm.max } };
  }

  #writeSubmit(request: IoRequest, now: number): void {
    const args = this.#args;
    args[0] = request.id;
    args[1] = request.vm;
    args[2] = request.disk;
    args[3] = request.write ? 1 : 0;
    args[4] = request.lba;
    args[5] = request.bytes;
    args[6] = request.cylinder;
    args[7] = request.submitNs;
    args[8] = request.deadlineNs === Infinity ? -1 : request.deadlineNs;
    args[9] = request.state === SERVICE ? 1 : 0;
    this.slot.writer.callN(IO_OP.SUBMIT, now, args, 10);
  }

  // Disks.

  settle(): void {
    const now = this.#kernel.now, writer = this.slot.writer;
    for (let i = 0; i < this.disks.length; i++) {
      const disk = this.disks[i]!;
      if (disk.active !== null || disk.seeking) continue;
      if (disk.localHead < disk.localEnd && this.#startNext(disk)) continue;
      if (disk.queued === 0 || disk.declinedAtNs === now) continue;
      writer.call2(IO_OP.DISPATCH, now, i, disk.model.headCylinder());
      this.#queries.add(IO_OP.DISPATCH, i);
    }
  }

  /** Starts the next job of the disk's local queue; false when there is none. */
  #startNext(disk: Disk): boolean {
    const local = disk.local;
    let started = false;
    while (!started && disk.localHead < disk.localEnd) {
      const item = local[disk.localHead++]!;
      if (item < 0) {
        started = this.#seek(disk, -item - 1);
      } else {
        const request = this.#lookup(item);
        if (request !== undefined && request.state === LOCAL) {
          this.#start(disk, request);
          started = true;
        }
      }
    }
    if (disk.localHead === disk.localEnd) disk.localHead = disk.localEnd = 0;
    return started;
  }

  #start(disk: Disk, request: IoRequest): void {
    const now = this.#kernel.now, model = disk.model;
    request.state = SERVICE;
    request.startNs = now;
    disk.active = request;
    disk.jobStartNs = now;
    disk.idleSinceNs = -1;
    disk.requests++;
    const linearCylinder = request.named >= 0 && model.kind === "linear";
    const shape = linearCylinder ? this.#shapeCylinder : this.#shape;
    shape.lba = request.lba;
    shape.blocks = request.blocks;
    shape.write = request.write;
    if (linearCylinder) shape.cylinder = request.named;
    const head = model.headCylinder(), moved = model.movedCylinders();
    const serviceNs = model.service(shape, now);
    this.#moved(disk, head, moved);
    this.#kernel.schedule(now + serviceNs, this.#base + EV_COMPLETE, disk.index, ++disk.gen);
    this.#kernel.log.record(LOG.io, IO_LOG.START, now, request.id, disk.index, serviceNs);
    this.slot.writer.call2(IO_OP.STARTED, now, request.id, disk.index);
  }

  /** Moves the head on the policy's order; false when it is already there. */
  #seek(disk: Disk, cylinder: number): boolean {
    const model = disk.model, head = model.headCylinder();
    if (head === cylinder) return false;
    const now = this.#kernel.now, moved = model.movedCylinders();
    const ns = model.seekTo(cylinder, now);
    this.#moved(disk, head, moved);
    disk.seeking = true;
    disk.jobStartNs = now;
    disk.idleSinceNs = -1;
    this.#kernel.schedule(now + ns, this.#base + EV_COMPLETE, disk.index, ++disk.gen);
    this.#kernel.log.record(LOG.io, IO_LOG.SEEK, now, disk.index, cylinder, ns);
    return true;
  }

  #moved(disk: Disk, headBefore: number, movedBefore: number): void {
    const model = disk.model, head = model.headCylinder();
    disk.seekCylinders += model.movedCylinders() - movedBefore;
    if (head > headBefore) disk.direction = "up";
    else if (head < headBefore) disk.direction = "down";
  }

  #complete(disk: Disk): void {
    const now = this.#kernel.now;
    disk.busyNs += now - disk.jobStartNs;
    if (disk.seeking) {
      disk.seeking = false;
      return;
    }
    const request = disk.active!, vm = this.vms[request.vm]!;
    disk.active = null;
    disk.completed++;
    vm.completed++;
    vm.bytes += request.bytes;
    const latency = now - request.submitNs;
    vm.latency.record(latency);
    if (now > request.deadlineNs) vm.deadlineMisses++, disk.deadlineMisses++;
    this.slot.writer.call4(
      IO_OP.COMPLETE,
      now,
      request.id,
      disk.index,
      disk.model.headCylinder(),
      now - request.startNs,
    );
    const vcpu = request.vcpu, source = request.source, think = request.thinkNs;
    this.#free(request);
    if (vcpu >= 0) this.#cpu!.resume(vcpu);
    if (source >= 0) this.#sourceCompleted(source, think);
  }

  #sourceCompleted(index: number, thinkNs: number): void {
    const state = this.#sources[index]!;
    state.outstanding--;
    if (state.source.depth > 0 && !state.exhausted) {
      if (thinkNs === 0) this.#pull(state, index);
      else this.#kernel.schedule(this.#kernel.now + thinkNs, this.#base + EV_SUBMIT, index, 1);
      return;
    }
    if (state.exhausted) this.#exhaust(state);
  }

  apply(reply: Reply): void {
    const queries = this.#queries, reader = queries.reader, now = this.#kernel.now;
    for (let q = queries.start(reply); q >= 0; q = queries.next()) {
      const n = queries.values, disk = this.disks[queries.arg[q]!]!;
      if (n === 0) {
        disk.declinedAtNs = now;
        if (disk.idleSinceNs < 0) disk.idleSinceNs = now;
        this.#watchdog.start(now);
        continue;
      }
      for (let i = 0; i < n; i++) this.#accept(disk, reader.next());
      // Like a pCPU, an idle disk starts on its first job at once, in this same round.
      if (disk.active === null && !disk.seeking) this.#startNext(disk);
    }
  }

  #accept(disk: Disk, item: number): void {
    const where = `dispatch on disk ${disk.id}`;
    if (!Number.isInteger(item)) {
      throw invalid(
        "malformed-reply",
        `${where} answered ${item}; expected a request id or a seek`,
      );
    }
    if (item < 0) {
      const cylinder = -item - 1;
      if (cylinder >= disk.model.cylinders) {
        throw invalid(
          "bad-cylinder",
          `${where} asked for a seek to cylinder ${cylinder}; the disk has cylinders 0..${
            disk.model.cylinders - 1
          }`,
        );
      }
      if (++disk.seeksInARow > MAX_SEEKS_IN_A_ROW) {
        throw invalid(
          "seek-loop",
          `${where} asked for ${disk.seeksInARow} head movements in a row without a request (at most ${MAX_SEEKS_IN_A_ROW})`,
        );
      }
      disk.local[disk.localEnd++] = item;
      return;
    }
    const request = this.#lookup(item);
    if (request === undefined) {
      throw invalid(
        "unknown-request",
        `${where} named request ${item}, which is not live (completed, or never submitted)`,
      );
    }
    if (request.disk !== disk.index) {
      throw invalid(
        "wrong-disk",
        `${where} named request ${item}, which is for disk ${this.disks[request.disk]!.id}`,
      );
    }
    if (request.state !== QUEUED) {
      throw invalid(
        request.state === LOCAL || request.state === SERVICE
          ? "request-dispatched"
          : "request-not-queued",
        `${where} named request ${item} (VM ${this.vms[request.vm]!.id}), which is ${
          STATE_NAMES[request.state]
        }`,
      );
    }
    request.state = LOCAL;
    disk.queued--;
    disk.seeksInARow = 0;
    disk.local[disk.localEnd++] = item;
  }

  replay(): void {
    const writer = this.slot.writer, now = this.#kernel.now;
    this.#queries.clear();
    // Give back what the old policy had queued on disks: the new one decides afresh.
    for (const disk of this.disks) {
      for (let i = disk.localHead; i < disk.localEnd; i++) {
        const request = disk.local[i]! >= 0 ? this.#lookup(disk.local[i]!) : undefined;
        if (request !== undefined && request.state === LOCAL) request.state = QUEUED, disk.queued++;
      }
      disk.localHead = disk.localEnd = 0;
      disk.declinedAtNs = -1;
      disk.seeksInARow = 0;
    }
    for (const vm of this.vms) {
      if (vm.announced) writer.call1(IO_OP.VM_ADD, now, writer.obj(this.#vmSpec(vm)));
    }
    for (const request of this.#live()) {
      if (request.state === QUEUED || request.state === SERVICE) this.#writeSubmit(request, now);
    }
  }

  // The watchdog ejects a policy that leaves a disk idle with requests queued for the stall
  // timeout. A busy disk with a long queue is overload, not a stall.
  #watchdogDue(): void {
    const now = this.#kernel.now;
    if (!this.#watchdog.due(now)) return;
    let oldest: Disk | undefined;
    for (const disk of this.disks) {
      if (disk.idleSinceNs < 0 || disk.queued === 0 || disk.active !== null || disk.seeking) {
        continue;
      }
      if (oldest === undefined || disk.idleSinceNs < oldest.idleSinceNs) oldest = disk;
    }
    if (!this.#watchdog.overdue(now, oldest?.idleSinceNs ?? Infinity) || oldest === undefined) {
      return;
    }
    const stall = this.#kernel.stallNs;
    throw new PolicyFailure(
      "stall",
      "watchdog",
      `Disk ${oldest.id} was idle for ${
        (now - oldest.idleSinceNs) / 1e9
      } s with ${oldest.queued} request(s) queued (watchdog timeout ${stall / 1e9} s)`,
    );
  }

  finish(endNs: number): void {
    for (const disk of this.disks) {
      if (disk.active !== null || disk.seeking) disk.busyNs += endNs - disk.jobStartNs;
    }
    for (const request of this.#live()) {
      if (request.deadlineNs < endNs) {
        this.vms[request.vm]!.deadlineMisses++;
        this.disks[request.disk]!.deadlineMisses++;
      }
      if (request.state === HELD) this.vms[request.vm]!.throttledNs += endNs - request.submitNs;
    }
  }
}
