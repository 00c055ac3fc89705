/**
 * Where policies run: hosting a bundled policy in-process (`none`), in a permission-less Worker
 * (`worker`) or in a permission-less child process (`process`, the only one that holds against
 * hostile code). Making the bundle, one self-contained text from a policy reference, is
 * `core/bundle/`'s job.
 *
 * @example Run a policy module in a child process
 * ```ts ignore
 * import { bundlePolicy } from "../bundle/mod.ts";
 * import { createRuntime } from "./mod.ts";
 *
 * const bundle = await bundlePolicy("./my_policy.ts");
 * const runtime = createRuntime("process", bundle, { batchDeadlineMs: 50 });
 * try {
 *   const started = await runtime.start({ config: {}, seed: 1, host: { pcpus: 2 } });
 *   const reply = await runtime.handle({ nums: new Float64Array(0), length: 0, objs: [] });
 *   console.log(started.name, reply.length);
 * } finally {
 *   await runtime.close();
 * }
 * ```
 *
 * @module
 */

import type { PolicyDefinition } from "../protocol/definition.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import { InlineRuntime } from "./inline.ts";
import { ProcessRuntime } from "./process.ts";
import type { Isolation, PolicyRuntime } from "../protocol/runtime.ts";
import type { SandboxOptions } from "./options.ts";
import { WorkerRuntime } from "./worker.ts";

export { importBundle, type InlineOptions, InlineRuntime } from "./inline.ts";
export {
  type ResolvedSandboxOptions,
  resolveSandboxOptions,
  SANDBOX_DEFAULTS,
  type SandboxOptions,
} from "./options.ts";
export { ProcessRuntime } from "./process.ts";
export { WorkerRuntime } from "./worker.ts";

/**
 * Creates the runtime for an isolation. Nothing runs until the runtime's `start`.
 *
 * @example
 * ```ts
 * import { createRuntime } from "./mod.ts";
 *
 * const runtime = createRuntime("none", {
 *   apiVersion: 1,
 *   domain: "cpu",
 *   name: "noop",
 *   start: () => ({
 *     handler: { handle: () => ({ nums: new Float64Array(0), length: 0, objs: [] }) },
 *     result: { name: "noop", config: {}, hooks: [] },
 *   }),
 * });
 * console.assert(runtime.isolation === "none");
 * ```
 *
 * @param isolation `none`, `worker`, `process` or `process-rpc` (a runtime alone, outside a
 *   simulation, has no kernel to replay beside it: both are the per-batch child process).
 * @param source A bundle; for `none` also an already imported default export (a built-in policy).
 * @param options Heap cap, deadlines, message cap, log sink, cache directory.
 * @returns The runtime, not yet started.
 * @throws {TypeError} When a sandboxed isolation is given a definition instead of a bundle (code in
 *   a sandbox must arrive as text), or the isolation is unknown.
 */
export function createRuntime(
  isolation: Isolation,
  source: PolicyBundle | PolicyDefinition,
  options: SandboxOptions = {},
): PolicyRuntime {
  if (isolation === "none") return new InlineRuntime(source, options);
  if (!isBundle(source)) {
    throw new TypeError(
      `Isolation "${isolation}" needs a policy bundle (source text), not an imported module: ` +
        `bundle it with bundlePolicy()`,
    );
  }
  if (isolation === "worker") return new WorkerRuntime(source, options);
  if (isolation === "process" || isolation === "process-rpc") {
    return new ProcessRuntime(source, options);
  }
  throw new TypeError(
    `Unknown isolation "${isolation}": expected none, worker, process or process-rpc`,
  );
}

function isBundle(source: PolicyBundle | PolicyDefinition): source is PolicyBundle {
  return typeof (source as Partial<PolicyBundle>).code === "string";
}
