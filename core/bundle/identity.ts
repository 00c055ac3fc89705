/**
 * The identity (SHA-256 and size) of a local policy module's bundle, without the bundler when the
 * files it was built from have not changed (modules that import only local files, as the built-in
 * policies do; others are bundled every time). A built-in policy run in-process needs only its
 * bundle's hash, for the report; building the bundle means starting esbuild, most of a short
 * run's wall time. The first build records the files it read (the modules, and the `deno.json`
 * whose import map resolved them) and the bundler's own identity (esbuild's resolved version, the
 * bundler's source); a later call reads those files again and, when all of them hash the same,
 * returns the recorded identity. Anything else builds the bundle as before.
 *
 * @example
 * ```ts ignore
 * import { bundleIdentity } from "./identity.ts";
 *
 * const { sha256 } = await bundleIdentity(new URL("../../plugins/cpu/rr.ts", import.meta.url).pathname);
 * ```
 *
 * @module
 */

import { defaultCacheDir, writeAtomically } from "./cache.ts";
import type { PolicyBundle } from "./bundle.ts";
import { keptSourceMap, registerSourceMap, type SourceMap } from "./source_map.ts";
import { findBundle } from "./_store.ts";

/** A bundle's identity: what a report records of the code that ran. */
export interface BundleIdentity {
  /** The SHA-256 of the bundle's text, in hex. */
  sha256: string;
  /** The size of the bundle's text in bytes (UTF-8). */
  bytes: number;
}

/** What the cache keeps per module (the format's version is in the file's name). */
interface Entry {
  path: string;
  /** The files the build read, in the order it read them. */
  inputs: string[];
  /** The SHA-256 of the bundler's identity and of each input's path and text. */
  key: string;
  sha256: string;
  bytes: number;
  /** The bundle's source map and the folder its sources are relative to (this path's build). */
  map?: SourceMap;
  mapDir?: string;
}

const VERSION = 2;
/** The bundler's own sources: a change to how it bundles changes the key. */
const BUNDLER_SOURCES = ["./bundle.ts", "./_resolve.ts", "./source_map.ts"].map((path) =>
  new URL(path, import.meta.url)
);
const encoder = new TextEncoder();

/**
 * The identity of the bundle of the policy module at `path` (a local file): from the cache when
 * every file the last build read is unchanged, else from a build (which then refreshes the cache).
 *
 * @param path The module's absolute path.
 * @param options `cacheDir`: where entries are kept (default {@linkcode defaultCacheDir}).
 * @returns The same `sha256` and `bytes` as `bundlePolicy(path)` gives.
 * @throws {Error} When the module cannot be bundled (as `bundlePolicy`).
 */
export async function bundleIdentity(
  path: string,
  options: { cacheDir?: string } = {},
): Promise<BundleIdentity> {
  const { identity } = await cachedBuild(path, options, false);
  return identity;
}

/**
 * The bundle of the policy module at `path` (a local file), without the bundler when the files
 * the last build read are unchanged and the bundle it stored (`<cacheDir>/bundles/<sha256>.js`)
 * still hashes to its name; else a build, which refreshes both. A sandboxed local policy, built-in
 * or the user's own, then costs no esbuild start on a second run.
 *
 * @example
 * ```ts ignore
 * import { cachedBundle } from "./identity.ts";
 *
 * const bundle = await cachedBundle(new URL("../../plugins/cpu/rr.ts", import.meta.url).pathname);
 * console.assert(bundle.code.includes("export"));
 * ```
 *
 * @param path The module's absolute path.
 * @param options `cacheDir`: where entries and bundles are kept (default
 *   {@linkcode defaultCacheDir}); `reference`: the bundle's `reference` (default `path`);
 *   `onRead`: called with each file the bundle was built from and its text, as `bundlePolicy`'s.
 * @returns The same bundle as `bundlePolicy(path)` gives.
 * @throws {Error} When the module cannot be bundled (as `bundlePolicy`).
 */
export async function cachedBundle(
  path: string,
  options: {
    cacheDir?: string;
    reference?: string;
    onRead?: (path: string, text: string) => void;
  } = {},
): Promise<PolicyBundle> {
  const { identity, bundle, reads } = await cachedBuild(path, options, true);
  if (options.onRead !== undefined) {
    for (const [input, text] of reads) {
      options.onRead(input, text);
    }
  }
  if (bundle !== undefined) return { ...bundle, reference: options.reference ?? path };
  const found = await findBundle(identity.sha256, options);
  if (found !== undefined) return { ...found, reference: options.reference ?? path };
  // The entry's bundle was not stored (an entry written by bundleIdentity): build and store it.
  const { bundle: built } = await build(path, options, true);
  return { ...built, reference: options.reference ?? path };
}

/** The identity from the cache when it holds, else from a build (the bundle with it). */
async function cachedBuild(
  path: string,
  options: { cacheDir?: string },
  store: boolean,
): Promise<{ identity: BundleIdentity; bundle?: PolicyBundle; reads: [string, string][] }> {
  const bundler = await bundlerIdentity();
  const file = entryFile(path, options);
  if (bundler !== undefined) {
    const cached = await readEntry(file, path, bundler);
    if (cached !== undefined) return cached;
  }
  return await build(path, options, store, bundler);
}

function entryFile(path: string, options: { cacheDir?: string }): string {
  return `${options.cacheDir ?? defaultCacheDir()}/bundle-identities/v${VERSION}-${
    path.replace(/[^A-Za-z0-9_.-]+/g, "_")
  }.json`;
}

/** Builds the bundle (stored when `store`), and records its identity when its inputs allow. */
async function build(
  path: string,
  options: { cacheDir?: string },
  store: boolean,
  bundler?: string,
): Promise<{ identity: BundleIdentity; bundle: PolicyBundle; reads: [string, string][] }> {
  bundler ??= await bundlerIdentity();
  const reads: [string, string][] = [];
  const { bundlePolicy } = await import("./bundle.ts");
  const bundle = await bundlePolicy(path, {
    cacheDir: options.cacheDir,
    store,
    onRead: (input, text) => void reads.push([input, text]),
  });
  const identity = { sha256: bundle.sha256, bytes: bundle.bytes };
  // Only local files outside npm packages: a fetch, or esbuild's own resolution inside
  // node_modules (which reads package.json files unseen), could change without a file here changing.
  const local = reads.every(([input]) =>
    input.startsWith("/") && !input.includes("/node_modules/")
  );
  if (bundler !== undefined && local) {
    const entry: Entry = {
      path,
      inputs: reads.map(([input]) => input),
      key: await keyOf(bundler, reads),
      ...identity,
    };
    // Its source map, so that a cached policy's incidents still point at its lines.
    const kept = keptSourceMap(bundle.sha256);
    if (kept !== undefined) {
      entry.map = kept.map;
      if (kept.dir !== undefined) entry.mapDir = kept.dir;
    }
    await writeEntry(entryFile(path, options), entry);
  }
  return { identity, bundle, reads };
}

/** esbuild's resolved version and the bundler's sources; undefined when they cannot be read. */
async function bundlerIdentity(): Promise<string | undefined> {
  try {
    const texts = await Promise.all(BUNDLER_SOURCES.map((url) => Deno.readTextFile(url)));
    return [import.meta.resolve("esbuild"), ...texts].join("\0");
  } catch {
    return undefined;
  }
}

async function keyOf(bundler: string, reads: [string, string][]): Promise<string> {
  const text = [bundler, ...reads.flatMap(([path, content]) => [path, content])].join("\0");
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function readEntry(
  file: string,
  path: string,
  bundler: string,
): Promise<{ identity: BundleIdentity; reads: [string, string][] } | undefined> {
  try {
    const entry = JSON.parse(await Deno.readTextFile(file)) as Entry;
    if (entry.path !== path || !Array.isArray(entry.inputs)) return undefined;
    const reads = await Promise.all(
      entry.inputs.map(async (input): Promise<[string, string]> => [
        input,
        await Deno.readTextFile(input),
      ]),
    );
    if (await keyOf(bundler, reads) !== entry.key) return undefined;
    if (!/^[0-9a-f]{64}$/.test(entry.sha256) || !Number.isInteger(entry.bytes)) return undefined;
    if (typeof entry.map === "object" && entry.map !== null) {
      registerSourceMap(entry.sha256, entry.map, entry.mapDir);
    }
    return { identity: { sha256: entry.sha256, bytes: entry.bytes }, reads };
  } catch {
    // No entry, a file gone, or an entry from elsewhere: build.
    return undefined;
  }
}

/** Writes the entry whole or not at all (processes running side by side may race). */
async function writeEntry(file: string, entry: Entry): Promise<void> {
  try {
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await writeAtomically(file, JSON.stringify(entry) + "\n");
  } catch {
    // A cache that cannot be written only means building next time.
  }
}
