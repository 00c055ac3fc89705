/**
 * Weighted fair queueing by virtual time, the way Linux's CFS does it (`kernel/sched/fair.c`):
 *
 * - Each vCPU has a virtual runtime that grows by the time it runs scaled by 256 over its VM's
 *   weight (256, the default weight, plays CFS's nice-0 load): heavier VMs age more slowly.
 * - The vCPU with the smallest virtual runtime runs next, for its share of the latency target:
 *   `latency × weight / total weight` of the runnable vCPUs, never less than `minGranularity`; with
 *   many runnable vCPUs the period stretches to `count × minGranularity` (`__sched_period`).
 * - A vCPU that wakes is placed at most half a latency target behind the smallest virtual runtime
 *   (`place_entity` with gentle sleepers), so sleeping earns a bounded head start, and it preempts
 *   the running vCPU that is furthest ahead by more than `wakeupGranularity` scaled by its weight
 *   (`check_preempt_wakeup`). A new vCPU starts at the smallest virtual runtime.
 *
 * Departures: one global run queue for all pCPUs (CFS keeps one per CPU and balances them); the
 * weight is per vCPU (no group scheduling of a VM's vCPUs); no EEVDF deadlines. Weight changes
 * apply from the vCPU's next charge.
 *
 * @module
 */

import { type CpuContext, defineCpuPolicy, param, type VcpuView } from "../../core/policy/mod.ts";

/** The weight whose virtual time runs at the speed of real time. */
const UNIT_WEIGHT = 256;

/** The fair-share state of one vCPU (`struct sched_entity`). */
interface Entity {
  readonly vcpu: VcpuView<Entity>;
  vruntime: number;
  /** When it started running, while it runs. */
  startedNs: number;
  queued: boolean;
  /** Its VM's weight when it was queued (what `queuedWeight` holds for it). */
  weight: number;
}

export default defineCpuPolicy({
  name: "fair",
  config: {
    latency: param.duration("6ms", { min: "100us" }),
    minGranularity: param.duration("750us", { min: "10us" }),
    wakeupGranularity: param.duration("1ms", { min: "0ns" }),
  },
  create({ config, pcpus }) {
    /** Runnable and waiting, smallest virtual runtime first. */
    const runq: Entity[] = [];
    let minVruntime = 0, queuedWeight = 0;

    const scaled = (ns: number, vcpu: VcpuView<Entity>) => ns * UNIT_WEIGHT / vcpu.vm.weight;
    /** Virtual runtime including what a running vCPU ran so far. */
    const vruntimeNow = (ctx: CpuContext<unknown, Entity>, entity: Entity) =>
      entity.vcpu.status === "running"
        ? entity.vruntime + scaled(ctx.now - entity.startedNs, entity.vcpu)
        : entity.vruntime;
    const before = (a: Entity, b: Entity) =>
      a.vruntime < b.vruntime || (a.vruntime === b.vruntime && a.vcpu.id < b.vcpu.id);

    function insert(entity: Entity): void {
      let lo = 0, hi = runq.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(runq[mid]!, entity)) lo = mid + 1;
        else hi = mid;
      }
      runq.splice(lo, 0, entity);
      entity.queued = true;
      entity.weight = entity.vcpu.vm.weight;
      queuedWeight += entity.weight;
    }

    function unqueue(entity: Entity, at = runq.indexOf(entity)): void {
      runq.splice(at, 1);
      entity.queued = false;
      queuedWeight -= entity.weight;
    }

    /** Moves the queue's floor up to the smallest virtual runtime in play (`update_min_vruntime`). */
    function updateMin(ctx: CpuContext<unknown, Entity>): void {
      let least = runq[0]?.vruntime ?? Infinity;
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const running = ctx.running(pcpu);
        if (running !== null) least = Math.min(least, vruntimeNow(ctx, running.slot));
      }
      if (least !== Infinity) minVruntime = Math.max(minVruntime, least);
    }

    return {
      vcpuSlot: (_ctx, vcpu): Entity => ({
        vcpu,
        vruntime: minVruntime,
        startedNs: 0,
        queued: false,
        weight: 0,
      }),
      vmRemoved(_ctx, vm) {
        for (const vcpu of vm.vcpus) {
          const entity = vcpu.slot;
          if (entity.queued) unqueue(entity);
        }
      },
      enqueue(ctx, vcpu, reason) {
        const entity = vcpu.slot;
        updateMin(ctx);
        if (reason === "wake") {
          entity.vruntime = Math.max(entity.vruntime, minVruntime - config.latency / 2);
        } else if (reason === "arrive" || reason === "replay") {
          entity.vruntime = Math.max(entity.vruntime, minVruntime);
        }
        insert(entity);
      },
      preempt(ctx, vcpu) {
        const entity = vcpu.slot;
        let victim = -1, lead = scaled(config.wakeupGranularity, vcpu);
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const running = ctx.running(pcpu);
          if (running === null) return null; // an idle pCPU takes it
          const ahead = vruntimeNow(ctx, running.slot) - entity.vruntime;
          if (ahead > lead) victim = pcpu, lead = ahead;
        }
        return victim < 0 ? null : victim;
      },
      dispatch(ctx) {
        const entity = runq[0];
        if (entity === undefined) return null;
        // Its share of the period, among everything runnable (`sched_slice`).
        let count = runq.length, totalWeight = queuedWeight;
        unqueue(entity, 0);
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const running = ctx.running(pcpu);
          if (running !== null) count++, totalWeight += running.vm.weight;
        }
        const period = Math.max(config.latency, count * config.minGranularity);
        const slice = period * entity.vcpu.vm.weight / totalWeight;
        return { vcpu: entity.vcpu, sliceNs: Math.max(config.minGranularity, Math.round(slice)) };
      },
      running(ctx, vcpu) {
        vcpu.slot.startedNs = ctx.now;
      },
      stopping(ctx, vcpu, _reason, ranNs) {
        vcpu.slot.vruntime += scaled(ranNs, vcpu);
        updateMin(ctx);
      },
    };
  },
});
