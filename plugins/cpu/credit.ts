/**
 * Xen's credit scheduler (credit1), after `xen/common/sched/credit.c`:
 *
 * - Each vCPU has a credit balance and a priority: BOOST (just woke), UNDER (has credit) or OVER
 *   (overspent). Each pCPU has a run queue ordered BOOST, UNDER, OVER, first come first served
 *   within a priority (`__runq_insert`); a vCPU runs for at most a timeslice (`tslice_ms`, 30 ms).
 * - A pCPU whose best queued vCPU is OVER, or that has none, steals the first queued vCPU of
 *   strictly better priority from a busy peer's queue (`csched_load_balance`, `csched_runq_steal`).
 * - Running burns 10 credits per ms, with the sub-credit residue kept (`burn_credits`). A tick
 *   every third of a timeslice (10 ms) burns the running vCPU's credit, ends its BOOST and puts it
 *   on its domain's active list (`csched_tick` → `csched_unit_acct`).
 * - Every timeslice the accounting (`csched_acct`) hands out one timeslice of credits per pCPU to
 *   the active domains in proportion to their weight, no domain more than its active vCPUs can
 *   burn nor its `cap` (percent of one pCPU) allows; it recomputes priorities, parks the vCPUs of a
 *   domain overspent past its cap, unparks them once their credit is positive, and lets a vCPU
 *   that hoards more than a timeslice of credit stop earning (keeping half).
 * - A waking vCPU is BOOSTed unless parked (`csched_unit_wake`); with no idle pCPU it preempts its
 *   own pCPU's vCPU if that one has a lower priority (`__runq_tickle`), but not before that one ran
 *   `ratelimit_us` (`csched_schedule`): then it is preempted when its rate limit expires.
 *
 * Where it departs from Xen: a domain's weight is shared by its vCPUs, as in credit1 as first
 * written (Xen 3's `sched_credit.c`: `weight_left -= sdom->weight`) and as `xl sched-credit`
 * documents weight, where later Xen counts it once per active vCPU; no topology (every pCPU is a
 * peer of every other, no cache-hot migration delay); the accounting burns the running vCPUs'
 * credit up to its own instant rather than to their last tick; `boost: false` (not in Xen) turns
 * BOOST off, to measure what it buys. Weight and cap changes take effect at the next accounting.
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

/** Priorities, higher runs first (`CSCHED_PRI_*`). */
const BOOST = 0, UNDER = -1, OVER = -2, IDLE = -64;
/** Credits burned per ms of running (`CSCHED_CREDITS_PER_MSEC`). */
const CREDITS_PER_MSEC = 10;
const MS = 1_000_000;

/** The credit state of one vCPU (`struct csched_unit`). */
interface Unit {
  readonly vcpu: VcpuView<Unit>;
  readonly dom: Dom;
  /** The pCPU whose run queue it belongs to (`sched_unit_master`). */
  cpu: number;
  pri: number;
  credit: number;
  /** Burned time not yet worth a whole credit, in ns × credits per ms. */
  residual: number;
  /** Credit is burned up to here while it runs. */
  burnedNs: number;
  /** When it last started running (the rate limit counts from here). */
  startedNs: number;
  /** On its domain's active list: earning credits at each accounting. */
  active: boolean;
  /** Over its domain's cap: not runnable until the accounting unparks it. */
  parked: boolean;
  /** Sits in its pCPU's run queue. */
  queued: boolean;
  /** The pCPU it runs on, or last ran on. */
  ranOn: number;
}

/** The credit state of one domain (`struct csched_dom`); weight and cap live on the VM. */
interface Dom {
  readonly vm: VmView<Unit>;
  readonly active: Unit[];
}

export default defineCpuPolicy({
  name: "credit",
  config: {
    tslice_ms: param.number(30, { min: 1, max: 1000, integer: true }),
    ratelimit_us: param.number(1000, { min: 0, max: 500_000, integer: true }),
    boost: param.boolean(true),
  },
  // Three ticks per timeslice, one if the timeslice is under 3 ms (`__csched_set_tslice`).
  tickNs: ({ tslice_ms }) => Math.floor(tslice_ms * 1000 / (tslice_ms < 3 ? 1 : 3)) * 1000,
  create({ config, pcpus }) {
    const { tslice_ms, ratelimit_us } = config;
    if (ratelimit_us !== 0 && (ratelimit_us < 100 || ratelimit_us > tslice_ms * 1000)) {
      throw new ConfigError(
        `Policy credit config.ratelimit_us: expected 0 or 100..500000 and at most tslice_ms × 1000 (${
          tslice_ms * 1000
        }), got ${ratelimit_us}`,
      );
    }
    const tsliceNs = tslice_ms * MS, ratelimitNs = ratelimit_us * 1000;
    const creditsPerTslice = CREDITS_PER_MSEC * tslice_ms;
    const doms: Dom[] = [];
    let activeDoms: Dom[] = [];
    const runqs: Unit[][] = Array.from({ length: pcpus }, () => []);
    /** pCPUs whose preemption waits for the running vCPU's rate limit. */
    const ratelimited = new Set<number>();
    /**
     * When each pCPU last switched (a vCPU stopped or was picked): one that did so this instant is
     * not idle, as in Xen its current vCPU is still the one it runs until it switches.
     */
    const switchedNs: number[] = new Array(pcpus).fill(-1);
    let balance = 0, nextAcctNs = -1, stealBias = 0, placed = 0;

    /** A VM's state, made with its first vCPU's. */
    const domOf = (vm: VmView<Unit>): Dom => doms[vm.index] ??= { vm, active: [] };
    const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b);
    const priOf = (ctx: CpuContext<unknown, Unit>, pcpu: number) => {
      const running = ctx.running(pcpu);
      return running === null ? IDLE : running.slot.pri;
    };

    /** Queues behind every vCPU of the same or better priority (`__runq_insert`). */
    function insert(unit: Unit): void {
      const runq = runqs[unit.cpu]!;
      let at = runq.findIndex((other) => other.pri < unit.pri);
      if (at < 0) at = runq.length;
      runq.splice(at, 0, unit);
      unit.queued = true;
    }

    function unqueue(unit: Unit): void {
      if (!unit.queued) return;
      const runq = runqs[unit.cpu]!;
      runq.splice(runq.indexOf(unit), 1);
      unit.queued = false;
    }

    /** Burns the credit of a running vCPU up to now (`burn_credits`). */
    function burn(unit: Unit, now: number): void {
      const value = (now - unit.burnedNs) * CREDITS_PER_MSEC + unit.residual;
      const credits = Math.floor(value / MS);
      unit.residual = value - credits * MS;
      unit.credit -= credits;
      unit.burnedNs = now;
    }

    function activate(unit: Unit): void {
      unit.active = true;
      unit.dom.active.unshift(unit);
      if (!activeDoms.includes(unit.dom)) activeDoms.unshift(unit.dom);
    }

    function deactivate(unit: Unit): void {
      unit.active = false;
      unit.dom.active.splice(unit.dom.active.indexOf(unit), 1);
      if (unit.dom.active.length === 0) activeDoms = activeDoms.filter((d) => d !== unit.dom);
    }

    /**
     * Whom a newly queued vCPU should preempt (`__runq_tickle`): nobody while a pCPU idles (it
     * asks for work and steals), else its own pCPU if that runs something of lower priority, once
     * the rate limit allows.
     */
    function tickle(ctx: CpuContext<unknown, Unit>, unit: Unit): number | null {
      for (let pcpu = 0; pcpu < pcpus; pcpu++) if (ctx.running(pcpu) === null) return null;
      if (unit.pri <= priOf(ctx, unit.cpu)) return null;
      const current = ctx.running(unit.cpu)!.slot;
      if (ctx.now - current.startedNs < ratelimitNs) {
        ratelimited.add(unit.cpu);
        ctx.timer(current.startedNs + ratelimitNs);
        return null;
      }
      return unit.cpu;
    }

    /** The first queued vCPU of a busy peer with priority above `pri` (`csched_load_balance`). */
    function steal(ctx: CpuContext<unknown, Unit>, pcpu: number, pri: number): Unit | null {
      for (let step = 1; step <= pcpus; step++) {
        const peer = (stealBias + step) % pcpus;
        if (peer === pcpu || (ctx.running(peer) === null && switchedNs[peer] !== ctx.now)) continue;
        const head = runqs[peer]![0];
        if (head === undefined || head.pri <= pri) continue;
        stealBias = peer;
        unqueue(head);
        head.cpu = pcpu;
        return head;
      }
      return null;
    }

    /** Hands out a timeslice of credits to the active domains by weight (`csched_acct`). */
    function account(ctx: CpuContext<unknown, Unit>): Unit[] {
      const unparked: Unit[] = [];
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const running = ctx.running(pcpu);
        if (running !== null) burn(running.slot, ctx.now);
      }
      const weightTotal = activeDoms.reduce((sum, dom) => sum + dom.vm.weight, 0);
      let creditTotal = creditsPerTslice * pcpus;
      if (balance < 0) creditTotal -= balance;
      if (weightTotal === 0) {
        balance = 0;
        return unparked;
      }
      let weightLeft = weightTotal, newBalance = 0, xtra = false;
      for (const dom of [...activeDoms]) {
        const { weight, cap } = dom.vm, count = dom.active.length;
        weightLeft -= weight;
        // At most what its active vCPUs can burn, more only to pay back a negative balance.
        let peak = count * creditsPerTslice;
        if (balance < 0) peak += ceilDiv(-balance * weight, weightTotal);
        let capPerUnit = 0;
        if (cap !== 0) {
          const capCredits = ceilDiv(cap * creditsPerTslice, 100);
          if (capCredits < peak) peak = capCredits;
          capPerUnit = ceilDiv(capCredits, count);
        }
        let fair = ceilDiv(creditTotal * weight, weightTotal);
        if (fair < peak) xtra = true;
        else {
          // Give what this domain cannot use to the domains after it.
          if (weightLeft !== 0) creditTotal += ceilDiv((fair - peak) * weightTotal, weightLeft);
          if (xtra) activeDoms = [dom, ...activeDoms.filter((d) => d !== dom)];
          fair = peak;
        }
        fair = ceilDiv(fair, count);
        for (const unit of [...dom.active]) {
          unit.credit += fair;
          if (unit.credit < 0) {
            unit.pri = OVER;
            if (cap !== 0 && unit.credit < -capPerUnit && !unit.parked) {
              unit.parked = true;
              unqueue(unit);
            }
            if (unit.credit < -creditsPerTslice) unit.credit = -creditsPerTslice;
          } else {
            unit.pri = UNDER;
            if (unit.parked) unit.parked = false, unparked.push(unit);
            if (unit.credit > creditsPerTslice) {
              deactivate(unit);
              unit.credit = Math.trunc(unit.credit / 2);
            }
          }
          newBalance += unit.credit;
        }
      }
      balance = newBalance;
      // Priorities changed: re-sort the queues, keeping the order within a priority (`runq_sort`).
      for (const runq of runqs) runq.sort((a, b) => b.pri - a.pri);
      return unparked;
    }

    return {
      vcpuSlot: (ctx, vcpu): Unit => ({
        vcpu,
        dom: domOf(vcpu.vm),
        cpu: placed++ % pcpus, // vCPUs are spread over the pCPUs as they are created
        pri: UNDER,
        credit: 0,
        residual: 0,
        burnedNs: ctx.now,
        startedNs: ctx.now,
        active: false,
        parked: false,
        queued: false,
        ranOn: -1,
      }),
      vmAdded(ctx) {
        if (nextAcctNs < 0) {
          nextAcctNs = (Math.floor(ctx.now / tsliceNs) + 1) * tsliceNs;
          ctx.timer(nextAcctNs);
        }
      },
      vmRemoved(_ctx, vm) {
        for (const vcpu of vm.vcpus) {
          const unit = vcpu.slot;
          unqueue(unit);
          if (unit.active) deactivate(unit);
        }
      },
      enqueue(_ctx, vcpu, reason) {
        const unit = vcpu.slot;
        if (reason === "wake" && config.boost && unit.pri === UNDER && !unit.parked) {
          unit.pri = BOOST;
        }
        if (!unit.parked) insert(unit);
      },
      preempt(ctx, vcpu) {
        const unit = vcpu.slot;
        return unit.parked ? null : tickle(ctx, unit);
      },
      dispatch(ctx, pcpu) {
        let next: Unit | null = runqs[pcpu]![0] ?? null;
        if (next === null || next.pri === OVER) next = steal(ctx, pcpu, next?.pri ?? IDLE) ?? next;
        if (next === null) return null;
        unqueue(next);
        next.cpu = pcpu;
        switchedNs[pcpu] = ctx.now;
        return { vcpu: next.vcpu, sliceNs: tsliceNs };
      },
      running(ctx, vcpu, pcpu) {
        const unit = vcpu.slot;
        unit.startedNs = unit.burnedNs = ctx.now;
        unit.ranOn = pcpu;
      },
      stopping(ctx, vcpu) {
        const unit = vcpu.slot;
        burn(unit, ctx.now);
        switchedNs[unit.ranOn] = ctx.now;
      },
      tick(ctx, _pcpu, vcpu) {
        const unit = vcpu.slot;
        if (unit.pri === BOOST) unit.pri = UNDER;
        burn(unit, ctx.now);
        if (!unit.active) activate(unit);
        return false;
      },
      timer(ctx) {
        const victims = new Set<number>();
        if (ctx.now >= nextAcctNs) {
          for (const unit of account(ctx)) {
            if (unit.vcpu.status !== "ready") continue;
            insert(unit);
            const pcpu = tickle(ctx, unit);
            if (pcpu !== null) victims.add(pcpu);
          }
          while (nextAcctNs <= ctx.now) nextAcctNs += tsliceNs;
          ctx.timer(nextAcctNs);
        }
        for (let pcpu = 0; pcpu < pcpus; pcpu++) {
          const running = ctx.running(pcpu);
          if (running !== null && running.slot.parked) victims.add(pcpu);
        }
        // Preemptions that waited for a rate limit to expire.
        for (const pcpu of ratelimited) {
          const running = ctx.running(pcpu);
          if (running === null) ratelimited.delete(pcpu);
          else if (ctx.now >= running.slot.startedNs + ratelimitNs) {
            ratelimited.delete(pcpu);
            if ((runqs[pcpu]![0]?.pri ?? IDLE) > running.slot.pri) victims.add(pcpu);
          }
        }
        return [...victims];
      },
    };
  },
});
