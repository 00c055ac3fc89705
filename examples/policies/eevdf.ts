/**
 * A latency-aware CPU policy after EEVDF, Earliest Eligible Virtual Deadline First (Stoica and
 * Abdel-Wahab, 1995; Linux's scheduler since 6.6):
 *
 * - A vCPU's virtual time grows by 256/weight per ns it runs: heavier VMs age more slowly.
 * - A vCPU is *eligible* when its virtual time is not ahead of the weighted average of the
 *   runnable vCPUs: it is owed service (its lag is not negative).
 * - Each vCPU asks for slices of its VM's `sched.slice` (its latency target; default `slice`), and
 *   its *virtual deadline* is its virtual time plus one slice in virtual time. Among the eligible
 *   vCPUs, the earliest deadline runs. A VM that asks for short slices is picked sooner after it
 *   wakes, without getting more CPU than its weight: it gets it in smaller pieces.
 * - A vCPU that blocks keeps its lag, bounded by one slice, and gets it back when it wakes; a debt
 *   is forgiven once it has slept for a slice, so a vCPU that sleeps more than it runs wakes up
 *   eligible. A vCPU that wakes preempts the running vCPU with the latest deadline if its own
 *   deadline is earlier.
 *
 * Departures from Linux: one global run queue, linear scans (fine for tens of vCPUs), and a debt
 * forgiven after a slice of sleep rather than decayed.
 *
 * @example A VM with a 1 ms latency target among CPU hogs
 * ```sh
 * deno task sim examples/workloads/demo.json --cpu examples/policies/eevdf.ts
 * ```
 *
 * @module
 */

import {
  ConfigError,
  type CpuContext,
  type CpuPolicy,
  defineCpuPolicy,
  param,
  type VcpuView,
} from "@hyperhook/hyperhook/policy";

/** The weight whose virtual time runs at the speed of real time. */
const UNIT_WEIGHT = 256;
const MIN_SLICE = 100_000, MAX_SLICE = 1_000_000_000;

/** EEVDF's view of one vCPU (Linux's `struct sched_entity`). */
interface Entity {
  readonly vcpu: VcpuView;
  /** Virtual time, as of the last charge. */
  vruntime: number;
  /** Virtual deadline of the current request. */
  deadline: number;
  /** Lag kept over a sleep, in virtual time. */
  lag: number;
  /** When it started running, while it runs; when it blocked, while it sleeps. */
  sinceNs: number;
}

/** EEVDF: the earliest virtual deadline among the vCPUs that are owed service. */
const policy: CpuPolicy = defineCpuPolicy({
  name: "eevdf",
  config: { slice: param.duration("3ms", { min: "100us", max: "1s" }) },
  sched: ["slice"],
  checkVm(id, params) {
    const slice = params.sched.slice;
    if (slice === undefined) return;
    if (typeof slice !== "number" || !(slice >= MIN_SLICE && slice <= MAX_SLICE)) {
      throw new ConfigError(
        `VM ${id} sched.slice: expected a duration from "100us" to "1s", got ${
          JSON.stringify(slice)
        }`,
      );
    }
  },
  create({ config, pcpus }) {
    const entities: Entity[] = [];
    const waiting = new Set<Entity>();
    const running: (Entity | null)[] = new Array(pcpus).fill(null);
    let lastAverage = 0;

    const sliceOf = (vcpu: VcpuView) => (vcpu.vm.sched.slice as number | undefined) ?? config.slice;
    const virtual = (ns: number, vcpu: VcpuView) => ns * UNIT_WEIGHT / vcpu.vm.weight;
    const now = (ctx: CpuContext<unknown>, entity: Entity) =>
      entity.vcpu.status === "running"
        ? entity.vruntime + virtual(ctx.now - entity.sinceNs, entity.vcpu)
        : entity.vruntime;

    /** The weighted average virtual time of the runnable vCPUs: the eligibility line. */
    function average(ctx: CpuContext<unknown>): number {
      let sum = 0, weights = 0;
      for (const entity of waiting) {
        sum += entity.vruntime * entity.vcpu.vm.weight;
        weights += entity.vcpu.vm.weight;
      }
      for (const entity of running) {
        if (entity === null) continue;
        sum += now(ctx, entity) * entity.vcpu.vm.weight;
        weights += entity.vcpu.vm.weight;
      }
      if (weights > 0) lastAverage = sum / weights;
      return lastAverage;
    }

    function newRequest(entity: Entity): void {
      entity.deadline = entity.vruntime + virtual(sliceOf(entity.vcpu), entity.vcpu);
    }

    return {
      enqueue(ctx, vcpu, reason) {
        let entity = entities[vcpu.id];
        if (entity === undefined) {
          entity = { vcpu, vruntime: average(ctx), deadline: 0, lag: 0, sinceNs: 0 };
          entities[vcpu.id] = entity;
          newRequest(entity);
        } else if (reason === "wake" || reason === "replay") {
          // Back with the lag it left with: owed service stays owed; a debt, for a short nap only.
          if (ctx.now - entity.sinceNs >= sliceOf(vcpu)) entity.lag = Math.max(0, entity.lag);
          entity.vruntime = average(ctx) - entity.lag;
          newRequest(entity);
        } else if (reason === "slice") {
          newRequest(entity);
        }
        waiting.add(entity);
      },
      dispatch(ctx) {
        const line = average(ctx);
        let best: Entity | undefined, bestEligible = false;
        for (const entity of waiting) {
          const eligible = entity.vruntime <= line + 1e-6;
          if (
            best === undefined || (eligible && !bestEligible) ||
            (eligible === bestEligible &&
              (entity.deadline < best.deadline ||
                (entity.deadline === best.deadline && entity.vcpu.id < best.vcpu.id)))
          ) {
            best = entity;
            bestEligible = eligible;
          }
        }
        if (best === undefined) return null;
        waiting.delete(best);
        return { vcpu: best.vcpu, sliceNs: sliceOf(best.vcpu) };
      },
      preempt(ctx, vcpu) {
        const entity = entities[vcpu.id]!;
        if (running.includes(null) || entity.vruntime > average(ctx) + 1e-6) return null;
        let latest = -1;
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const other = running[pcpu]!;
          if (latest === -1 || other.deadline > running[latest]!.deadline) latest = pcpu;
        }
        return entity.deadline < running[latest]!.deadline ? latest : null;
      },
      running(ctx, vcpu, pcpu) {
        const entity = entities[vcpu.id]!;
        entity.sinceNs = ctx.now;
        running[pcpu] = entity;
        waiting.delete(entity);
      },
      stopping(ctx, vcpu, reason, ranNs) {
        const entity = entities[vcpu.id]!;
        entity.vruntime += virtual(ranNs, vcpu);
        if (reason === "block") {
          const bound = virtual(sliceOf(vcpu), vcpu);
          entity.lag = Math.max(-bound, Math.min(bound, average(ctx) - entity.vruntime));
          entity.sinceNs = ctx.now;
        }
        const index = running.indexOf(entity);
        if (index >= 0) running[index] = null;
      },
    };
  },
});

export default policy;
