/**
 * Shared helpers for the sandbox tests: fixture bundles, a log sink that captures, and a check
 * that no sandbox child process outlives its runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Batch, Reply } from "../../core/protocol/batch.ts";
import type { StartMessage } from "../../core/protocol/definition.ts";
import { bundlePolicy, type PolicyBundle } from "../../core/bundle/bundle.ts";
import { ProcessRuntime } from "../../core/sandbox/process.ts";
import type { PolicyRuntime } from "../../core/protocol/runtime.ts";

/** The absolute path of a policy fixture. */
export function fixture(name: string): string {
  return new URL(`../fixtures/policies/${name}`, import.meta.url).pathname;
}

const bundles = new Map<string, Promise<PolicyBundle>>();

/** Bundles a policy fixture once per test module. */
export function fixtureBundle(name: string): Promise<PolicyBundle> {
  let pending = bundles.get(name);
  if (pending === undefined) {
    pending = bundlePolicy(fixture(name));
    bundles.set(name, pending);
  }
  return pending;
}

/** A log sink that keeps what the policy printed. */
export function captureLog(): { log: (text: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { log: (text) => chunks.push(text), text: () => chunks.join("") };
}

/** A batch holding `values`. */
export function batchOf(values: number[], objs: unknown[] = []): Batch {
  // Garbage past `length`, as the kernel's reused buffers have.
  const nums = new Float64Array(values.length + 3).fill(-1);
  nums.set(values);
  return { nums, length: values.length, objs };
}

/** The valid part of a reply, as plain values. */
export function replyValues(reply: Reply): { nums: number[]; objs: unknown[] } {
  return { nums: Array.from(reply.nums.subarray(0, reply.length)), objs: reply.objs };
}

const runtimes: PolicyRuntime[] = [];

/** Registers a runtime so that {@linkcode assertNoSandboxChildren} checks its child process. */
export function tracked<T extends PolicyRuntime>(runtime: T): T {
  runtimes.push(runtime);
  return runtime;
}

/** Whether `pid` is a sandbox child of this process that still exists (running or zombie). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name: state, ppid, ...
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
    return Number(ppid) === Deno.pid && (state === "Z" || cmdline.includes("sandbox/bootstrap-"));
  } catch {
    return false; // gone (and reaped)
  }
}

/**
 * Fails when the child process of a tracked `process` runtime is still around, running or as a
 * zombie, then forgets the tracked runtimes. (By pid, not by scanning for children, so that test
 * modules running in parallel in this process do not see each other's children.)
 */
export function assertNoSandboxChildren(): void {
  const left = runtimes.splice(0)
    .map((runtime) => runtime instanceof ProcessRuntime ? runtime.pid : undefined)
    .filter((pid): pid is number => pid !== undefined && alive(pid));
  assert.deepEqual(left, [], "a sandbox child process outlived its runtime");
}

/** The start message the tests use. */
export function startMessage(config: Record<string, unknown> = {}): StartMessage {
  return { config, seed: 7, host: { pcpus: 2 } };
}
