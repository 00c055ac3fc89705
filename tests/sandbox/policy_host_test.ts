/**
 * The sandboxes' policy host (`POLICY_HOST_JS` in `core/sandbox/_policy_host.ts`), driven directly.
 * It runs in a child: loading a policy installs the seeded generators and simulated clocks in the
 * realm for good, which this test process must keep its own.
 */

import assert from "node:assert/strict";
import { evalInChild } from "../_helpers.ts";

Deno.test("a policy that keeps and freezes the batch it was handed sees every later batch as it is", async () => {
  const host = new URL("../../core/sandbox/_policy_host.ts", import.meta.url).href;
  const script = `
    const { POLICY_HOST_JS } = await import("${host}");
    const { createPolicyHost } = new Function(POLICY_HOST_JS + "\\nreturn { createPolicyHost };")();
    const code = \`
      let kept;
      export default {
        apiVersion: 1, domain: "cpu", name: "keeper",
        start: () => ({
          handler: {
            handle(batch) {
              if (kept === undefined) { kept = batch; Object.freeze(batch); }
              return { nums: new Float64Array([batch.length, kept.length]), length: 2, objs: [] };
            },
          },
          result: { name: "keeper", config: {}, hooks: [] },
        }),
      };\`;
    const policy = createPolicyHost(1, 1 << 20);
    const loaded = await policy.load(code, { config: {}, seed: 1, host: {}, domain: "cpu" });
    const answers = [];
    for (const length of [2, 3, 4]) {
      const out = policy.handle(new Float64Array([1, 0, 0, 0]), length, []);
      answers.push(out.ok ? [...out.nums.subarray(0, out.length)] : out.reason);
    }
    console.log(JSON.stringify({ loaded: loaded.ok, answers }));
  `;
  const { code, stdout, stderr } = await evalInChild(script);
  assert.equal(code, 0, stderr);
  // Each batch is a new object: the one the policy froze still says 2, the new ones say 3 and 4.
  assert.deepEqual(JSON.parse(stdout), {
    loaded: true,
    answers: [[2, 2], [3, 2], [4, 2]],
  });
});
