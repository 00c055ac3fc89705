/**
 * The command line, environment and main module file of a sandbox child, shared by the per-batch
 * (`process.ts`) and replay (`replay.ts`, `prelaunch.ts`) runtimes: the boundary is written once.
 *
 * @module
 */

import { writeAtomically } from "../bundle/cache.ts";

/**
 * Type feedback from a function's first call rather than its eighth, as the project's tasks have
 * it. Not the tasks' raised inlining budgets: they make a long run in one process faster, but in a
 * child, whose kernel and policy share the two cores with the parent's kernel, the extra optimizing
 * compiles cost more than they buy. Whole `deno task sim … --isolation process` processes with the
 * budgets vs without, alternating (bench/sandbox_e2e.ts, 64 pCPUs, 512 VMs, 3 s, 2 x 4 rounds):
 * without them credit 0.87-0.90x, fair 0.89-0.96x, credit2 0.90-0.92x the wall time, rtds
 * 0.90-1.05x, eevdf 0.99-1.04x, lottery 0.96-1.00x.
 */
const CHILD_V8_FLAGS = "--no-lazy-feedback-allocation";

/**
 * `deno` arguments up to the child's main module: no permissions (none is granted, none can be
 * asked), nothing fetched or read beyond the module, its heap capped.
 *
 * @param heapMiB The child's heap cap.
 */
export function childDenoArgs(heapMiB: number): string[] {
  return [
    "run",
    "--no-prompt",
    "--cached-only",
    "--no-remote",
    "--no-npm",
    "--no-config",
    "--no-lock",
    `--v8-flags=--max-old-space-size=${heapMiB},${CHILD_V8_FLAGS}`,
  ];
}

/**
 * The child's whole environment (the parent's is cleared): its own Deno folder beside its main
 * module, and UTC, so that local dates read the same on every machine.
 *
 * @param moduleDir The folder of the child's main module.
 */
export function childEnv(moduleDir: string): Record<string, string> {
  return { DENO_DIR: `${moduleDir}/deno-dir`, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", TZ: "UTC" };
}

/**
 * How large the children's V8 code cache may grow before {@linkcode trimCodeCache} starts it
 * afresh: 64 MiB, two hundred kernel bundles' worth.
 */
export const CODE_CACHE_LIMIT_BYTES: number = 64 * 1024 * 1024;

/**
 * Starts the children's V8 code cache (in their Deno folder, `<moduleDir>/deno-dir`) afresh once
 * it has grown past `limitBytes`. Deno keeps the compiled code of every module a child loads,
 * keyed by its URL, and every sandboxed policy is loaded through a `blob:` URL of its own: each
 * run added an entry nobody reads again (about 10 KB; 45,769 of them, 446 MB, after a day of
 * this project's tests). The entry worth keeping, the kernel bundle's, is written again by the
 * next child. A child that has the old file open goes on with it.
 *
 * @param moduleDir The folder of the children's main modules.
 * @param limitBytes The size (the database and its write-ahead log) past which it is removed.
 * @returns Whether it was removed.
 */
export function trimCodeCache(
  moduleDir: string,
  limitBytes: number = CODE_CACHE_LIMIT_BYTES,
): boolean {
  // Deno's own name for its code cache (v2 as of Deno 2); another name leaves it alone.
  const path = `${moduleDir}/deno-dir/v8_code_cache_v2`;
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += Deno.statSync(file).size;
    } catch {
      // Not there (yet).
    }
  }
  if (bytes <= limitBytes) return false;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      Deno.removeSync(file);
    } catch {
      // Gone already (another kernel trimmed it), or never there.
    }
  }
  return true;
}

/**
 * Makes `path` hold `text`, a child's main module: kept when it is already intact, else written to
 * a temporary file and renamed (a child never reads half a file: `writeAtomically`), with the
 * children's Deno folder (`<sandboxDir>/deno-dir`) made beside it.
 *
 * @param path The file.
 * @param text Its content.
 * @param sandboxDir The sandbox's folder in the cache.
 * @returns `path`.
 */
export async function writeChildFile(
  path: string,
  text: string,
  sandboxDir: string,
): Promise<string> {
  try {
    if (await Deno.readTextFile(path) === text) return path;
  } catch {
    // Missing or unreadable: write it below.
  }
  await Deno.mkdir(`${sandboxDir}/deno-dir`, { recursive: true });
  await writeAtomically(path, text);
  return path;
}
