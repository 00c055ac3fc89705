/**
 * The sandbox children's V8 code cache is started afresh once it outgrows its limit
 * (`trimCodeCache` in `core/sandbox/_child_command.ts`): every sandboxed policy is loaded through
 * a `blob:` URL of its own, and Deno kept an entry for each.
 */

import assert from "node:assert/strict";
import { trimCodeCache } from "../../core/sandbox/_child_command.ts";

Deno.test("the children's code cache is removed, log and all, once past its limit, and kept below it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-code-cache-" });
  try {
    await Deno.mkdir(`${dir}/deno-dir`);
    const cache = `${dir}/deno-dir/v8_code_cache_v2`;
    const write = (file: string, bytes: number) => Deno.writeFileSync(file, new Uint8Array(bytes));
    // Nothing there yet: nothing to do.
    assert.equal(trimCodeCache(dir, 1000), false);
    write(cache, 600);
    write(`${cache}-wal`, 400);
    write(`${cache}-shm`, 100);
    assert.equal(trimCodeCache(dir, 1000), false);
    assert.equal(Deno.statSync(cache).size, 600);
    // The database and its log together count: one byte more and all three go.
    write(`${cache}-wal`, 401);
    assert.equal(trimCodeCache(dir, 1000), true);
    for (const file of [cache, `${cache}-wal`, `${cache}-shm`]) {
      assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);
    }
    // The Deno folder's other caches stay.
    write(`${dir}/deno-dir/dep_analysis_cache_v2`, 5000);
    write(cache, 2000);
    assert.equal(trimCodeCache(dir, 1000), true);
    assert.equal(Deno.statSync(`${dir}/deno-dir/dep_analysis_cache_v2`).size, 5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
