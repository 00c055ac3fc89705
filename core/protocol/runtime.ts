/**
 * Policy runtimes as the kernel sees them: {@linkcode PolicyRuntime}, where a policy's code runs
 * and how the kernel talks to it, and {@linkcode PolicyFailure}, what a runtime reports when the
 * policy fails.
 *
 * Every runtime moves the same `Batch` and `Reply` values; only the boundary differs. `none` calls
 * the policy in the kernel's thread (trusted code, the baseline), `worker` runs it in a
 * permission-less Deno Worker and `process` in a permission-less child process (`core/sandbox/`
 * hosts all three).
 *
 * @module
 */

import type { Batch, Reply } from "./batch.ts";
import type { StartMessage, StartResult } from "./definition.ts";
import { capText, cleanText, describeError, MAX_MESSAGE_CHARS } from "./text.ts";
import type { HookCall } from "./calls.ts";

/**
 * Where a policy runs: `none` (the kernel's thread), `worker` (a permission-less Worker),
 * `process` (a permission-less child process running a copy of the kernel beside the policy,
 * whose answers the kernel replays and checks: see `replay.ts`), `process-rpc` (the same child
 * boundary, one round trip per batch: see `process.ts`).
 */
export type Isolation = "none" | "worker" | "process" | "process-rpc";

/** The isolations, in order of increasing protection (the two `process` ones hold alike). */
export const ISOLATIONS: readonly Isolation[] = ["none", "worker", "process", "process-rpc"];

/** The longest failure reason kept, in characters. */
const MAX_REASON_CHARS = 64;

/** Why a policy was ejected, as incidents name it. */
export type FailureKind = "error" | "invalid" | "stall" | "crash" | "oom" | "unregistered";

/**
 * A policy failure a runtime reports: the kernel turns it into an incident. Its message and
 * reason often quote the policy: terminal control sequences are stripped from them, and the
 * message is cut past 4096 characters (the cut is said).
 *
 * @example
 * ```ts
 * import { PolicyFailure } from "./runtime.ts";
 *
 * const failure = new PolicyFailure("stall", "deadline", "Policy did not finish its batch within 100 ms");
 * console.assert(failure.kind === "stall" && failure.reason === "deadline");
 * ```
 */
export class PolicyFailure extends Error {
  /** What kind of failure it is. */
  readonly kind: FailureKind;
  /** A short machine-readable reason, such as `deadline` or `throw`. */
  readonly reason: string;
  /**
   * Where in the batch the call whose hook threw starts (an offset into its numbers), when the
   * policy's SDK said; the kernel names the hook and its arguments from its own copy of the batch.
   */
  call: number | undefined;
  /** The stack of what the policy threw, as its runtime saw it (frames in the bundle). */
  policyStack: string | undefined;
  /** The hook that threw and its arguments, once the kernel has read them from its batch. */
  hookCall: HookCall | undefined;

  /**
   * Creates a failure.
   *
   * @param kind The failure kind.
   * @param reason A short machine-readable reason.
   * @param message What happened, for people.
   */
  constructor(kind: FailureKind, reason: string, message: string) {
    super(capText(cleanText(String(message)), MAX_MESSAGE_CHARS));
    this.name = "PolicyFailure";
    this.kind = kind;
    this.reason = capText(cleanText(String(reason)), MAX_REASON_CHARS);
    this.call = undefined;
    this.policyStack = undefined;
    this.hookCall = undefined;
  }

  /**
   * Adds where the policy failed: the offset of the failing call and the stack, each kept only
   * when it has the right shape (they come from the policy's side of the boundary).
   *
   * @param call The failing call's offset in the batch's numbers.
   * @param stack The stack text of what was thrown.
   * @returns This failure.
   */
  at(call: unknown, stack: unknown): this {
    if (typeof call === "number" && Number.isSafeInteger(call) && call >= 0) this.call = call;
    if (typeof stack === "string" && stack !== "") {
      this.policyStack = capText(cleanText(stack), MAX_MESSAGE_CHARS);
    }
    return this;
  }
}

/**
 * The failure for an invalid decision: the kernel's check named `reason` refused what the policy
 * answered. Every domain reports its refusals this way.
 *
 * @example
 * ```ts
 * import { invalidDecision } from "./runtime.ts";
 * const failure = invalidDecision("bad-slice", "dispatch of vCPU 3 with slice -5");
 * console.assert(failure.kind === "invalid" && failure.message.startsWith("Invalid decision"));
 * ```
 */
export function invalidDecision(reason: string, message: string): PolicyFailure {
  return new PolicyFailure("invalid", reason, `Invalid decision: ${message}`);
}

/**
 * The kernel's batch as `PolicyRuntime.stream` sees it: how much of it, numbers and objects, a
 * runtime was already given ahead; `handle` then sends only the rest.
 */
export interface StreamedBatch extends Batch {
  /** Entries of `nums` already delivered. */
  streamed: number;
  /** Entries of `objs` already delivered. */
  streamedObjs: number;
}

/** A running policy, seen from the kernel. */
export interface PolicyRuntime {
  /** Where the policy runs. */
  readonly isolation: Isolation;
  /**
   * Loads and initialises the policy.
   *
   * @throws {PolicyFailure} When it fails to load or start.
   */
  start(message: StartMessage): Promise<StartResult> | StartResult;
  /**
   * Delivers one batch and returns the policy's reply (synchronously for `none`).
   *
   * @throws {PolicyFailure} When the policy throws, overruns its deadline, crashes or runs out of memory.
   */
  handle(batch: Batch): Reply | Promise<Reply>;
  /**
   * Delivers the calls of the kernel's batch not yet delivered (`batch.streamed` onwards), all
   * notifications, ahead of the batch: the policy handles them while the kernel goes on, and
   * `handle` later sends the rest. Optional (only `process` has it); a failure waits for the
   * batch's reply, so runs are the same with or without it.
   */
  stream?(batch: StreamedBatch): void;
  /** Stops the policy and frees what it holds (kills a child process). Idempotent. */
  close(): Promise<void> | void;
}

/**
 * Turns anything a policy (or a runtime) threw into a {@linkcode PolicyFailure}, without ever
 * throwing itself (whatever the value's getters, `toString` or Proxy traps do): a failure stays
 * as it is, the SDK's `ConfigError` becomes reason `config` (the run stops, exit 2), anything else
 * a failure of `kind` with `reason`, its message `Name: message`.
 *
 * @example
 * ```ts
 * import { asFailure } from "./runtime.ts";
 *
 * const failure = asFailure(new RangeError("Too far"), "throw");
 * console.assert(failure.kind === "error" && failure.message === "RangeError: Too far");
 * const hostile = new Proxy({}, { getPrototypeOf() { throw new Error("no"); } });
 * console.assert(asFailure(hostile, "throw").message === "(unprintable error)");
 * ```
 *
 * @param error What was thrown.
 * @param reason The failure's reason when it is not a failure already.
 * @param kind The failure's kind then (default `error`).
 */
export function asFailure(
  error: unknown,
  reason: string,
  kind: FailureKind = "error",
): PolicyFailure {
  let config: string | undefined;
  try {
    if (error instanceof PolicyFailure) return error;
    if (error instanceof Error && error.name === "ConfigError") config = String(error.message);
  } catch {
    // A Proxy or getters that throw: described below.
  }
  if (config !== undefined) return new PolicyFailure("error", "config", config);
  return new PolicyFailure(kind, reason, describeError(error)).at(undefined, stackOf(error));
}

/**
 * The `stack` text of what a policy threw, or undefined (not an Error, or a getter that throws):
 * reading it never throws.
 *
 * @example
 * ```ts
 * import { stackOf } from "./runtime.ts";
 *
 * console.assert(stackOf(new Error("x"))!.includes("\n    at "));
 * console.assert(stackOf("x") === undefined);
 * ```
 */
export function stackOf(error: unknown): string | undefined {
  try {
    if (error instanceof Error) {
      const stack = error.stack;
      if (typeof stack === "string") return stack;
    }
  } catch {
    // A getter that throws, or a hostile Proxy: no stack.
  }
  return undefined;
}
