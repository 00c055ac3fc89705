/**
 * From a policy reference to one text: `bundlePolicy` resolves a path, an `npm:`, `jsr:` or
 * `https:` specifier the way Deno does (import maps, registries, semver ranges), bundles it with
 * esbuild into one self-contained module, and names it by its sha256. The sandboxes
 * (`core/sandbox/`) host that text and nothing else.
 *
 * @example Bundle a policy and read its name
 * ```ts ignore
 * import { bundlePolicy } from "./mod.ts";
 *
 * const bundle = await bundlePolicy("./my_policy.ts");
 * console.log(bundle.sha256, bundle.bytes);
 * ```
 *
 * @module
 */

export {
  type BundleOptions,
  bundlePolicy,
  type Fetcher,
  findBundle,
  type PolicyBundle,
} from "./bundle.ts";
export { defaultCacheDir } from "./cache.ts";
export { sha256Hex } from "./sha256.ts";
