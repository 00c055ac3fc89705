/**
 * A call of a batch as a policy author knows it: the hook it runs and its arguments by name. The
 * kernel names the hook that threw this way, from its own copy of the batch, so an incident says
 * `dispatch (pcpu 0)` whatever the policy's side claims.
 *
 * @example
 * ```ts
 * import { describeCall } from "./calls.ts";
 * import { CPU_OP } from "./ops.ts";
 *
 * const nums = new Float64Array([CPU_OP.DISPATCH, 5_000_000, 1, 2]);
 * const call = describeCall("cpu", nums, nums.length, 0);
 * console.assert(call?.hook === "dispatch" && call.args.pcpu === 2);
 * ```
 *
 * @module
 */

import type { Domain } from "./definition.ts";
import { CPU_OP, ENQUEUE_REASONS, IO_OP, MEMORY_OP, STOP_REASONS } from "./ops.ts";

/** A hook call: the hook's name and its arguments by name (indices, ns, reasons). */
export interface HookCall {
  /** The hook, as the SDK names it (`dispatch`, `enqueue`, `victim`, …). */
  hook: string;
  /** Its arguments: pCPU, vCPU and VM indices, times in ns, reasons. */
  args: Record<string, number | string>;
}

/** Per opcode: the hook, then a name for each argument (`reason`s are decoded). */
const CALLS: Record<Domain, Record<number, [string, ...string[]]>> = {
  cpu: {
    [CPU_OP.VM_ADD]: ["vmAdded"],
    [CPU_OP.VM_PARAMS]: ["vmChanged"],
    [CPU_OP.VM_REMOVE]: ["vmRemoved", "vm"],
    [CPU_OP.ENQUEUE]: ["enqueue", "vcpu", "reason"],
    [CPU_OP.RUNNING]: ["running", "vcpu", "pcpu"],
    [CPU_OP.STOPPING]: ["stopping", "vcpu", "pcpu", "reason", "ranNs"],
    [CPU_OP.DISPATCH]: ["dispatch", "pcpu"],
    [CPU_OP.PREEMPT]: ["preempt", "vcpu"],
    [CPU_OP.TICK]: ["tick", "pcpu", "vcpu"],
    [CPU_OP.TIMER]: ["timer"],
    [CPU_OP.SYNC]: ["sync"],
  },
  memory: {
    [MEMORY_OP.VM_ADD]: ["vmAdded"],
    [MEMORY_OP.VM_PARAMS]: ["vmChanged"],
    [MEMORY_OP.VM_REMOVE]: ["vmRemoved", "vm"],
    [MEMORY_OP.FUTURE]: ["future"],
    [MEMORY_OP.LOADED]: ["loaded", "frame", "vm", "page"],
    [MEMORY_OP.TOUCHED]: ["touched"],
    [MEMORY_OP.EVICTED]: ["evicted", "frame"],
    [MEMORY_OP.PROGRESS]: ["progress"],
    [MEMORY_OP.VICTIM]: ["victim", "vm", "page", "scope"],
    [MEMORY_OP.RECLAIM]: ["reclaim", "scope", "count"],
    [MEMORY_OP.BALANCE]: ["balance"],
  },
  io: {
    [IO_OP.VM_ADD]: ["vmAdded"],
    [IO_OP.VM_PARAMS]: ["vmChanged"],
    [IO_OP.VM_REMOVE]: ["vmRemoved", "vm"],
    [IO_OP.SUBMIT]: ["submitted", "request", "vm", "disk"],
    [IO_OP.STARTED]: ["started", "request", "disk"],
    [IO_OP.COMPLETE]: ["completed", "request", "disk", "headCylinder", "serviceNs"],
    [IO_OP.DISPATCH]: ["dispatch", "disk", "headCylinder"],
  },
  placement: {},
};

/**
 * The hook call that starts at `offset` in a batch's numbers, or undefined when no call starts
 * there (an offset the policy's side made up).
 *
 * @param domain The batch's domain.
 * @param nums The batch's numbers.
 * @param length How many of them are the batch's.
 * @param offset Where the call starts.
 */
export function describeCall(
  domain: Domain,
  nums: ArrayLike<number>,
  length: number,
  offset: number,
): HookCall | undefined {
  // Walk the calls from the start: an offset counts only if a call begins exactly there.
  let at = 0;
  while (at < offset && at < length) at += 3 + nums[at + 2]!;
  if (at !== offset || at + 2 >= length) return undefined;
  const names = CALLS[domain][nums[at]!];
  if (names === undefined) return undefined;
  const [hook, ...argNames] = names;
  const count = nums[at + 2]!;
  const args: Record<string, number | string> = {};
  argNames.forEach((name, i) => {
    if (i >= count) return;
    const value = nums[at + 3 + i]!;
    if (name === "reason" && domain === "cpu") {
      args.reason = (hook === "enqueue" ? ENQUEUE_REASONS : STOP_REASONS)[value] ?? value;
    } else args[name] = value;
  });
  return { hook, args };
}
