// A built-in's bundle identity without esbuild: the cache answers while the files the last build
// read are unchanged, and any change to one of them makes it build again.
import assert from "node:assert/strict";
import { bundlePolicy } from "../../core/bundle/bundle.ts";
import { bundleIdentity, cachedBundle } from "../../core/bundle/identity.ts";
import { loadPolicy } from "../../core/simulation/loader.ts";

const SDK = new URL("../../core/policy/mod.ts", import.meta.url).href;

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-identity-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const policy = (name: string) =>
  `import { defineCpuPolicy } from ${JSON.stringify(SDK)};\n` +
  `export default defineCpuPolicy({ name: ${JSON.stringify(name)}, dispatch: () => null });\n`;

Deno.test("bundleIdentity: the bundle's hash and size, from the cache while the inputs are unchanged", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/mine.ts`, cacheDir = `${dir}/cache`;
    await Deno.writeTextFile(path, policy("one"));
    const built = await bundlePolicy(path);
    assert.deepEqual(await bundleIdentity(path, { cacheDir }), {
      sha256: built.sha256,
      bytes: built.bytes,
    });
    // The entry records every module read: the policy and the SDK's files.
    const [file] = [...Deno.readDirSync(`${cacheDir}/bundle-identities`)].map((e) => e.name);
    const entryPath = `${cacheDir}/bundle-identities/${file}`;
    const entry = JSON.parse(await Deno.readTextFile(entryPath));
    assert.equal(entry.inputs[0], path);
    assert.ok(entry.inputs.includes(new URL(SDK).pathname), entry.inputs.join(" "));
    // A hit comes from the entry, not from a build: a forged hash in it is what comes back.
    await Deno.writeTextFile(entryPath, JSON.stringify({ ...entry, sha256: "f".repeat(64) }));
    assert.equal((await bundleIdentity(path, { cacheDir })).sha256, "f".repeat(64));
    // Any input changed: built again, and the entry refreshed.
    await Deno.writeTextFile(path, policy("two"));
    const rebuilt = await bundlePolicy(path);
    assert.notEqual(rebuilt.sha256, built.sha256);
    assert.equal((await bundleIdentity(path, { cacheDir })).sha256, rebuilt.sha256);
    assert.equal(JSON.parse(await Deno.readTextFile(entryPath)).sha256, rebuilt.sha256);
    // An input gone, or an entry unreadable: built again.
    await Deno.writeTextFile(entryPath, "{not json");
    assert.equal((await bundleIdentity(path, { cacheDir })).sha256, rebuilt.sha256);
  });
});

Deno.test("a built-in in-process reports the hash its bundle has, and its bundle when sandboxed", async () => {
  const rr = new URL("../../plugins/cpu/rr.ts", import.meta.url).pathname;
  const bundle = await bundlePolicy(rr);
  const none = await loadPolicy("cpu", "rr");
  const worker = await loadPolicy("cpu", "rr", { isolation: "worker" });
  try {
    assert.equal(none.info.sha256, bundle.sha256);
    assert.equal(worker.info.sha256, bundle.sha256);
    assert.equal(none.runtime.isolation, "none");
    assert.equal(worker.runtime.isolation, "worker");
  } finally {
    await none.runtime.close();
    await worker.runtime.close();
  }
});

Deno.test("cachedBundle: the stored bundle while the inputs are unchanged; a tampered store or a changed input builds again", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/mine.ts`, cacheDir = `${dir}/cache`;
    await Deno.writeTextFile(path, policy("one"));
    const built = await bundlePolicy(path);
    const first = await cachedBundle(path, { cacheDir, reference: "./mine.ts" });
    assert.deepEqual(first, { ...built, reference: "./mine.ts" });
    const stored = `${cacheDir}/bundles/${built.sha256}.js`;
    assert.equal(await Deno.readTextFile(stored), built.code);
    // Its source map is kept with the entry: a cached policy's incidents still point at its lines,
    // relative to its own folder (the same code elsewhere has the same hash, not the same folder).
    const [name] = [...Deno.readDirSync(`${cacheDir}/bundle-identities`)].map((e) => e.name);
    const kept = JSON.parse(await Deno.readTextFile(`${cacheDir}/bundle-identities/${name}`));
    assert.ok(
      kept.map.sources.some((source: string) => source.endsWith("mine.ts")),
      kept.map.sources,
    );
    assert.equal(kept.mapDir, dir);
    // A hit is the stored text, not a build: the entry is what names it.
    const [file] = [...Deno.readDirSync(`${cacheDir}/bundle-identities`)].map((e) => e.name);
    const entryPath = `${cacheDir}/bundle-identities/${file}`;
    await Deno.writeTextFile(`${dir}/other.ts`, policy("other"));
    const otherBundle = await cachedBundle(`${dir}/other.ts`, { cacheDir });
    const entry = JSON.parse(await Deno.readTextFile(entryPath));
    await Deno.writeTextFile(
      entryPath,
      JSON.stringify({ ...entry, sha256: otherBundle.sha256, bytes: otherBundle.bytes }),
    );
    assert.equal((await cachedBundle(path, { cacheDir })).code, otherBundle.code);
    await Deno.writeTextFile(entryPath, JSON.stringify(entry));
    // A stored text that no longer hashes to its name is not used: built again.
    await Deno.writeTextFile(stored, "export default 1;\n");
    assert.equal((await cachedBundle(path, { cacheDir })).code, built.code);
    // A changed input: built again.
    await Deno.writeTextFile(path, policy("two"));
    const rebuilt = await cachedBundle(path, { cacheDir });
    assert.equal(rebuilt.code, (await bundlePolicy(path)).code);
    assert.notEqual(rebuilt.sha256, built.sha256);
  });
});
