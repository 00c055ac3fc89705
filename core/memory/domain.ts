/**
 * The memory domain: host frames, per-VM page tables, the references VMs issue while their vCPUs
 * run, faults, reclaim and balloon targets. The policy chooses victims and targets; this file
 * makes them happen, checks every decision, and keeps the books.
 *
 * References are not events. A running vCPU of a VM with memory activity issues one reference
 * every `1/rate` of run time; the domain keeps the running vCPUs in order of their next reference
 * and, at each step, issues references in time order up to the next kernel event. Hits cost a few
 * typed-array stores. A miss stops the step at the miss's own instant: a free frame is taken at
 * once, otherwise the policy is asked for a victim (one query, the step waits for the answer in
 * the same instant). A fault stalls the faulting vCPU for `faultCost` of simulated time through
 * `CpuDomain.stall`, so a bad memory policy slows VMs down. The order of references is the same
 * however the steps fall, which keeps runs identical whatever the isolation.
 *
 * What the policy learns of hits travels in `TOUCHED` notifications (`touches.ts`); the frames
 * are `frames.ts`'s, the ring of running vCPUs `_run_ring.ts`'s, the figures `figures.ts`'s.
 *
 * @module
 */

import { LOG } from "../engine/decision_log.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { Queries } from "../kernel/_queries.ts";
import type { VcpuControl, VmDomain } from "../kernel/domain.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import { MEMORY_OP, PAGE_BYTES } from "../protocol/ops.ts";
import type { MemoryVmSpec } from "../protocol/payloads.ts";
import type { Reply } from "../protocol/batch.ts";
import type { StartResult } from "../protocol/definition.ts";
import type { ReplyReader } from "../protocol/batch.ts";
import { invalidDecision as invalid, PolicyFailure } from "../protocol/runtime.ts";
import type { HostMemoryWorkload, MemoryWorkload } from "../workload/types.ts";
import { RefStream } from "./streams.ts";
import { intervalOf } from "./pace.ts";
export { intervalOf, memoryOnlyCpu } from "./pace.ts";
import { MemoryVm, NONE } from "./page_table.ts";

export { MemoryVm } from "./page_table.ts";
import { type MemoryFigures, memoryFigures } from "./figures.ts";
import { DIRTY, FrameTable, MEMORY_LOG } from "./frames.ts";
import { Targets } from "./targets.ts";
import { setSeq, TOUCH_BUFFER, Touches } from "./touches.ts";
import { before, MemoryVcpu, RunRing } from "./_run_ring.ts";

const EV_ARRIVE = 0, EV_STEP = 1, EV_RESUME = 2, EV_BALANCE = 3, EV_TARGET = 4;

/** Log kinds of memory decisions. */
export { MEMORY_LOG } from "./frames.ts";

/** The page-table word of a page holds its accessed epoch above the dirty bit. */
const EPOCH = 2;
/** At most this many references per step, so that `advance` returns now and then. */
const STEP_REFS = 1 << 16;

/** A fault waiting for the policy's victim. */
interface PendingFault {
  vcpu: MemoryVcpu;
  page: number;
  write: boolean;
  scope: number;
}

/** What the memory domain needs to add a VM with memory activity. */
export interface MemoryVmAdd {
  /** The VM's index (the same in every domain). */
  readonly index: number;
  /** Its name. */
  readonly id: string;
  /** The ids of its vCPUs, which issue its references. */
  readonly vcpus: readonly number[];
  /** When it arrives (ns). */
  readonly arriveNs: number;
  /** Its memory weight. */
  readonly weight: number;
  /** Its validated memory spec. */
  readonly memory: MemoryWorkload;
  /** Where its memory spec sits, for messages (`vms[0].memory`). */
  readonly place: string;
}

/** A change of a VM's memory parameters: its balloon target (null: none). */
export interface MemoryParamsSet {
  /** The most frames it may hold, or null for no target. */
  target: number | null;
}

/** The memory domain of a kernel. */
export class MemoryDomain implements VmDomain<MemoryVmAdd, MemoryParamsSet, MemoryFigures> {
  /** Always `memory`. */
  readonly name = "memory" as const;
  /** The memory policy slot. */
  readonly slot: PolicySlot;
  /** How many host frames. */
  readonly frames: number;
  /** The VMs with memory activity, by VM index (others are undefined). */
  readonly vms: (MemoryVm | undefined)[] = [];
  /** What each frame holds: the frame table's map ({@linkcode FrameTable.map}). */
  readonly frameMap: Int32Array;
  /** Faults of all VMs. */
  faults: number = 0;
  /** Pages evicted. */
  evictions: number = 0;
  /** Dirty pages written back. */
  writebacks: number = 0;
  /** Frames freed by batched reclaim. */
  get reclaimed(): number {
    return this.#targets.reclaimed;
  }
  /** The most frames in use at once. */
  usedPeak: number = 0;
  #kernel: Kernel;
  #cpu: VcpuControl;
  #base: number;
  #config: HostMemoryWorkload;
  #stopAt: number;
  #frames: FrameTable;
  #vcpus: (MemoryVcpu | undefined)[] = [];
  /** Running vCPUs in order of (next reference, vCPU id). */
  #run = new RunRing();
  #stepAt = Infinity;
  #stepGen = 0;
  #tracking = false;
  /** Whether the policy in charge declares `future` (kept here: it is asked at every fault). */
  #futureAware = false;
  /** Touches gathered (the frame, `-1 - frame` when dirty; its VM; its page-table entry). */
  #touches = new Touches();
  #pending: PendingFault | null = null;
  /** The one fault record, reused: at most one fault waits for a victim at a time. */
  #pendingSlot: PendingFault = {
    vcpu: undefined as unknown as MemoryVcpu,
    page: 0,
    write: false,
    scope: -1,
  };
  #pendingAsked = false;
  #queries: Queries;
  /** Balloon targets, batched reclaim and the balancing scan. */
  #targets: Targets;
  #future: (number[] | null)[] = [];
  #futureUnknown: string | null = null;

  /**
   * Creates the memory domain and registers it with the kernel (after the CPU domain).
   *
   * @param kernel The kernel.
   * @param slot The memory policy slot.
   * @param cpu The CPU domain's vCPUs (which issue the references), to stall and resume them.
   * @param host The host's validated memory spec.
   */
  constructor(kernel: Kernel, slot: PolicySlot, cpu: VcpuControl, host: HostMemoryWorkload) {
    this.#kernel = kernel;
    this.slot = slot;
    this.#cpu = cpu;
    this.#config = host;
    this.frames = host.frames;
    this.#stopAt = kernel.stopAtNs === undefined ? Infinity : kernel.stopAtNs + 1;
    this.#frames = new FrameTable(host.frames);
    this.frameMap = this.#frames.map;
    this.#base = kernel.register(this, 5);
    this.#queries = new Queries(slot);
    this.#targets = new Targets({
      kernel,
      slot,
      queries: this.#queries,
      frames: this.#frames,
      vms: this.vms,
      balanceKind: this.#base + EV_BALANCE,
      flushTouches: () => this.#flushTouches(),
      sendProgress: () => this.#sendProgress(),
      evict: (frame) => this.#evict(frame),
    }, host);
  }

  /**
   * Gives a VM memory activity: its vCPUs issue `vm.memory`'s references while they run.
   *
   * @param vm The VM: its index, name, vCPU ids and arrival (the CPU domain's), its memory.
   */
  addVm(vm: MemoryVmAdd): void {
    const memory = vm.memory, intervalNs = intervalOf(memory);
    const stream = new RefStream(memory, intervalNs, this.#kernel.rng.fork("memory", vm.index));
    const added = new MemoryVm(vm.index, vm.id, vm.vcpus, memory, stream, intervalNs, vm.weight);
    this.vms[vm.index] = added;
    const future = stream.future();
    this.#future[vm.index] = future;
    if (future === null && this.#futureUnknown === null) {
      this.#futureUnknown = `${vm.place}.pattern ("${memory.pattern}") generates them as it runs`;
    }
    for (const id of vm.vcpus) this.#vcpus[id] = new MemoryVcpu(id, added);
    this.#run.grow(1 << Math.ceil(Math.log2(Math.max(2, this.#vcpus.length))));
    this.#kernel.schedule(vm.arriveNs, this.#base + EV_ARRIVE, vm.index);
  }

  /**
   * Sets a VM's balloon target now (live control, like `xl mem-set`); null removes it. The
   * kernel reclaims the excess from the VM at once.
   *
   * @throws {RangeError} When the target is not an integer from 0 to the host's frames.
   */
  setVmParams(vmIndex: number, set: MemoryParamsSet): void {
    const vm = this.vms[vmIndex], frames = set.target;
    if (vm === undefined) throw new RangeError(`VM ${vmIndex} has no memory activity`);
    if (frames !== null && !(Number.isInteger(frames) && frames >= 0 && frames <= this.frames)) {
      throw new RangeError(
        `Memory target of VM ${vm.id}: expected an integer from 0 to ${this.frames} frames, got ${frames}`,
      );
    }
    this.#targets.set(vm, frames ?? Infinity);
  }

  /** Sets a VM's balloon target at `atNs` (workload timeline): an event of the domain. */
  scheduleVmParams(atNs: number, vmIndex: number, set: MemoryParamsSet): void {
    this.#kernel.schedule(atNs, this.#base + EV_TARGET, vmIndex, set.target ?? -1);
  }

  /** Frees every frame of a removed VM (live control) and tells the policy. */
  removeVm(vmIndex: number): void {
    const vm = this.vms[vmIndex];
    if (vm === undefined || vm.removed) return;
    const now = this.#kernel.now, writer = this.slot.writer;
    this.#flushTouches();
    for (let frame = 0; frame < this.frames; frame++) {
      if (this.#frames.owner(frame) !== vm.index) continue;
      this.#evict(frame);
      this.#frames.release(frame);
      writer.call1(MEMORY_OP.EVICTED, now, frame);
    }
    vm.removed = true;
    vm.held = NONE;
    for (const id of vm.vcpus) {
      const mv = this.#vcpus[id]!;
      if (mv.inRing) this.#run.remove(mv);
    }
    if (this.#pending?.vcpu.vm === vm) this.#pending = null, this.#arm(now);
    this.#kernel.log.record(LOG.memory, MEMORY_LOG.REMOVE, now, vm.index, 0, 0);
    if (vm.arrived) writer.call1(MEMORY_OP.VM_REMOVE, now, vm.index);
  }

  host(): Record<string, unknown> {
    return {
      frames: this.frames,
      pageBytes: PAGE_BYTES,
      lowWatermark: this.#config.lowWatermark,
      highWatermark: this.#config.highWatermark,
      faultCostNs: this.#config.faultCost,
      writebackCostNs: this.#config.writebackCost,
      // Why the future references are unknown, or null when every VM gives its string.
      futureUnknown: this.#futureUnknown,
    };
  }

  onEvent(kind: number, target: number, tag: number): void {
    switch (kind - this.#base) {
      case EV_ARRIVE:
        return this.#arrive(this.vms[target]!);
      case EV_STEP:
        if (tag === this.#stepGen) this.#step();
        return;
      case EV_RESUME: {
        const mv = this.#vcpus[target]!;
        if (tag !== mv.stallGen || !mv.stalled) return;
        mv.stalled = false;
        this.#cpu.resume(mv.id);
        return;
      }
      case EV_BALANCE:
        return this.#targets.scan(tag);
      case EV_TARGET:
        return this.setVmParams(target, { target: tag < 0 ? null : tag });
    }
  }

  #arrive(vm: MemoryVm): void {
    if (vm.arrived || vm.removed) return;
    vm.arrived = true;
    const writer = this.slot.writer, now = this.#kernel.now;
    this.#flushTouches();
    writer.call1(MEMORY_OP.VM_ADD, now, writer.obj(this.#vmSpec(vm)));
    if (this.slot.has("future") && !vm.futureSent) {
      // A VM added after the policy started (live control): its string alone.
      vm.futureSent = true;
      const future: (number[] | null)[] = [];
      future[vm.index] = this.#future[vm.index] ?? null;
      writer.call1(MEMORY_OP.FUTURE, now, writer.obj(Array.from(future, (refs) => refs ?? null)));
    }
  }

  #vmSpec(vm: MemoryVm): MemoryVmSpec {
    return {
      index: vm.index,
      id: vm.id,
      pages: vm.pages,
      weight: vm.weight,
      target: Number.isFinite(vm.target) ? vm.target : null,
    };
  }

  /**
   * A vCPU started or stopped running (the CPU domain calls it, as wired where the simulation is
   * composed): a VM references memory only while its vCPUs run.
   *
   * @param vcpu The vCPU's id.
   * @param running Whether it runs now.
   */
  runChanged(vcpu: number, running: boolean): void {
    const mv = this.#vcpus[vcpu];
    if (mv === undefined) return;
    const vm = mv.vm, now = this.#kernel.now;
    if (running) {
      if (!vm.arrived) this.#arrive(vm);
      if (vm.exhausted || vm.removed || mv.inRing) return;
      mv.next = now + mv.phase;
      this.#run.insert(mv);
      this.#arm(mv.next);
    } else {
      // Run time left to its next reference (a full interval after a fault).
      mv.phase = Math.max(0, mv.next - now);
      this.#run.remove(mv);
    }
  }

  #arm(atNs: number): void {
    if (atNs >= this.#stepAt) return;
    this.#stepAt = atNs;
    this.#kernel.schedule(atNs, this.#base + EV_STEP, 0, ++this.#stepGen);
  }

  /**
   * Issues references in time order up to the next kernel event: hits in place, a miss at its
   * own instant.
   */
  #step(): void {
    this.#stepAt = Infinity;
    const kernel = this.#kernel, now = kernel.now;
    let horizon = Math.min(kernel.queue.peekTime(), this.#stopAt);
    // Other events of this instant first: they may stop a vCPU whose reference is due now.
    if (horizon <= now) return this.#arm(now);
    if (this.#pending !== null) return;
    const run = this.#run, ring = run.ring, mask = run.mask, epoch = this.#targets.epoch;
    const tracking = this.#tracking, buffer = this.#touches, touches = buffer.frames;
    const touchVm = buffer.vm, touchEntry = buffer.entry;
    const frameMap = this.frameMap;
    // The hot loop keeps the ring's head and size and the touch count in locals, and stores them
    // back before anything else may look at them (and the touches' first number, which only a
    // flush changes).
    let head = run.head, size = run.size, touched = buffer.count;
    let firstSeq = buffer.seq + 2;
    let budget = STEP_REFS;
    while (size > 0 && budget-- > 0) {
      const mv = ring[head]!, at = mv.next;
      if (at >= horizon) break;
      const vm = mv.vm;
      let ref = vm.held;
      if (ref === NONE) ref = vm.nextRef();
      const page = ref < 0 ? -1 - ref : ref;
      const pte = vm.pte, entry = 4 * page;
      const frame = pte[entry]! - 1;
      if (frame < 0) {
        run.head = head, run.size = size, buffer.count = touched;
        if (at > now) {
          vm.held = ref;
          return this.#arm(at);
        }
        vm.held = NONE;
        const waits = !this.#fault(mv, page, ref < 0);
        head = run.head, size = run.size, touched = buffer.count;
        firstSeq = buffer.seq + 2;
        if (waits) return;
        // The CPU settles this instant (a stalled vCPU's pCPU) before any later reference.
        if (mv.stalled) horizon = now + 1;
        continue;
      }
      vm.held = NONE;
      const was = pte[entry + 1]!;
      let bits = was;
      if (bits >>> 1 !== epoch) bits = epoch * EPOCH + (bits & DIRTY), vm.accessed++;
      if (ref < 0 && (bits & DIRTY) === 0) {
        bits |= DIRTY;
        frameMap[2 * frame] = 2 * vm.index + DIRTY; // the frame's copy of the dirty bit
      }
      if (bits !== was) pte[entry + 1] = bits;
      if (tracking) {
        // The touch carries the page's dirty bit as TOUCHED sends it: it is the frame's at the
        // flush too, since a page is only cleaned by its eviction, which comes after a flush.
        touches[touched] = (bits & DIRTY) === 0 ? frame : -1 - frame;
        touchVm[touched] = vm.index;
        touchEntry[touched] = entry;
        setSeq(pte, entry, firstSeq + touched);
        if (++touched === TOUCH_BUFFER) {
          buffer.at = at, buffer.count = touched;
          this.#flushTouches();
          touched = 0;
          firstSeq = buffer.seq + 2;
        }
      }
      mv.next = at + vm.intervalNs;
      if (++vm.issued >= vm.limit) {
        run.head = head, run.size = size, buffer.count = touched;
        buffer.at = at;
        this.#exhaust(vm);
        head = run.head, size = run.size;
        continue;
      }
      if (tracking) buffer.at = at;
      // Keep the ring in order: usually the vCPU stays first, or goes last.
      if (size > 1 && !before(mv, ring[(head + 1) & mask]!)) {
        head = (head + 1) & mask;
        const last = ring[(head + size - 2) & mask]!;
        if (!before(mv, last)) ring[(head + size - 1) & mask] = mv;
        else {
          run.head = head, run.size = size - 1;
          run.push(mv);
          head = run.head, size = run.size;
        }
      }
    }
    run.head = head, run.size = size, buffer.count = touched;
    if (size > 0) this.#arm(ring[head]!.next);
  }

  /**
   * A reference at this instant missed. Takes a free frame when the VM may, or asks the policy
   * for a victim; stalls the vCPU for the fault's cost. Returns false when the step must wait for
   * the policy's answer.
   */
  #fault(mv: MemoryVcpu, page: number, write: boolean): boolean {
    const vm = mv.vm, now = this.#kernel.now;
    vm.faults++;
    this.faults++;
    this.#run.remove(mv);
    mv.next = now + vm.intervalNs;
    const exhausted = ++vm.issued >= vm.limit;
    if (this.#config.faultCost > 0) this.#stall(mv, this.#config.faultCost);
    // A VM always may hold one frame, so that it makes progress under any target.
    const limit = Math.max(1, vm.target);
    const frames = this.#frames;
    if (vm.resident < limit && frames.freeCount > 0) {
      this.#load(vm, page, frames.take(), write);
      this.#served(mv, false);
      if (exhausted) this.#exhaust(vm);
      else if (!mv.stalled && this.#cpu.isRunning(mv.id)) this.#run.insert(mv);
      return true;
    }
    const scope = vm.resident >= limit ? vm.index : -1;
    const pending = this.#pendingSlot;
    pending.vcpu = mv, pending.page = page, pending.write = write, pending.scope = scope;
    this.#pending = pending;
    this.#askVictim();
    if (exhausted) this.#exhaust(vm);
    return false;
  }

  #askVictim(): void {
    const pending = this.#pending!, now = this.#kernel.now;
    this.#flushTouches();
    this.#sendProgress();
    this.slot.writer.call4(
      MEMORY_OP.VICTIM,
      now,
      pending.vcpu.vm.index,
      pending.page,
      pending.scope,
      pending.write ? 1 : 0,
    );
    this.#queries.add(MEMORY_OP.VICTIM, pending.scope, 1);
    this.#pendingAsked = true;
  }

  /** Blocks a running vCPU for `ns` of simulated time (a fault being served). */
  #stall(mv: MemoryVcpu, ns: number): void {
    mv.vm.stallNs += ns;
    mv.stalled = true;
    this.#cpu.stall(mv.id);
    this.#kernel.schedule(this.#kernel.now + ns, this.#base + EV_RESUME, mv.id, ++mv.stallGen);
  }

  /** The fault of `mv` was served; a dirty victim adds the write-back to its stall. */
  #served(mv: MemoryVcpu, victimDirty: boolean): void {
    const extra = victimDirty ? this.#config.writebackCost : 0;
    if (extra === 0) return;
    if (mv.stalled) {
      // Pushes the resume back: the stall event already queued is superseded by a later one.
      mv.vm.stallNs += extra;
      this.#kernel.schedule(
        this.#kernel.now + this.#config.faultCost + extra,
        this.#base + EV_RESUME,
        mv.id,
        ++mv.stallGen,
      );
    } else if (this.#cpu.isRunning(mv.id)) {
      if (mv.inRing) this.#run.remove(mv);
      this.#stall(mv, extra);
    }
  }

  #exhaust(vm: MemoryVm): void {
    vm.exhausted = true;
    for (const id of vm.vcpus) {
      const mv = this.#vcpus[id]!;
      if (mv.inRing) this.#run.remove(mv);
    }
  }

  /** Maps `page` of `vm` into the free `frame`. */
  #load(vm: MemoryVm, page: number, frame: number, write: boolean): void {
    const now = this.#kernel.now;
    this.frameMap[2 * frame] = 2 * vm.index + (write ? DIRTY : 0);
    this.frameMap[2 * frame + 1] = page;
    const pte = vm.pte, entry = 4 * page;
    pte[entry] = frame + 1;
    const epoch = this.#targets.epoch;
    if (pte[entry + 1]! >>> 1 !== epoch) vm.accessed++;
    pte[entry + 1] = epoch * EPOCH + (write ? DIRTY : 0);
    if (++vm.resident > vm.residentPeak) vm.residentPeak = vm.resident;
    const used = this.frames - this.#frames.freeCount;
    if (used > this.usedPeak) this.usedPeak = used;
    // The load ranks before the touches still in the buffer: they are numbered after it.
    const touches = this.#touches, seq = touches.seq + 1;
    this.#frames.loadSeq[frame] = seq;
    setSeq(pte, entry, seq);
    this.#kernel.log.record(LOG.memory, MEMORY_LOG.LOAD, now, frame, vm.index, page);
    this.#flushTouches();
    if (touches.seq < seq) touches.seq = seq;
    this.slot.writer.call4(MEMORY_OP.LOADED, now, frame, vm.index, page, write ? 1 : 0);
  }

  /**
   * Unmaps the page in `frame` (the caller frees or reuses the frame); true if it was dirty. A
   * victim's eviction is not logged: the load into its frame that follows says it all.
   */
  #evict(frame: number, logged = true): boolean {
    const map = this.frameMap, word = map[2 * frame]!, page = map[2 * frame + 1]!;
    const vm = this.vms[word >> 1]!, dirty = (word & DIRTY) !== 0;
    // The entry's dirty bit is left as it is: the page's next load rewrites that word.
    vm.pte[4 * page] = 0;
    vm.resident--;
    vm.evictions++;
    this.evictions++;
    if (dirty) vm.writebacks++, this.writebacks++;
    map[2 * frame] = -1;
    if (logged) {
      this.#kernel.log.record(
        LOG.memory,
        MEMORY_LOG.EVICT,
        this.#kernel.now,
        frame,
        vm.index,
        page,
      );
    }
    return dirty;
  }

  /** Writes the touches gathered so far into the batch (`touches.ts`). */
  #flushTouches(): void {
    if (this.#touches.count > 0) this.#touches.flush(this.slot.writer, this.vms);
  }

  /** Tells a future-aware policy how far each VM is in its reference string. */
  #sendProgress(): void {
    if (!this.#futureAware) return;
    const pairs: number[] = [];
    for (const vm of this.vms) {
      if (vm === undefined || !vm.arrived || vm.issuedSent === vm.issued) continue;
      vm.issuedSent = vm.issued;
      pairs.push(vm.index, vm.issued);
    }
    if (pairs.length > 0) this.slot.writer.callN(MEMORY_OP.PROGRESS, this.#kernel.now, pairs);
  }

  settle(): void {
    if (this.#pending !== null && !this.#pendingAsked) this.#askVictim();
    this.#targets.settle();
  }

  apply(reply: Reply): void {
    const queries = this.#queries, reader = queries.reader;
    for (let q = queries.start(reply); q >= 0; q = queries.next()) {
      const n = queries.values, arg = queries.arg[q]!;
      switch (queries.kind[q]) {
        case MEMORY_OP.VICTIM:
          this.#applyVictim(n, reader);
          break;
        case MEMORY_OP.RECLAIM:
          this.#targets.applyReclaim(arg, queries.extra[q]!, n, reader);
          break;
        case MEMORY_OP.BALANCE:
          this.#targets.applyBalance(n, reader);
          break;
      }
    }
  }

  #applyVictim(n: number, reader: ReplyReader): void {
    const pending = this.#pending;
    if (pending === null) {
      for (let i = 0; i < n; i++) reader.next();
      return;
    }
    const vm = pending.vcpu.vm;
    // This runs at every fault: the messages are built only for a bad answer.
    if (n !== 1) {
      throw invalid(
        "no-victim",
        `the fault of VM ${vm.id} on page ${pending.page}: expected one frame, got ${n} values`,
      );
    }
    const frame = reader.next();
    if (!this.#frames.mayTake(frame, pending.scope)) {
      this.#frames.check(
        frame,
        pending.scope,
        `victim for the fault of VM ${vm.id} on page ${pending.page}`,
        this.vms,
      );
    }
    this.#pending = null;
    this.#pendingAsked = false;
    const dirty = this.#evict(frame, false);
    this.#load(vm, pending.page, frame, pending.write);
    this.#served(pending.vcpu, dirty);
    const mv = pending.vcpu;
    if (!mv.stalled && !vm.exhausted && !vm.removed && this.#cpu.isRunning(mv.id) && !mv.inRing) {
      this.#run.insert(mv);
    }
    // The step goes on in this instant once it is settled: at once if no other event of the
    // instant is left (without queueing one), else through a step event after them.
    this.#stepAt = this.#kernel.now;
    this.#stepGen++;
    this.#kernel.again(this);
  }

  again(direct: boolean): void {
    if (direct) this.#step();
    else this.#kernel.schedule(this.#kernel.now, this.#base + EV_STEP, 0, this.#stepGen);
  }

  check(declared: StartResult): void {
    // A balance period is a periodic hook as a tick is: bounded the same way.
    this.#targets.check(declared);
  }

  installed(): void {
    this.#tracking = this.slot.has("touched");
    this.#futureAware = this.slot.has("future");
    if (this.#futureAware) {
      if (this.#futureUnknown !== null) {
        throw new PolicyFailure(
          "error",
          "config",
          `Policy ${this.slot.info.name}: needs the future page references, but ${this.#futureUnknown}; expected "refs" for every VM with memory`,
        );
      }
      for (const vm of this.vms) if (vm !== undefined) vm.issuedSent = -1, vm.futureSent = true;
      this.#flushTouches();
      const writer = this.slot.writer;
      writer.call1(MEMORY_OP.FUTURE, this.#kernel.now, writer.obj(this.#future));
    }
    this.#targets.install();
  }

  replay(): void {
    const writer = this.slot.writer, now = this.#kernel.now;
    this.#queries.clear();
    this.#pendingAsked = false;
    this.#targets.reset();
    // The touches not yet sent only update the frames' reference order, replayed below.
    this.#touches.absorb();
    for (const vm of this.vms) {
      if (vm === undefined || !vm.arrived || vm.removed) continue;
      vm.reclaimAsked = false;
      writer.call1(MEMORY_OP.VM_ADD, now, writer.obj(this.#vmSpec(vm)));
    }
    this.#frames.replay(writer, now, this.vms, this.slot.has("touched"));
  }

  finish(_endNs: number): void {}

  /** The domain's figures now, per VM and for the host. */
  figures(_nowNs?: number): MemoryFigures {
    return memoryFigures(this, this.#frames.freeCount);
  }
}
