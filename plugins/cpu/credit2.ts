/**
 * A credit2-style scheduler, after Xen's `xen/common/sched/credit2.c`, with one run queue (Xen
 * keeps one per cache domain; a host here is one):
 *
 * - Every vCPU starts with 10 ms of credit and burns it while it runs, faster the lighter its VM:
 *   `ran × max weight / weight` (`t2c_update`), so the heaviest VM burns 1 ns per ns.
 * - The run queue is ordered by credit, most first (`runq_insert`). When the vCPU about to run
 *   (or the best one waiting) has no credit left, every vCPU gets 10 ms more, keeping at most
 *   0.5 ms of what it had (`reset_credit`): an epoch ends.
 * - A vCPU runs until its credit would fall to that of the next one waiting, clamped to 0.5..10 ms
 *   and to at least the rate limit (`csched2_runtime`).
 * - A vCPU that wakes takes an idle pCPU, or preempts the running vCPU with the least credit if it
 *   has more (a 0.5 ms handicap for another pCPU than its last) and that one ran at least the
 *   rate limit (`runq_tickle`, `tickle_score`).
 * - A VM's `cap` (percent of one pCPU) is a budget of `cap × 10 ms / 100` per 10 ms period, shared
 *   by its vCPUs: a vCPU grabs a quota before running, gives back what it did not use, and is
 *   parked when the VM has none left until a replenishment timer refills it
 *   (`unit_grab_budget`, `replenish_domain_budget`).
 *
 * Departures: one run queue and no load tracking or balancing between queues; credit below
 * −10 ms is clamped (Xen asserts it never happens); weights are per vCPU, as in Xen's credit2.
 * Weight changes apply from the next burn, cap changes at once, as `csched2_dom_cntl` does.
 *
 * @module
 */

import {
  ConfigError,
  type CpuContext,
  defineCpuPolicy,
  param,
  type VcpuView,
  type VmView,
} from "../../core/policy/mod.ts";

const US = 1000, MS = 1_000_000;
/** Credit a vCPU starts an epoch with, and the longest it runs (`CSCHED2_CREDIT_INIT`). */
const CREDIT_INIT = 10 * MS;
const CREDIT_MIN = -CREDIT_INIT;
/** The shortest run, and the most credit carried over a reset (`CSCHED2_MIN_TIMER`). */
const MIN_TIMER = 500 * US;
const MIGRATE_RESIST = 500 * US;
const MIGRATE_COMPENSATION = 50 * US;
const RATELIMIT_TOLERANCE = 50 * US;
/** The cap's replenishment period (`CSCHED2_BDGT_REPL_PERIOD`). */
const CAP_PERIOD = 10 * MS;

/** The credit state of one vCPU (`struct csched2_unit`). */
interface Unit {
  readonly vcpu: VcpuView<Unit>;
  readonly dom: Dom;
  credit: number;
  /** Burned time not yet worth a whole credit, in ns × max weight. */
  residual: number;
  /** Credit is burned up to here while it runs (`start_time`). */
  burnedNs: number;
  /** When it started running (the rate limit counts from here). */
  startedNs: number;
  /** The pCPU it last ran on. */
  lastPcpu: number;
  /** Budget grabbed from its VM's pool (capped VMs only). */
  budget: number;
  queued: boolean;
  parked: boolean;
}

/** The cap state of one VM (`struct csched2_dom`). */
interface Dom {
  readonly vm: VmView<Unit>;
  readonly units: Unit[];
  /** The cap it is set up for (0: none). */
  cap: number;
  /** Budget left in the pool this period, and what a period refills. */
  budget: number;
  totalBudget: number;
  nextReplNs: number;
}

export default defineCpuPolicy({
  name: "credit2",
  config: { ratelimit_us: param.number(1000, { min: 0, max: 500_000, integer: true }) },
  create({ config, pcpus }) {
    const { ratelimit_us } = config;
    if (ratelimit_us !== 0 && ratelimit_us < 100) {
      throw new ConfigError(
        `Policy credit2 config.ratelimit_us: expected 0 or 100..500000, got ${ratelimit_us}`,
      );
    }
    const ratelimitNs = ratelimit_us * US;
    const doms: Dom[] = [];
    /** Runnable vCPUs waiting, most credit first. */
    const runq: Unit[] = [];
    let maxWeight = 1;

    /** A VM's state, made with its first vCPU's. */
    const domOf = (vm: VmView<Unit>): Dom =>
      doms[vm.index] ??= { vm, units: [], cap: 0, budget: 0, totalBudget: 0, nextReplNs: 0 };
    const capped = (unit: Unit) => unit.dom.cap > 0;
    const updateMaxWeight = () => {
      maxWeight = Math.max(1, ...doms.filter((dom) => dom.vm.alive).map((dom) => dom.vm.weight));
    };

    /** Queues behind every vCPU with as much credit or more (`runq_insert`). */
    function insert(unit: Unit): void {
      let at = 0, hi = runq.length;
      while (at < hi) {
        const mid = (at + hi) >> 1;
        if (unit.credit > runq[mid]!.credit) hi = mid;
        else at = mid + 1;
      }
      runq.splice(at, 0, unit);
      unit.queued = true;
    }

    function unqueue(unit: Unit): void {
      if (unit.queued) runq.splice(runq.indexOf(unit), 1), unit.queued = false;
    }

    /** Charges a running vCPU for the time since it was last charged (`burn_credits`). */
    function burn(unit: Unit, now: number): void {
      const delta = now - unit.burnedNs;
      if (delta <= 0) return;
      const weight = unit.vcpu.vm.weight;
      const value = delta * maxWeight + unit.residual;
      const credits = Math.floor(value / weight);
      unit.residual = value - credits * weight;
      unit.credit = Math.max(CREDIT_MIN, unit.credit - credits);
      if (capped(unit)) unit.budget -= delta;
      unit.burnedNs = now;
    }

    /** Takes a quota from the VM's pool, or parks the vCPU (`unit_grab_budget`). */
    function grabBudget(unit: Unit): boolean {
      if (unit.budget > 0) return true;
      const dom = unit.dom;
      dom.budget += unit.budget; // an overrun is paid from the pool
      const quota = Math.max(Math.floor(dom.totalBudget / dom.units.length), MIN_TIMER);
      if (dom.budget > 0) {
        unit.budget = Math.min(quota, dom.budget);
        dom.budget -= unit.budget;
        return true;
      }
      unit.budget = 0;
      unit.parked = true;
      unqueue(unit);
      return false;
    }

    /** Puts unparked vCPUs back in the queue; returns the pCPUs they preempt. */
    function unpark(ctx: CpuContext<unknown, Unit>, dom: Dom): number[] {
      const victims: number[] = [];
      for (const unit of dom.units) {
        if (!unit.parked) continue;
        unit.parked = false;
        if (unit.vcpu.status !== "ready") continue;
        insert(unit);
        const pcpu = tickle(ctx, unit);
        if (pcpu !== null) victims.push(pcpu);
      }
      return victims;
    }

    function setCap(ctx: CpuContext<unknown, Unit>, dom: Dom): number[] {
      const cap = dom.vm.cap;
      if (cap === dom.cap) return [];
      const wasCapped = dom.cap > 0;
      dom.cap = cap;
      dom.totalBudget = Math.floor(CAP_PERIOD * cap / 100);
      if (cap === 0) {
        for (const unit of dom.units) unit.budget = Infinity;
        return unpark(ctx, dom);
      }
      if (!wasCapped) {
        dom.budget = dom.totalBudget;
        dom.nextReplNs = ctx.now + CAP_PERIOD;
        ctx.timer(dom.nextReplNs);
        for (const unit of dom.units) {
          if (unit.vcpu.status === "running") burn(unit, ctx.now);
          unit.budget = 0;
        }
      }
      return [];
    }

    /** Starts a new epoch: everyone gets 10 ms more, keeping little (`reset_credit`). */
    function resetCredit(ctx: CpuContext<unknown, Unit>, next: Unit): void {
      const reset = next.credit === CREDIT_MIN ? 2 * CREDIT_INIT : CREDIT_INIT;
      for (const vcpu of ctx.vcpus) {
        if (vcpu === undefined || !vcpu.vm.alive) continue;
        const unit = vcpu.slot;
        if (unit.vcpu.status === "running") burn(unit, ctx.now);
        unit.credit = Math.min(unit.credit + reset, CREDIT_INIT + MIN_TIMER);
      }
    }

    /** How long `next` may run (`csched2_runtime`). */
    function runtime(next: Unit): number {
      const minTime = Math.max(MIN_TIMER, ratelimitNs);
      const waiting = runq[0];
      const credit = waiting !== undefined && waiting.credit > 0
        ? next.credit - waiting.credit
        : next.credit;
      let time = credit > 0 ? Math.floor(credit * next.vcpu.vm.weight / maxWeight) : 0;
      if (capped(next)) time = Math.min(time, next.budget);
      return Math.min(Math.max(time, minTime), CREDIT_INIT);
    }

    /** The pCPU a woken vCPU should preempt (`runq_tickle`), or null. */
    function tickle(ctx: CpuContext<unknown, Unit>, unit: Unit): number | null {
      let best = -1, bestScore = 0;
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const running = ctx.running(pcpu);
        if (running === null) return null; // an idle pCPU takes it
        const current = running.slot;
        const preemptable = ratelimitNs <= RATELIMIT_TOLERANCE ||
          ctx.now - current.startedNs > ratelimitNs - RATELIMIT_TOLERANCE;
        if (!preemptable) continue;
        burn(current, ctx.now);
        let score = unit.credit - current.credit;
        if (pcpu !== unit.lastPcpu) score -= MIGRATE_RESIST;
        if (score > 0 && pcpu === unit.lastPcpu) return pcpu;
        if (score > bestScore) best = pcpu, bestScore = score;
      }
      return best < 0 ? null : best;
    }

    return {
      vcpuSlot(ctx, vcpu): Unit {
        const dom = domOf(vcpu.vm);
        const unit: Unit = {
          vcpu,
          dom,
          credit: CREDIT_INIT,
          residual: 0,
          burnedNs: ctx.now,
          startedNs: ctx.now,
          lastPcpu: -1,
          budget: Infinity,
          queued: false,
          parked: false,
        };
        dom.units.push(unit);
        return unit;
      },
      vmAdded(ctx, vm) {
        updateMaxWeight();
        setCap(ctx, domOf(vm));
      },
      vmChanged(ctx, vm) {
        updateMaxWeight();
        setCap(ctx, doms[vm.index]!);
      },
      vmRemoved(_ctx, vm) {
        for (const vcpu of vm.vcpus) unqueue(vcpu.slot);
        updateMaxWeight();
      },
      enqueue(_ctx, vcpu) {
        const unit = vcpu.slot;
        if (!unit.parked) insert(unit);
      },
      preempt(ctx, vcpu) {
        const unit = vcpu.slot;
        return unit.queued ? tickle(ctx, unit) : null;
      },
      dispatch(ctx, pcpu) {
        let next: Unit | undefined;
        while ((next = runq[0]) !== undefined) {
          if (!capped(next) || grabBudget(next)) break;
        }
        if (next === undefined) return null;
        unqueue(next);
        if (Math.max(next.credit, runq[0]?.credit ?? -Infinity) <= 0) resetCredit(ctx, next);
        if (next.lastPcpu >= 0 && next.lastPcpu !== pcpu) next.credit += MIGRATE_COMPENSATION;
        return { vcpu: next.vcpu, sliceNs: runtime(next) };
      },
      running(ctx, vcpu, pcpu) {
        const unit = vcpu.slot;
        unit.startedNs = unit.burnedNs = ctx.now;
        unit.lastPcpu = pcpu;
      },
      stopping(ctx, vcpu) {
        const unit = vcpu.slot;
        burn(unit, ctx.now);
        if (!capped(unit)) return;
        // Give back what it did not use (`unit_return_budget`); the parked may run again.
        const dom = unit.dom;
        dom.budget += unit.budget;
        unit.budget = 0;
        if (dom.budget > 0) {
          for (const other of dom.units) {
            if (other.parked && other !== unit) {
              other.parked = false;
              if (other.vcpu.status === "ready") insert(other);
            }
          }
        }
      },
      timer(ctx) {
        const victims = new Set<number>();
        for (const dom of doms) {
          if (dom === undefined || dom.cap === 0 || dom.nextReplNs > ctx.now) continue;
          // Replenish once per period that passed, never above one period's worth.
          while (dom.nextReplNs <= ctx.now) {
            dom.budget += dom.totalBudget;
            dom.nextReplNs += CAP_PERIOD;
          }
          dom.budget = Math.min(dom.budget, dom.totalBudget);
          ctx.timer(dom.nextReplNs);
          if (dom.budget > 0) { for (const pcpu of unpark(ctx, dom)) victims.add(pcpu); }
        }
        return [...victims];
      },
    };
  },
});
