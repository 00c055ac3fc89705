/**
 * Run by orphan_test.ts as a kernel of its own (`deno run`), which the test then kills: starts a
 * `process` sandbox whose policy tries every way to outlive its kernel (unload and exit listeners
 * that loop, SIGTERM, SIGINT and SIGHUP listeners, each denial caught), prints
 * `{ pid, blocking }` of the child as one JSON line, then either waits (`idle`: the child is
 * blocked on its stdin) or sends a batch the policy spins on forever (`spin`: the child reads
 * nothing while it spins).
 *
 * Usage: `deno run <permissions> _orphan_kernel.ts <idle|spin> <cacheDir>`
 *
 * @module
 */

import { ProcessRuntime } from "../../core/sandbox/process.ts";

const [mode, cacheDir] = Deno.args;

/** The policy, as the bundle text a sandbox loads (no SDK: nothing to bundle). */
const POLICY = `
const hold = () => { for (;;) { /* keep the process busy */ } };
for (const attempt of [
  () => globalThis.addEventListener("unload", hold),
  () => globalThis.addEventListener("beforeunload", (event) => { event.preventDefault(); hold(); }),
  () => { globalThis.onunload = hold; },
  () => Deno.addSignalListener("SIGTERM", () => {}),
  () => Deno.addSignalListener("SIGINT", () => {}),
  () => Deno.addSignalListener("SIGHUP", () => {}),
  () => globalThis.process.on("SIGTERM", () => {}),
  () => globalThis.process.on("exit", hold),
]) {
  try { attempt(); } catch { /* denied: carry on regardless */ }
}
export default {
  apiVersion: 1,
  domain: "cpu",
  name: "clinging",
  start() {
    return {
      handler: {
        handle(batch) {
          if (batch.nums[0] === 1) hold();
          return { nums: new Float64Array(0), length: 0, objs: [] };
        },
      },
      result: { name: "clinging", config: {}, hooks: [] },
    };
  },
};
`;

const runtime = new ProcessRuntime(
  { code: POLICY, sha256: "", bytes: POLICY.length, reference: "clinging" },
  { cacheDir, initDeadlineMs: 60_000, batchDeadlineMs: 600_000, log: () => {} },
);
await runtime.start({ config: {}, seed: 1, host: { pcpus: 1 } });
console.log(JSON.stringify({ pid: runtime.pid, blocking: runtime.blocking }));
if (mode === "spin") {
  await runtime.handle({ nums: new Float64Array([1]), length: 1, objs: [] });
} else {
  setInterval(() => {}, 1_000);
}
