/**
 * The policy test kit: checks any policy author can run from `Deno.test`, and helpers to build
 * small workloads in code and assert on reports.
 *
 * - {@linkcode checkPolicy} runs them all: the policy loads in the sandbox
 *   ({@linkcode assertLoads}), gets through its domain's standard battery without being ejected
 *   ({@linkcode assertNoIncidents}: no invalid decision, no throw, no stall), is deterministic
 *   across runs and isolations ({@linkcode assertDeterministic}) and, for CPU policies that claim
 *   it, is work-conserving ({@linkcode assertWorkConserving}).
 * - {@linkcode workload}, {@linkcode vm}, {@linkcode run} and {@linkcode sleep} build workloads;
 *   {@linkcode runPolicy} runs one; {@linkcode assertReport} and {@linkcode vmReport} check the
 *   figures.
 *
 * Policies run in a permission-less child process by default, as they would in production, so
 * tests need `deno test -A` (the kit spawns the sandbox and bundles the policy).
 *
 * @example A policy package's test
 * ```ts ignore
 * import {
 *   assertReport,
 *   checkPolicy,
 *   run,
 *   runPolicy,
 *   vm,
 *   workload,
 * } from "@hyperhook/hyperhook/testing";
 *
 * const policy = new URL("./mod.ts", import.meta.url);
 *
 * Deno.test("passes the hyperhook checks", async () => {
 *   await checkPolicy(policy, { workConserving: true });
 * });
 *
 * Deno.test("short jobs do not wait behind a long one for long", async () => {
 *   const report = await runPolicy(policy, workload([
 *     vm("long", { program: [run("24ms")] }),
 *     vm("short", { program: [run("3ms")] }),
 *   ]));
 *   assertReport(report, { vms: { short: { cpu: { waitNs: "5ms" } } } }, { absolute: 5e6 });
 * });
 * ```
 *
 * @module
 */

export {
  assertDeterministic,
  assertLoads,
  assertNoIncidents,
  assertWorkConserving,
  type BatteryOptions,
  type CheckOptions,
  checkPolicy,
  type CheckPolicyOptions,
  type DeterminismOptions,
  type LoadedSummary,
  PolicyCheckError,
  type PolicyCheckSummary,
  type PolicyReference,
  runPolicy,
  type WorkConservation,
  type WorkConservingOptions,
} from "./checks.ts";
export {
  assertReport,
  type AssertReportOptions,
  type Expected,
  type ReportExpectation,
  vmReport,
} from "./assertions.ts";
export type { SandboxOptions } from "../sandbox/options.ts";
export {
  type CpuInput,
  type Duration,
  type MemoryInput,
  run,
  sleep,
  standardWorkloads,
  type StepInput,
  vm,
  type VmInput,
  type VmOptions,
  workload,
  type WorkloadInput,
  type WorkloadOptions,
} from "./workloads.ts";
