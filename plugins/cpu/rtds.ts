/**
 * Xen's RTDS real-time scheduler, after `xen/common/sched/rt.c`: global preemptive EDF over
 * deferrable servers.
 *
 * - Each vCPU is a server with a `period` and a `budget` (the VM's `sched`, defaults 10 ms and
 *   4 ms). Its deadline is the end of its current period; at the deadline the budget is refilled
 *   and unused budget is lost (`rt_update_deadline`). Running burns the budget; waiting or blocked
 *   keeps it (a deferrable server, `burn_budget`).
 * - One global run queue, earliest deadline first; a vCPU runs until its budget is gone
 *   (`rt_schedule` sets the slice to `cur_budget`). A vCPU out of budget waits for its next period
 *   (`depletedq`), unless it has `extratime`: then it gets its budget again one priority level
 *   lower, and runs only when no vCPU of a better level wants to (`priority_level`).
 * - A vCPU that wakes, or is replenished, takes an idle pCPU or preempts the running vCPU with the
 *   latest deadline if its own is earlier (`runq_tickle`, `repl_timer_handler`). Replenishments
 *   are timers (`ctx.timer`) at the deadlines of runnable vCPUs; a vCPU that wakes after its
 *   deadline starts a new period at once (`rt_unit_wake`).
 * - A deadline miss is counted (`vms[].cpu.counters.deadlineMisses`) when a period ends while its
 *   vCPU was runnable and had not yet received its budget.
 *
 * Parameters are checked as `rt_validate_params` does: period at least 10 µs, budget at least
 * 10 µs and at most the period. A change of period or budget applies from the next period. Left
 * out: Xen's optional admission control, CPU pools and affinity.
 *
 * @module
 */

import {
  ConfigError,
  type CpuContext,
  defineCpuPolicy,
  param,
  type VcpuView,
  type VmParams,
} from "../../core/policy/mod.ts";

const US = 1000, MS = 1_000_000;
const DEFAULT_PERIOD = 10 * MS, DEFAULT_BUDGET = 4 * MS;
const MIN_PERIOD = 10 * US, MIN_BUDGET = 10 * US;

/** A duration for messages: "10ms", "250us", "12ns". */
const show = (ns: number) =>
  ns >= MS && ns % MS === 0
    ? `${ns / MS}ms`
    : ns >= US && ns % US === 0
    ? `${ns / US}us`
    : `${ns}ns`;

/** A vCPU as a deferrable server (`struct rt_unit`). */
interface Server {
  readonly vcpu: VcpuView<Server>;
  periodNs: number;
  budgetNs: number;
  extratime: boolean;
  /** Budget left in this period (at `level`). */
  leftNs: number;
  /** The end of the current period. */
  deadlineNs: number;
  /** 0 for its reservation, one more for each extra budget it got (`priority_level`). */
  level: number;
  /** Budget is burned up to here while it runs. */
  chargedNs: number;
  /** In the run queue (has budget and waits). */
  queued: boolean;
}

/** A VM's server parameters from its `sched`, or a ConfigError naming the VM. */
function serverParams(
  id: string,
  params: VmParams,
  extratimeDefault: boolean,
): { periodNs: number; budgetNs: number; extratime: boolean } {
  const sched = params.sched;
  const duration = (key: string, fallback: number, min: number): number => {
    const value = sched[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new ConfigError(
        `Policy rtds: VM ${id} sched.${key}: expected a duration of at least ${show(min)}, got ${
          typeof value === "number" ? show(value) : JSON.stringify(value)
        }`,
      );
    }
    return value;
  };
  const periodNs = duration("period", DEFAULT_PERIOD, MIN_PERIOD);
  const budgetNs = duration("budget", DEFAULT_BUDGET, MIN_BUDGET);
  if (budgetNs > periodNs) {
    throw new ConfigError(
      `Policy rtds: VM ${id} sched.budget: expected at most the period (${show(periodNs)}), got ${
        show(budgetNs)
      }`,
    );
  }
  const extratime = sched.extratime ?? extratimeDefault;
  if (typeof extratime !== "boolean") {
    throw new ConfigError(
      `Policy rtds: VM ${id} sched.extratime: expected true or false, got ${
        JSON.stringify(extratime)
      }`,
    );
  }
  return { periodNs, budgetNs, extratime };
}

export default defineCpuPolicy({
  name: "rtds",
  // Xen creates vCPUs with extratime on; `sched.extratime` on a VM overrides this default.
  config: { extratime: param.boolean(true) },
  counters: ["deadlineMisses"],
  sched: ["period", "budget", "extratime"],
  checkVm(id, params) {
    serverParams(id, params, true);
  },
  create({ config, pcpus }) {
    /** Runnable servers with budget, best first. */
    const runq: Server[] = [];

    /** Whether `a` goes before `b` (`compare_unit_priority`): better level, then earlier deadline. */
    const before = (a: Server, b: Server) =>
      a.level !== b.level
        ? a.level < b.level
        : a.deadlineNs !== b.deadlineNs
        ? a.deadlineNs < b.deadlineNs
        : a.vcpu.id < b.vcpu.id;

    function insert(server: Server): void {
      let at = 0, hi = runq.length;
      while (at < hi) {
        const mid = (at + hi) >> 1;
        if (before(server, runq[mid]!)) hi = mid;
        else at = mid + 1;
      }
      runq.splice(at, 0, server);
      server.queued = true;
    }

    function unqueue(server: Server): void {
      if (server.queued) runq.splice(runq.indexOf(server), 1), server.queued = false;
    }

    /** Starts the period that contains `now`, with a full budget (`rt_update_deadline`). */
    function newPeriod(server: Server, now: number): void {
      const { periodNs } = server;
      server.deadlineNs += Math.max(1, Math.ceil((now + 1 - server.deadlineNs) / periodNs)) *
        periodNs;
      server.leftNs = server.budgetNs;
      server.level = 0;
      server.chargedNs = now;
    }

    /**
     * Ends the period of a runnable server: a miss if it had not had its budget, then a new period
     * with a full budget (`repl_timer_handler`).
     */
    function replenish(ctx: CpuContext<unknown, Server>, server: Server): void {
      if (server.vcpu.status === "running") burn(server, ctx.now);
      if (server.level === 0 && server.leftNs > 0) ctx.count(server.vcpu.vm, "deadlineMisses");
      newPeriod(server, ctx.now);
    }

    /** Burns what the server ran since it was last charged (`burn_budget`). */
    function burn(server: Server, now: number): void {
      server.leftNs -= now - server.chargedNs;
      server.chargedNs = now;
      if (server.leftNs > 0) return;
      if (server.extratime) server.level++, server.leftNs = server.budgetNs;
      else server.leftNs = 0;
    }

    /** pCPUs to preempt so that the best queued servers run (`runq_tickle` for each). */
    function victims(ctx: CpuContext<unknown, Server>): number[] {
      const running: Server[] = [];
      let idle = 0;
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const vcpu = ctx.running(pcpu);
        if (vcpu === null) idle++;
        else running.push(vcpu.slot);
      }
      running.sort((a, b) => before(a, b) ? 1 : -1); // the latest deadline first
      const out: number[] = [];
      for (let i = 0; i < running.length; i++) {
        const waiting = runq[idle + i];
        if (waiting === undefined || !before(waiting, running[i]!)) break;
        out.push(running[i]!.vcpu.pcpu);
      }
      return out;
    }

    return {
      vcpuSlot(ctx, vcpu): Server {
        const { periodNs, budgetNs, extratime } = serverParams(
          vcpu.vm.id,
          vcpu.vm,
          config.extratime,
        );
        const server: Server = {
          vcpu,
          periodNs,
          budgetNs,
          extratime,
          leftNs: budgetNs,
          deadlineNs: 0,
          level: 0,
          chargedNs: ctx.now,
          queued: false,
        };
        newPeriod(server, ctx.now);
        return server;
      },
      vmChanged(_ctx, vm) {
        // Takes effect from the next period, when the budget is refilled.
        const { periodNs, budgetNs, extratime } = serverParams(vm.id, vm, config.extratime);
        for (const vcpu of vm.vcpus) {
          Object.assign(vcpu.slot, { periodNs, budgetNs, extratime });
        }
      },
      vmRemoved(_ctx, vm) {
        for (const vcpu of vm.vcpus) unqueue(vcpu.slot);
      },
      enqueue(ctx, vcpu, reason) {
        const server = vcpu.slot;
        if (ctx.now >= server.deadlineNs) {
          // Its period ended: while it ran (its slice ended at the deadline), or while it slept.
          if (reason === "slice" || reason === "preempt") replenish(ctx, server);
          else newPeriod(server, ctx.now);
        }
        ctx.timer(server.deadlineNs);
        if (server.leftNs > 0) insert(server);
      },
      preempt(ctx, vcpu) {
        return vcpu.slot.queued ? victims(ctx)[0] ?? null : null;
      },
      dispatch() {
        const server = runq.shift();
        if (server === undefined) return null;
        server.queued = false;
        return { vcpu: server.vcpu, sliceNs: server.leftNs };
      },
      running(ctx, vcpu) {
        const server = vcpu.slot;
        server.chargedNs = ctx.now;
        if (server.deadlineNs > ctx.now) ctx.timer(server.deadlineNs);
      },
      stopping(ctx, vcpu) {
        burn(vcpu.slot, ctx.now);
      },
      timer(ctx) {
        // Replenish every runnable server whose period ended (`repl_timer_handler`).
        for (const vcpu of ctx.vcpus) {
          const server = vcpu?.slot;
          if (server === undefined || server.deadlineNs > ctx.now) continue;
          const status = server.vcpu.status;
          if (status !== "ready" && status !== "running") continue;
          replenish(ctx, server);
          if (status === "ready") unqueue(server), insert(server);
          ctx.timer(server.deadlineNs);
        }
        return victims(ctx);
      },
    };
  },
});
