// The JavaScript the sandboxes run on the child's side (kept as strings: a permission-less
// sandbox may import nothing) is type-checked as any module is.
import assert from "node:assert/strict";
import { PROCESS_BOOTSTRAP_JS, WORKER_BOOTSTRAP_JS } from "../../core/sandbox/_policy_host.ts";
import { WATCHDOG_JS } from "../../core/sandbox/_watchdog.ts";
import { typeErrors } from "../_typecheck.ts";

Deno.test("the process sandbox's bootstrap type-checks", async () => {
  assert.equal(await typeErrors(PROCESS_BOOTSTRAP_JS, { name: "process", kind: "module" }), "");
});

Deno.test("the worker sandbox's bootstrap type-checks", async () => {
  assert.equal(
    await typeErrors(WORKER_BOOTSTRAP_JS, { name: "worker", kind: "module", worker: true }),
    "",
  );
});

Deno.test("the process sandbox's watchdog type-checks", async () => {
  assert.equal(
    await typeErrors(WATCHDOG_JS, { name: "watchdog", kind: "module", worker: true }),
    "",
  );
});

Deno.test("the check finds a type error in child code (it is not vacuous)", async () => {
  const errors = await typeErrors(
    "const ring = new Int32Array(4);\nring.push(1);\n",
    { name: "broken", kind: "module" },
  );
  assert.match(errors, /Property 'push' does not exist on type 'Int32Array/);
});
