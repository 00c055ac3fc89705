// Type errors stop the run before it starts, for a local policy file: exit 2 with file:line:col
// and TypeScript's message; --no-check skips the check; a pass is remembered by content (issue
// #18, item 4).
import assert from "node:assert/strict";
import { checkPolicyTypes } from "../../core/bundle/type_check.ts";
import { example, runCli } from "../_helpers.ts";

const SDK = new URL("../../core/policy/mod.ts", import.meta.url).pathname;
const POLICY = `import { defineCpuPolicy } from ${JSON.stringify(SDK)};
export default defineCpuPolicy({
  name: "typed",
  create() {
    const label: number = "fine at run time"; void label;
    return {};
  },
});
`;

Deno.test("a type error is exit 2 naming file:line:col; --no-check runs the policy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-typed-" });
  try {
    await Deno.writeTextFile(`${dir}/typed.ts`, POLICY);
    const args = ["run", example("rr_textbook.json"), "--cpu", "typed.ts"];
    const refused = await runCli(args, { cwd: dir });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      "hyperhook: Policy typed.ts:5:11: TS2322 Type 'string' is not assignable to type 'number' (--no-check skips this check)\n",
    );
    const unchecked = await runCli([...args, "--no-check"], { cwd: dir });
    assert.equal(unchecked.code, 0, unchecked.stderr);
    assert.match(unchecked.stdout, /· cpu typed \[process\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pass is remembered by the texts checked, not looked up again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-typed-" });
  try {
    // A module without imports: quick to check, and enough for the cache.
    const path = `${dir}/typed.ts`, good = "export const label: number = 1;\n";
    const wrong = 'export const label: number = "one";\n';
    await Deno.writeTextFile(path, good);
    const texts: [string, string][] = [[path, good]];
    await checkPolicyTypes(path, texts, { cacheDir: dir });
    assert.equal([...Deno.readDirSync(`${dir}/type-checked`)].length, 1);
    // The same texts pass from the cache, even though the file on disk no longer type-checks...
    await Deno.writeTextFile(path, wrong);
    await checkPolicyTypes(path, texts, { cacheDir: dir });
    // ...and its new texts are checked.
    await assert.rejects(
      () => checkPolicyTypes(path, [[path, wrong]], { cacheDir: dir, cwd: dir }),
      /^PolicyTypeError: Policy typed\.ts:1:14: TS2322 /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
