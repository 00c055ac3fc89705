/**
 * The kernel bundle's manifest (see `kernel.ts`): which bundle the cache holds for this checkout's
 * sources, and the files it was built from, checked with a hundred `stat`s and no hashing.
 *
 * Kept apart from `kernel.ts` and free of `node:` modules so that a run can find the bundle and
 * launch the replay sandbox's child at once: loading `node:crypto` alone costs a process 80 ms,
 * before it could even start the child.
 *
 * @module
 */

/** The replay child's main module, the entry of the kernel bundle. */
export const KERNEL_ENTRY: URL = new URL("../sandbox/_kernel_child.ts", import.meta.url);

/**
 * The bundler's own file (`kernel.ts`), as a path: how it bundles (its options, its stand-ins)
 * makes the bundle as much as the sources do, so every manifest lists it among its inputs, and
 * one that does not (written before it did) is out of date.
 */
export const KERNEL_BUNDLER_PATH: string = filePath(new URL("./kernel.ts", import.meta.url));

/** A `file:` URL's path (without `node:url`: see the module's documentation). */
function filePath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return Deno.build.os === "windows" ? path.slice(1).replaceAll("/", "\\") : path;
}

/**
 * The manifest of the cached kernel bundle if its sources have not changed (the files it lists
 * as they were), checked synchronously and without reading the bundle; undefined when the bundle
 * must be built (see `kernel.ts`), or when hyperhook runs from other than files.
 *
 * @param cacheDir The cache directory (the bundles are in its `kernel` folder).
 */
export function cachedKernelManifest(cacheDir: string): KernelManifest | undefined {
  if (KERNEL_ENTRY.protocol !== "file:") return undefined;
  return unchangedKernelManifest(kernelManifestPath(`${cacheDir}/kernel`));
}

/** What the cache keeps about a kernel bundle. */
export interface KernelManifest {
  /** The bundle's sha256, in hex. */
  sha256: string;
  /** Its size in UTF-8 bytes (absent from manifests written before it was kept). */
  bytes?: number;
  /** The files it was made of, as they were: path, size, modification time. */
  inputs: [path: string, size: number, mtimeMs: number][];
}

/**
 * The manifest's path in `dir`: one per checkout (the entry's URL), named by a 64-bit FNV-1a of
 * it (a name, not a check: the files it lists are).
 *
 * @param dir The kernel cache directory (`<cacheDir>/kernel`).
 */
export function kernelManifestPath(dir: string): string {
  let high = 0xcbf29ce4, low = 0x84222325;
  for (let i = 0; i < KERNEL_ENTRY.href.length; i++) {
    low ^= KERNEL_ENTRY.href.charCodeAt(i);
    // Multiplying by the 64-bit prime 2^40 + 0x1b3, in two 32-bit halves.
    const lowProduct = low * 0x1b3;
    const carry = Math.floor(lowProduct / 0x100000000);
    high = (Math.imul(high, 0x1b3) + Math.imul(low, 0x100) + carry) >>> 0;
    low = lowProduct >>> 0;
  }
  const hex = (value: number) => value.toString(16).padStart(8, "0");
  return `${dir}/manifest-${hex(high)}${hex(low)}.json`;
}

/**
 * The manifest if the files it lists are as they were (size, modification time), else undefined
 * (none yet, a file changed or gone: the bundle must be built).
 *
 * @param path The manifest's path ({@linkcode kernelManifestPath}).
 */
export function unchangedKernelManifest(path: string): KernelManifest | undefined {
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(path)) as KernelManifest;
    if (!manifest.inputs.some(([input]) => input === KERNEL_BUNDLER_PATH)) return undefined;
    for (const [input, size, mtimeMs] of manifest.inputs) {
      const stat = Deno.statSync(input);
      if (stat.size !== size || (stat.mtime?.getTime() ?? 0) !== mtimeMs) return undefined;
    }
    return manifest;
  } catch {
    // No manifest yet, or a file gone: build.
    return undefined;
  }
}
