// The code of the memory domain's reference thread (CommonJS evaluated in a node worker thread,
// kept as a string) is type-checked as any module is.
import assert from "node:assert/strict";
import { THREAD_CODE } from "../../core/memory/_ref_thread.ts";
import { typeErrors } from "../_typecheck.ts";

Deno.test("the memory domain's reference thread type-checks", async () => {
  assert.equal(await typeErrors(THREAD_CODE, { name: "refs", kind: "commonjs" }), "");
});
