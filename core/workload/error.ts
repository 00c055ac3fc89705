/**
 * The error of a workload that cannot be used, in a module of its own: the kernel and the CLI
 * name it without loading the schemas (and zod) that `load.ts` validates with.
 *
 * @module
 */

/**
 * A workload that cannot be used: the message names the place and what was expected.
 *
 * @example
 * ```ts
 * import { parseWorkload, WorkloadError } from "./load.ts";
 *
 * try {
 *   parseWorkload({ schema: "hyperhook.workload/v1", name: "bad", host: { pcpus: 0 }, vms: [] });
 * } catch (error) {
 *   console.assert(error instanceof WorkloadError && error.message.startsWith("Workload: host.pcpus"));
 * }
 * ```
 */
export class WorkloadError extends Error {
  /**
   * Creates the error.
   *
   * @param message One line: `where: expected …, got …`.
   */
  constructor(message: string) {
    super(message);
    this.name = "WorkloadError";
  }
}
