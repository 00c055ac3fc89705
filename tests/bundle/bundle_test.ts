/**
 * The policy bundler: one self-contained module text per policy, identified by its SHA-256, with
 * local files, import maps, the SDK, npm, JSR and HTTPS modules resolved on the kernel's side.
 */

import assert from "node:assert/strict";
import { bundlePolicy, findBundle } from "../../core/bundle/bundle.ts";
import { sourceMapOf } from "../../core/bundle/source_map.ts";
import { sha256Hex } from "../../core/bundle/sha256.ts";
import { createRuntime } from "../../core/sandbox/mod.ts";
import {
  applyImportMap,
  parseJsonc,
  parsePackageSpecifier,
  pickVersion,
} from "../../core/bundle/_resolve.ts";
import {
  assertNoSandboxChildren,
  batchOf,
  fixture,
  replyValues,
  startMessage,
  tracked,
} from "../sandbox/_helpers.ts";

/** No static import, re-export or `require` of anything is left in a bundle. */
function assertSelfContained(code: string): void {
  assert.doesNotMatch(code, /^\s*import\s*[\w{*"']/m);
  assert.doesNotMatch(code, /^\s*export\s+[^;]*\sfrom\s/m);
  assert.match(code, /export\s*{\s*\w+ as default\s*};?\s*$/);
}

/** A fetch that fails the test: for bundles that must not touch the network. */
function noNetwork(url: string): Promise<Response> {
  return Promise.reject(new Error(`Unexpected fetch of ${url}`));
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-bundle-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a local TypeScript policy becomes one module with a default export only", async () => {
  const bundle = await bundlePolicy(fixture("echo.ts"), { fetch: noNetwork });
  assertSelfContained(bundle.code);
  assert.doesNotMatch(bundle.code, /: Batch|: Reply|import type/);
  assert.equal(bundle.sha256, await sha256Hex(bundle.code));
  assert.equal(bundle.bytes, new TextEncoder().encode(bundle.code).length);
  assert.equal(bundle.reference, fixture("echo.ts"));
});

Deno.test("the same source gives the same hash, wherever it is checked out", async () => {
  const source = await Deno.readTextFile(fixture("echo.ts"));
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/a/deep/er`, { recursive: true });
    await Deno.mkdir(`${dir}/b`, { recursive: true });
    await Deno.writeTextFile(`${dir}/a/deep/er/echo.ts`, source);
    await Deno.writeTextFile(`${dir}/b/echo.ts`, source);
    const first = await bundlePolicy(`${dir}/a/deep/er/echo.ts`);
    const second = await bundlePolicy(`${dir}/b/echo.ts`);
    const original = await bundlePolicy(fixture("echo.ts"));
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.sha256, original.sha256);
  });
});

Deno.test("bundles are found again by hash, in memory and on disk", async () => {
  await withTempDir(async (cacheDir) => {
    const bundle = await bundlePolicy(fixture("echo.ts"), { cacheDir, store: true });
    assert.equal((await findBundle(bundle.sha256))?.code, bundle.code);
    const stored = await Deno.readTextFile(`${cacheDir}/bundles/${bundle.sha256}.js`);
    assert.equal(stored, bundle.code);
    // A bundle this process never built: only on disk.
    const code = "export default 42;\n";
    const sha256 = await sha256Hex(code);
    await Deno.writeTextFile(`${cacheDir}/bundles/${sha256}.js`, code);
    const found = await findBundle(sha256, { cacheDir });
    assert.deepEqual(found, { code, sha256, bytes: code.length, reference: `sha256:${sha256}` });
    // A file whose content does not match its name is not a bundle.
    const forged = "0".repeat(64);
    await Deno.writeTextFile(`${cacheDir}/bundles/${forged}.js`, code);
    assert.equal(await findBundle(forged, { cacheDir }), undefined);
  });
});

Deno.test("the relative path, the package name and the jsr: name all bundle this SDK", async () => {
  await withTempDir(async (dir) => {
    const sdk = new URL("../../core/policy/mod.ts", import.meta.url).pathname;
    const body = (from: string) =>
      `import { API_VERSION } from ${JSON.stringify(from)};\n` +
      `export default { apiVersion: API_VERSION, domain: "cpu", name: "sdk", start() {\n` +
      `  return { handler: { handle: () => ({ nums: new Float64Array([API_VERSION]), length: 1, objs: [] }) },\n` +
      `    result: { name: "sdk", config: {}, hooks: [] } };\n} };\n`;
    const hashes = new Set<string>();
    for (
      const from of [sdk, "@hyperhook/hyperhook/policy", "jsr:@hyperhook/hyperhook@^0.1.0/policy"]
    ) {
      await Deno.writeTextFile(`${dir}/policy.ts`, body(from));
      const bundle = await bundlePolicy(`${dir}/policy.ts`, { fetch: noNetwork });
      assertSelfContained(bundle.code);
      hashes.add(bundle.sha256);
      const runtime = tracked(createRuntime("none", bundle));
      await runtime.start(startMessage());
      assert.deepEqual(replyValues(await runtime.handle(batchOf([]))).nums, [1]);
      await runtime.close();
    }
    // Only the import line differs, and it is gone from the bundle: one text, one hash.
    assert.equal(hashes.size, 1);
  });
});

Deno.test("bare specifiers go through the nearest deno.json imports", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/src/lib`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/deno.jsonc`,
      `{
        // A policy package, as the scaffold makes one.
        "imports": {
          "@hyperhook/hyperhook": "jsr:@hyperhook/hyperhook@^0.1.0",
          "@lib/": "./src/lib/",
        },
      }`,
    );
    await Deno.writeTextFile(
      `${dir}/src/lib/double.ts`,
      "export const double = (x: number): number => 2 * x;\n",
    );
    await Deno.writeTextFile(
      `${dir}/src/policy.ts`,
      `import { API_VERSION } from "@hyperhook/hyperhook/policy";\n` +
        `import { double } from "@lib/double.ts";\n` +
        `export default { apiVersion: API_VERSION, domain: "cpu", name: "mapped", start() {\n` +
        `  return { handler: { handle: () => ({ nums: new Float64Array([double(21)]), length: 1, objs: [] }) },\n` +
        `    result: { name: "mapped", config: {}, hooks: [] } };\n} };\n`,
    );
    const bundle = await bundlePolicy(`${dir}/src/policy.ts`, { fetch: noNetwork });
    assertSelfContained(bundle.code);
    const runtime = tracked(createRuntime("process", bundle));
    try {
      await runtime.start(startMessage());
      assert.deepEqual(replyValues(await runtime.handle(batchOf([]))).nums, [42]);
    } finally {
      await runtime.close();
    }
    assertNoSandboxChildren();
  });
});

Deno.test("an npm package (CommonJS) is bundled from Deno's npm cache and runs sandboxed", async () => {
  const bundle = await bundlePolicy(fixture("uses_npm.ts"), { fetch: noNetwork });
  assertSelfContained(bundle.code);
  assert.match(bundle.code, /is-number@7\.0\.0/);
  const runtime = tracked(createRuntime("process", bundle));
  try {
    await runtime.start(startMessage());
    const reply = replyValues(await runtime.handle(batchOf([1, Number.NaN, 3])));
    assert.deepEqual(reply, { nums: [1, 0, 1], objs: ["cjs-ok"] });
  } finally {
    await runtime.close();
  }
  assertNoSandboxChildren();
});

Deno.test("jsr: and https: modules are fetched on the kernel's side and bundled", async () => {
  const registry = "https://jsr.test/";
  const files: Record<string, string> = {
    "https://jsr.test/@fixture/math/meta.json": JSON.stringify({
      latest: "2.0.0",
      versions: { "1.0.0": {}, "1.1.0": {}, "1.2.0": {}, "1.3.0": { yanked: true }, "2.0.0": {} },
    }),
    "https://jsr.test/@fixture/math/1.2.0_meta.json": JSON.stringify({
      exports: { ".": "./mod.ts", "./triple": "./src/triple.ts" },
      manifest: { "/deno.json": {}, "/mod.ts": {}, "/src/triple.ts": {}, "/src/times.ts": {} },
    }),
    "https://jsr.test/@fixture/math/1.2.0/deno.json": JSON.stringify({
      name: "@fixture/math",
      imports: { "#times": "./src/times.ts" },
    }),
    "https://jsr.test/@fixture/math/1.2.0/src/triple.ts":
      `import { times } from "#times";\nexport const triple = (x: number): number => times(x, 3);\n`,
    "https://jsr.test/@fixture/math/1.2.0/src/times.ts":
      "export function times(a: number, b: number): number {\n  return a * b;\n}\n",
    "https://modules.example.test/lib/square.ts":
      `import { multiply } from "./helper.ts";\nexport const square = (x: number): number => multiply(x, x);\n`,
    "https://modules.example.test/lib/helper.ts":
      "export const multiply = (a: number, b: number): number => a * b;\n",
  };
  const fetched: string[] = [];
  const fakeFetch = (url: string): Promise<Response> => {
    fetched.push(url);
    const body = files[url];
    return Promise.resolve(
      body === undefined ? new Response("not found", { status: 404 }) : new Response(body),
    );
  };
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/policy.ts`,
      `import { API_VERSION } from "jsr:@hyperhook/hyperhook@^0.1.0/policy";\n` +
        `import { triple } from "jsr:@fixture/math@^1.1.0/triple";\n` +
        `import { square } from "https://modules.example.test/lib/square.ts";\n` +
        `export default { apiVersion: API_VERSION, domain: "cpu", name: "remote", start() {\n` +
        `  return { handler: { handle: (batch: { nums: Float64Array; length: number }) => {\n` +
        `    const nums = batch.nums.slice(0, batch.length).map((x) => square(triple(x)));\n` +
        `    return { nums, length: nums.length, objs: [] };\n` +
        `  } }, result: { name: "remote", config: {}, hooks: [] } };\n} };\n`,
    );
    const bundle = await bundlePolicy(`${dir}/policy.ts`, {
      fetch: fakeFetch,
      jsrRegistry: registry,
    });
    assertSelfContained(bundle.code);
    // ^1.1.0 picks 1.2.0: 1.3.0 is yanked and 2.0.0 is another major version.
    // The bundle names no module (its text is the code only); its source map does.
    assert.match(
      sourceMapOf(bundle.sha256)!.sources.join("\n"),
      /jsr\.test\/@fixture\/math\/1\.2\.0\/src\/times\.ts/,
    );
    assert.ok(fetched.every((url) => url in files), fetched.join(", "));
    const runtime = tracked(createRuntime("worker", bundle));
    try {
      await runtime.start(startMessage());
      assert.deepEqual(replyValues(await runtime.handle(batchOf([1, 2]))).nums, [9, 36]);
    } finally {
      await runtime.close();
    }
  });
});

Deno.test("imports that cannot run in a sandbox are refused, naming the import", async () => {
  await assert.rejects(
    bundlePolicy(fixture("imports_node_fs.ts")),
    /Cannot bundle policy .*imports_node_fs\.ts: imports_node_fs\.ts:2:\d+: "node:fs" is a Node\.js built-in module/,
  );
  await assert.rejects(
    bundlePolicy(fixture("imports_unmapped.ts")),
    /Cannot resolve "left-pad-nowhere": map it in the "imports" of deno\.json/,
  );
  await assert.rejects(bundlePolicy(fixture("no_default.ts")), /No matching export .*"default"/);
  await assert.rejects(
    bundlePolicy(fixture("does_not_exist.ts")),
    /Policy module not found: .*does_not_exist\.ts/,
  );
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/kernel.ts`,
      `import "@hyperhook/hyperhook";\nexport default 1;\n`,
    );
    await assert.rejects(bundlePolicy(`${dir}/kernel.ts`), /is the hyperhook kernel/);
    await Deno.writeTextFile(`${dir}/style.ts`, `import "./style.css";\nexport default 1;\n`);
    await Deno.writeTextFile(`${dir}/style.css`, "body {}\n");
    await assert.rejects(bundlePolicy(`${dir}/style.ts`), /only JavaScript, TypeScript and JSON/);
  });
});

Deno.test("version ranges pick the highest matching version", () => {
  const versions = ["0.1.0", "0.1.4", "0.2.0", "1.0.0", "1.2.3", "1.4.0", "1.5.0-rc.1", "2.0.0"];
  assert.equal(pickVersion("", versions), "2.0.0");
  assert.equal(pickVersion("*", versions), "2.0.0");
  assert.equal(pickVersion("^1.2.0", versions), "1.4.0");
  assert.equal(pickVersion("~1.2.0", versions), "1.2.3");
  assert.equal(pickVersion("^0.1.0", versions), "0.1.4");
  assert.equal(pickVersion("1", versions), "1.4.0");
  assert.equal(pickVersion("1.2", versions), "1.2.3");
  assert.equal(pickVersion("1.2.3", versions), "1.2.3");
  assert.equal(pickVersion(">=1.3.0", versions), "2.0.0");
  assert.equal(pickVersion("<1.0.0", versions), "0.2.0");
  assert.equal(pickVersion("1.5.0-rc.1", versions), "1.5.0-rc.1");
  assert.equal(pickVersion("^3.0.0", versions), undefined);
  assert.throws(() => pickVersion("1 || 2", versions), /Unsupported version range/);
});

Deno.test("import maps, package specifiers and JSONC parse as Deno does", () => {
  const map = {
    imports: {
      "@std/path": "jsr:@std/path@^1.0.0",
      "lib/": "./vendor/lib/",
      "lib/special": "./special.ts",
      "is-number": "npm:is-number@7.0.0",
    },
    base: new URL("file:///project/deno.json"),
  };
  assert.equal(applyImportMap(map, "@std/path"), "jsr:@std/path@^1.0.0");
  assert.equal(applyImportMap(map, "@std/path/join"), "jsr:@std/path@^1.0.0/join");
  assert.equal(applyImportMap(map, "lib/a.ts"), "file:///project/vendor/lib/a.ts");
  assert.equal(applyImportMap(map, "lib/special"), "file:///project/special.ts");
  assert.equal(applyImportMap(map, "is-number"), "npm:is-number@7.0.0");
  assert.equal(applyImportMap(map, "other"), undefined);
  assert.deepEqual(parsePackageSpecifier("npm:@scope/name@^1.2/sub/path.js"), {
    name: "@scope/name",
    range: "^1.2",
    subpath: "/sub/path.js",
  });
  assert.deepEqual(parsePackageSpecifier("npm:is-number"), {
    name: "is-number",
    range: "",
    subpath: "",
  });
  assert.deepEqual(parsePackageSpecifier("jsr:@hyperhook/hyperhook@0.1.0/policy"), {
    name: "@hyperhook/hyperhook",
    range: "0.1.0",
    subpath: "/policy",
  });
  assert.deepEqual(
    parseJsonc(`{ // comment\n "a": "http://x/*not a comment*/", /* block */ "b": [1, 2,], }`),
    { a: "http://x/*not a comment*/", b: [1, 2] },
  );
});
