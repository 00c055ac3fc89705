/**
 * Assertions on reports: pick a VM by id, and compare a report with the figures you expect, with
 * a tolerance, getting one line per mismatch that names the field.
 *
 * @module
 */

import { parseDuration } from "../engine/duration.ts";
import type { Incident } from "../kernel/slot.ts";
import type { HostReport, Report, VmReport } from "../report/report.ts";
import { PolicyCheckError } from "./checks.ts";
import type { Duration } from "./workloads.ts";

/**
 * What to expect of a value: numbers may be given as durations (`"6ms"` for 6,000,000 ns),
 * objects partially, arrays element by element (and by length).
 */
export type Expected<T> = T extends number ? number | Duration
  : T extends string | boolean | null | undefined ? T
  : T extends readonly (infer U)[] ? Expected<U>[]
  : T extends object ? { [K in keyof T]?: Expected<T[K]> }
  : T;

/** What {@linkcode assertReport} compares: any part of a report, VMs by id. */
export interface ReportExpectation {
  /** Figures of VMs, by VM id. */
  vms?: Record<string, Expected<VmReport>>;
  /** Host figures. */
  host?: Expected<HostReport>;
  /** The incidents (`[]`: none at all). */
  incidents?: Expected<Incident>[];
  /** Simulated time covered. */
  simulatedNs?: number | Duration;
  /** The decision log's hash. */
  eventsHash?: string;
}

/** Options of {@linkcode assertReport}. */
export interface AssertReportOptions {
  /** Relative tolerance on numbers, such as 0.01 for 1 % (default 0). */
  tolerance?: number;
  /** Absolute tolerance on numbers, in their unit (default 0). Either tolerance suffices. */
  absolute?: number;
}

/**
 * The report of one VM, by id.
 *
 * @example
 * ```ts
 * import { vmReport } from "./assertions.ts";
 * import type { Report } from "../report/report.ts";
 *
 * const report = { workload: "w", vms: [{ id: "P1", cpu: { waitNs: 0 } }] } as unknown as Report;
 * console.assert(vmReport(report, "P1").cpu.waitNs === 0);
 * ```
 *
 * @param report A report.
 * @param id The VM's id.
 * @returns The VM's figures.
 * @throws {PolicyCheckError} When the report has no such VM (the message lists those it has).
 */
export function vmReport(report: Report, id: string): VmReport {
  const found = report.vms.find((vm) => vm.id === id);
  if (found === undefined) {
    throw new PolicyCheckError(
      `Report of workload ${report.workload} has no VM "${id}" (it has ${
        report.vms.map((vm) => vm.id).join(", ") || "none"
      })`,
    );
  }
  return found;
}

/**
 * Checks a report against expected figures: every field given must match (numbers within the
 * tolerance; durations such as `"6ms"` stand for their ns), fields not given are ignored. All
 * mismatches are reported at once, one line each.
 *
 * @example The round-robin textbook waits
 * ```ts ignore
 * import { assertReport, run, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";
 *
 * const report = await runPolicy("rr", workload([
 *   vm("P1", { program: [run("24ms")] }),
 *   vm("P2", { program: [run("3ms")] }),
 *   vm("P3", { program: [run("3ms")] }),
 * ]), { config: { quantum: "4ms" } });
 * assertReport(report, {
 *   vms: { P1: { cpu: { waitNs: "6ms" } }, P2: { cpu: { waitNs: "4ms" } } },
 *   host: { cpu: { utilization: 1 } },
 *   incidents: [],
 * });
 * ```
 *
 * @param report The report.
 * @param expected The figures that matter.
 * @param options Tolerances.
 * @throws {PolicyCheckError} Listing every mismatch as `path: expected X, got Y`.
 */
export function assertReport(
  report: Report,
  expected: ReportExpectation,
  options: AssertReportOptions = {},
): void {
  const problems: string[] = [];
  const { vms, ...rest } = expected;
  compare(report, rest, "report", problems, options);
  for (const [id, figures] of Object.entries(vms ?? {})) {
    const vm = report.vms.find((candidate) => candidate.id === id);
    if (vm === undefined) {
      problems.push(
        `report.vms.${id}: expected a VM "${id}", got none (the report has ${
          report.vms.map((candidate) => candidate.id).join(", ") || "no VM"
        })`,
      );
    } else compare(vm, figures, `report.vms.${id}`, problems, options);
  }
  if (problems.length > 0) {
    throw new PolicyCheckError(
      `Report of workload ${report.workload} differs from what was expected:\n  ${
        problems.join("\n  ")
      }`,
    );
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function compare(
  actual: unknown,
  expected: unknown,
  path: string,
  problems: string[],
  options: AssertReportOptions,
): void {
  if (expected === undefined) return;
  if (
    typeof actual === "number" && (typeof expected === "number" || typeof expected === "string")
  ) {
    const want = typeof expected === "number" ? expected : parseDuration(expected);
    if (want === undefined) {
      problems.push(
        `${path}: expected a number or a duration such as "5ms", got ${show(expected)}`,
      );
      return;
    }
    const allowed = Math.max(options.absolute ?? 0, (options.tolerance ?? 0) * Math.abs(want));
    if (!(Math.abs(actual - want) <= allowed)) {
      const within = allowed > 0 ? ` (±${allowed})` : "";
      problems.push(`${path}: expected ${want}${within}, got ${actual}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      problems.push(`${path}: expected an array, got ${show(actual)}`);
      return;
    }
    if (actual.length !== expected.length) {
      problems.push(
        `${path}: expected ${expected.length} item(s), got ${actual.length}${
          actual.length > 0 ? `: ${show(actual)}` : ""
        }`,
      );
      return;
    }
    expected.forEach((item, i) => compare(actual[i], item, `${path}[${i}]`, problems, options));
    return;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) {
      problems.push(`${path}: expected an object, got ${show(actual)}`);
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      compare((actual as Record<string, unknown>)[key], value, `${path}.${key}`, problems, options);
    }
    return;
  }
  if (actual !== expected) {
    problems.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
  }
}
