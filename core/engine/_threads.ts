/**
 * What the kernel's helper threads (`../memory/_ref_thread.ts`) share: how one is started, and how
 * the kernel waits for one.
 *
 * @module
 */

import type { Worker } from "node:worker_threads";

/** How long the kernel waits for a helper thread before it calls it stalled. */
const STALL_MS = 30_000;
/** The kernel waits in slices this long, so that a failure the thread reports is seen soon. */
const SLICE_MS = 100;

/**
 * Starts a thread running `code` (CommonJS, evaluated: no file to resolve, wherever the module
 * lives) with `data` as its `workerData`, `unref`'d so that it never keeps a process alive.
 * `dead` is called if it exits or errs. Null when threads cannot be had here.
 */
export function startThread(code: string, data: unknown, dead: () => void): Worker | null {
  try {
    // Loaded here, not imported: `process` is a global of Deno 2, and touching it starts the Node
    // compatibility layer, which a run that needs no thread does without.
    const { Worker } = (globalThis as unknown as {
      process: {
        getBuiltinModule(id: "node:worker_threads"): typeof import("node:worker_threads");
      };
    }).process.getBuiltinModule("node:worker_threads");
    const worker = new Worker(code, { eval: true, workerData: data });
    worker.unref();
    worker.on("error", dead);
    worker.on("exit", dead);
    return worker;
  } catch {
    return null;
  }
}

/**
 * Waits while `ctl[index]` holds `value`. False when the thread flagged a failure in
 * `ctl[failed]` or the value did not change for 30 s.
 */
export function waitWhile(ctl: Int32Array, index: number, value: number, failed: number): boolean {
  for (let waited = 0; waited < STALL_MS; waited += SLICE_MS) {
    if (Atomics.load(ctl, failed) !== 0) return false;
    if (Atomics.wait(ctl, index, value, SLICE_MS) !== "timed-out") return true;
  }
  return false;
}
