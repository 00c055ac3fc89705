// The code of the decision log's hash thread (CommonJS evaluated in a node worker thread, kept as
// a string) is type-checked as any module is.
import assert from "node:assert/strict";
import { THREAD_CODE } from "../../core/engine/_hash_thread.ts";
import { typeErrors } from "../_typecheck.ts";

Deno.test("the decision log's hash thread type-checks", async () => {
  assert.equal(await typeErrors(THREAD_CODE, { name: "hash", kind: "commonjs" }), "");
});
