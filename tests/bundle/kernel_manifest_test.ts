/**
 * The kernel bundle's manifest (`core/bundle/_kernel_manifest.ts`): a cached bundle is reused
 * while the files it was built from are as they were, and the bundler's own file (`kernel.ts`:
 * its esbuild options, its stand-ins) is one of them, so that a change in how the kernel is
 * bundled (minified, say) builds it again rather than reusing a bundle made the old way.
 */

import assert from "node:assert/strict";
import {
  KERNEL_BUNDLER_PATH,
  kernelManifestPath,
  unchangedKernelManifest,
} from "../../core/bundle/_kernel_manifest.ts";
import { kernelBundle } from "../../core/bundle/kernel.ts";
import { defaultCacheDir } from "../../core/bundle/cache.ts";

type Input = [path: string, size: number, mtimeMs: number];

async function inputOf(path: string): Promise<Input> {
  const stat = await Deno.stat(path);
  return [path, stat.size, stat.mtime?.getTime() ?? 0];
}

Deno.test("kernel manifest: reused while its files are unchanged, the bundler's own among them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-kernel-manifest-" });
  try {
    const source = `${dir}/source.ts`;
    await Deno.writeTextFile(source, "export const a = 1;\n");
    const manifest = `${dir}/manifest.json`;
    const write = async (inputs: Input[]) =>
      await Deno.writeTextFile(manifest, JSON.stringify({ sha256: "ab", bytes: 2, inputs }));

    await write([await inputOf(source), await inputOf(KERNEL_BUNDLER_PATH)]);
    assert.equal(unchangedKernelManifest(manifest)?.sha256, "ab");
    // Written before the bundler was an input: made the old way, out of date.
    await write([await inputOf(source)]);
    assert.equal(unchangedKernelManifest(manifest), undefined);
    // The bundler changed since (its size, here): out of date.
    const [path, size, mtimeMs] = await inputOf(KERNEL_BUNDLER_PATH);
    await write([await inputOf(source), [path, size + 1, mtimeMs]]);
    assert.equal(unchangedKernelManifest(manifest), undefined);
    // A source changed: out of date.
    await write([await inputOf(source), await inputOf(KERNEL_BUNDLER_PATH)]);
    await Deno.writeTextFile(source, "export const a = 22;\n");
    assert.equal(unchangedKernelManifest(manifest), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kernel manifest: the bundle's manifest lists the bundler's own file", async () => {
  const bundle = await kernelBundle();
  const manifest = unchangedKernelManifest(kernelManifestPath(`${defaultCacheDir()}/kernel`));
  assert.equal(manifest?.sha256, bundle.sha256);
  assert.ok(manifest!.inputs.some(([input]) => input === KERNEL_BUNDLER_PATH));
  assert.ok(manifest!.inputs.some(([input]) => input.endsWith("core/sandbox/_kernel_child.ts")));
});
