// A policy's sha256 depends on its code only, not on the folder it was bundled from (issue #18,
// item 5): esbuild's `// path` comments are taken out of the bundle.
import assert from "node:assert/strict";
import { bundlePolicy } from "../../core/bundle/bundle.ts";
import { originalPlace, stripPathComments } from "../../core/bundle/source_map.ts";

const SDK = new URL("../../core/policy/mod.ts", import.meta.url).pathname;
const POLICY = `import { defineCpuPolicy } from ${JSON.stringify(SDK)};
export default defineCpuPolicy({ name: "same", create: () => ({}) });
`;

Deno.test("the same policy in two folders at different depths bundles to one text and hash", async () => {
  const root = await Deno.makeTempDir({ prefix: "hyperhook-checkouts-" });
  try {
    const shallow = `${root}/a`, deep = `${root}/b/c/d`;
    await Deno.mkdir(shallow, { recursive: true });
    await Deno.mkdir(deep, { recursive: true });
    await Deno.writeTextFile(`${shallow}/policy.ts`, POLICY);
    await Deno.writeTextFile(`${deep}/policy.ts`, POLICY);
    const one = await bundlePolicy(`${shallow}/policy.ts`);
    const two = await bundlePolicy(`${deep}/policy.ts`);
    assert.equal(one.code, two.code);
    assert.equal(one.sha256, two.sha256);
    assert.doesNotMatch(one.code, /^\/\/ .*\.ts$/m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("taking the path comments out keeps the source map on the right lines", () => {
  // Line 1 is a path comment; line 2 maps to a.ts line 3, column 3; line 3 to line 4, column 1.
  const { code, map } = stripPathComments(
    "// a.ts\nlet x = 1;\nx++;",
    { sources: ["a.ts"], mappings: ";AAEE;AACF" },
    ["a.ts"],
  );
  assert.equal(code, "let x = 1;\nx++;");
  assert.deepEqual(originalPlace(map!, 1, 1), { source: "a.ts", line: 3, column: 3 });
  assert.deepEqual(originalPlace(map!, 2, 1), { source: "a.ts", line: 4, column: 1 });
});
