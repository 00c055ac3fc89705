/**
 * The bundles known to this process and stored on disk, by SHA-256: `bundle.ts` adds what it
 * builds, and a cached policy is found here without loading the bundler (esbuild's npm package
 * and Node's compatibility layer cost a run most of 100 ms).
 *
 * @module
 */

import type { PolicyBundle } from "./bundle.ts";
import { defaultCacheDir, writeAtomically } from "./cache.ts";
import { sha256Hex } from "./sha256.ts";

/** Bundles built or found in this process, by SHA-256. */
const bundles = new Map<string, PolicyBundle>();
const encoder = new TextEncoder();

/**
 * Remembers a bundle built in this process.
 *
 * @param bundle The bundle.
 */
export function rememberBundle(bundle: PolicyBundle): void {
  bundles.set(bundle.sha256, bundle);
}

/**
 * Finds a bundle by its SHA-256: one built in this process, else one stored on disk by
 * `bundlePolicy(…, { store: true })` (checked against its hash before it is returned).
 *
 * @example
 * ```ts
 * import { findBundle } from "./_store.ts";
 *
 * console.assert(await findBundle("0".repeat(64), { cacheDir: "/nonexistent" }) === undefined);
 * ```
 *
 * @param sha256 The bundle's hash, in hex.
 * @param options Where the bundles are stored (default: {@linkcode defaultCacheDir}).
 * @returns The bundle, or undefined when it is not known.
 */
export async function findBundle(
  sha256: string,
  options: { cacheDir?: string } = {},
): Promise<PolicyBundle | undefined> {
  const known = bundles.get(sha256);
  if (known !== undefined) return known;
  if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const base = `${options.cacheDir ?? defaultCacheDir()}/bundles/${sha256}`;
  let code: string;
  let reference = `sha256:${sha256}`;
  try {
    code = await Deno.readTextFile(`${base}.js`);
  } catch {
    return undefined;
  }
  if (await sha256Hex(code) !== sha256) return undefined;
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${base}.json`)) as { reference?: unknown };
    if (typeof meta.reference === "string") reference = meta.reference;
  } catch {
    // The metadata is optional: the code alone is the bundle.
  }
  const bundle: PolicyBundle = { code, sha256, bytes: encoder.encode(code).length, reference };
  bundles.set(sha256, bundle);
  return bundle;
}

/**
 * Writes a bundle to `<cacheDir>/bundles/<sha256>.js` (whole or not at all), with its reference
 * and size beside it, for {@linkcode findBundle}.
 *
 * @param bundle The bundle.
 * @param cacheDir The cache directory.
 */
export async function storeBundle(bundle: PolicyBundle, cacheDir: string): Promise<void> {
  const dir = `${cacheDir}/bundles`;
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomically(`${dir}/${bundle.sha256}.js`, bundle.code);
  await Deno.writeTextFile(
    `${dir}/${bundle.sha256}.json`,
    JSON.stringify({ reference: bundle.reference, bytes: bundle.bytes }) + "\n",
  );
}
