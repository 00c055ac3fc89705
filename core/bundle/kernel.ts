/**
 * The kernel bundle: the kernel, its domains, the built-in policies and the replay child's entry
 * (`_kernel_child.ts`) turned by esbuild into one module with no imports but Deno's `node:`
 * built-ins, which a permission-less child runs as its main module (see `replay.ts`).
 *
 * It is built once per version of the sources and kept in the cache directory under its sha256,
 * with a manifest of the files it was built from (their sizes and modification times): a run
 * checks those (about a hundred `stat`s) instead of paying esbuild; a changed file rebuilds it.
 * Inside the sandbox nothing bundles, so the bundler itself (`esbuild`) is left out.
 *
 * @module
 */

import type * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { defaultCacheDir, writeAtomically } from "./cache.ts";
import {
  KERNEL_BUNDLER_PATH,
  KERNEL_ENTRY as ENTRY,
  type KernelManifest as Manifest,
  kernelManifestPath,
  unchangedKernelManifest as unchangedManifest,
} from "./_kernel_manifest.ts";
import {
  applyImportMap,
  type ImportMap,
  importMapOf,
  npmWorkspace,
  parseJsonc,
  parsePackageSpecifier,
} from "./_resolve.ts";

/** The kernel bundle: its text and identity. */
export interface KernelBundle {
  /** The module text. */
  code: string;
  /** The sha256 of `code`, in hex. */
  sha256: string;
}

const CONFIG = new URL("../../deno.json", import.meta.url);
/**
 * Modules the child has no use for, and what stands in for them: it bundles nothing, and it is
 * sent the workload the kernel validated, so the schemas (two thirds of the bundle, and a good
 * part of its start) need not be built. A stand-in schema answers anything with itself, and
 * refuses to validate, so that a use of it in the child fails loudly.
 */
const STAND_INS: Record<string, string> = {
  esbuild: "export function build() { throw new Error('The sandbox does not bundle'); }\n",
  zod: `const refuse = () => { throw new Error("The sandbox validates no workload"); };
const inert = new Proxy(function () {}, {
  get(_target, key) {
    if (key === "then") return undefined;
    if (key === Symbol.toPrimitive) return () => "";
    if (typeof key === "string" && /^(safe)?[pP]arse(Async)?$|^decode|^encode/.test(key)) {
      return refuse;
    }
    return inert;
  },
  apply: () => inert,
  construct: () => inert,
});
export const z = inert;
export default inert;
`,
};

/**
 * The kernel's own modules the child never loads, as it bundles, type-checks, sandboxes and
 * replays nothing: they are imported only dynamically, and stand-ins that refuse to load keep them
 * out of the bundle, with the `node:` modules they import (the compatibility layer costs the
 * child tens of milliseconds of its start, which the whole run waits for).
 */
const LEFT_OUT = new Set(
  [
    "bundle/bundle.ts",
    "bundle/type_check.ts",
    "sandbox/mod.ts",
    "sandbox/prelaunch.ts",
    "sandbox/replay.ts",
  ].map((path) => fromFileUrl(new URL(`../${path}`, import.meta.url))),
);

/** Marks the resolutions this plugin hands back to esbuild's own resolver. */
const NATIVE = { native: true };

let building: Promise<KernelBundle> | undefined;

/**
 * The kernel bundle, from the cache when its sources have not changed, else built (once per
 * process).
 *
 * @example
 * ```ts ignore
 * import { kernelBundle } from "./kernel.ts";
 *
 * const bundle = await kernelBundle();
 * console.log(bundle.sha256);
 * ```
 *
 * @param options Where the cache is (default {@linkcode defaultCacheDir}).
 * @returns The bundle.
 * @throws {Error} When the kernel's sources cannot be read or bundled (for instance when
 *   hyperhook runs from a remote URL rather than from files).
 */
export function kernelBundle(options: { cacheDir?: string } = {}): Promise<KernelBundle> {
  building ??= findOrBuild(options.cacheDir ?? defaultCacheDir());
  building.catch(() => building = undefined);
  return building;
}

async function findOrBuild(cacheDir: string): Promise<KernelBundle> {
  if (ENTRY.protocol !== "file:") {
    throw new Error(`The replay sandbox needs hyperhook's sources as files, not ${ENTRY.href}`);
  }
  const dir = `${cacheDir}/kernel`;
  const manifestPath = kernelManifestPath(dir);
  const cached = fromCache(dir, manifestPath);
  if (cached !== undefined) return cached;
  const { code, inputs } = await build(cacheDir);
  const sha256 = sha256Hex(code);
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomically(`${dir}/${sha256}.js`, code);
  const stats = await Promise.all(inputs.map(async (path) => {
    const stat = await Deno.stat(path);
    return [path, stat.size, stat.mtime?.getTime() ?? 0] as Manifest["inputs"][number];
  }));
  const bytes = new TextEncoder().encode(code).length;
  await writeAtomically(manifestPath, JSON.stringify({ sha256, bytes, inputs: stats }));
  return { code, sha256 };
}

/**
 * The cached bundle, if the manifest's files are as they were and the bundle is intact. Synchronous
 * reads: a hundred small asynchronous ones cost more in scheduling than in reading.
 */
function fromCache(dir: string, manifestPath: string): KernelBundle | undefined {
  const manifest = unchangedManifest(manifestPath);
  if (manifest === undefined) return undefined;
  try {
    const code = Deno.readTextFileSync(`${dir}/${manifest.sha256}.js`);
    if (sha256Hex(code) !== manifest.sha256) return undefined;
    return { code, sha256: manifest.sha256 };
  } catch {
    // The bundle is gone: build.
    return undefined;
  }
}

/**
 * The sha256 of a text or of bytes (a text's UTF-8), in hex, synchronously.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./kernel.ts";
 *
 * console.assert(sha256Hex("a") === sha256Hex(new TextEncoder().encode("a")));
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Builds the bundle; returns it and the project files it was made of. */
async function build(cacheDir: string): Promise<{ code: string; inputs: string[] }> {
  const configPath = fromFileUrl(CONFIG);
  const importMap = importMapOf(parseJsonc(await Deno.readTextFile(configPath)), CONFIG);
  const workingDir = dirname(configPath);
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    // Loaded only to build: a run that finds the bundle cached starts no bundler.
    const esbuildApi = await import("esbuild");
    result = await esbuildApi.build({
      entryPoints: [fromFileUrl(ENTRY)],
      absWorkingDir: workingDir,
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "neutral",
      target: "esnext",
      mainFields: ["module", "main"],
      conditions: ["deno", "worker"],
      charset: "utf8",
      // Its start is on every replayed run's critical path: without whitespace and with shorter
      // syntax (names kept: errors and classes read as in the sources), 40 % smaller, and a child
      // that loads it, starts its ring's thread and waits for its run uses 183 ms of CPU vs 192 ms
      // (24 alternating launches, loaded machine: wall medians 278 ms vs 341 ms).
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: "silent",
      plugins: [kernelPlugin(importMap, cacheDir)],
    });
  } catch (error) {
    const errors = (error as { errors?: esbuild.Message[] }).errors;
    const text = errors?.map((message) => message.text).join("; ") ?? String(error);
    throw new Error(`Cannot bundle the kernel for the replay sandbox: ${text}`);
  }
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("Cannot bundle the kernel: esbuild wrote nothing");
  const inputs = Object.keys(result.metafile.inputs)
    .filter((path) => !path.includes(":") && !path.includes("node_modules"))
    .map((path) => `${workingDir}/${path}`);
  // The import map, and this file: how it bundles (its options, its stand-ins) makes the bundle too.
  inputs.push(configPath, KERNEL_BUNDLER_PATH);
  return { code: output.text, inputs };
}

/** Resolves the project's bare specifiers through its import map; npm packages from a workspace. */
function kernelPlugin(importMap: ImportMap | undefined, cacheDir: string): esbuild.Plugin {
  return {
    name: "hyperhook-kernel",
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        if (!LEFT_OUT.has(path)) return;
        if (args.kind !== "dynamic-import") {
          return {
            errors: [{ text: `The kernel imports ${path} statically; the sandbox leaves it out` }],
          };
        }
        return { path, namespace: "left-out" };
      });
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        // Inside a package, and the resolution asked for below, esbuild resolves as Node does.
        if (args.importer.includes("/node_modules/") || args.pluginData === NATIVE) return;
        if (Object.hasOwn(STAND_INS, args.path)) return { path: args.path, namespace: "stand-in" };
        const mapped = importMap === undefined ? undefined : applyImportMap(importMap, args.path);
        if (mapped === undefined) return;
        if (mapped.startsWith("file:")) return { path: fromFileUrl(mapped) };
        const specifier = parsePackageSpecifier(mapped);
        if (!mapped.startsWith("npm:") || specifier === undefined) {
          const text = `The kernel imports ${args.path} (${mapped}), which it cannot bundle`;
          return { errors: [{ text }] };
        }
        const { dir } = await npmWorkspace(specifier, cacheDir);
        return await build.resolve(specifier.name + specifier.subpath, {
          resolveDir: dir,
          kind: args.kind,
          pluginData: NATIVE,
        });
      });
      build.onLoad({ filter: /.*/, namespace: "left-out" }, (args) => ({
        contents: `throw new Error(${
          JSON.stringify(`The sandbox's kernel does not load ${args.path}`)
        });\n`,
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({
        contents: STAND_INS[args.path]!,
        loader: "js",
      }));
    },
  };
}
