/**
 * Where hyperhook keeps what it builds once and reuses: bundles by sha256, npm and jsr packages,
 * the `process` sandbox's bootstrap script.
 *
 * @module
 */

/**
 * The directory hyperhook keeps its caches in: `$XDG_CACHE_HOME/hyperhook`, else
 * `$HOME/.cache/hyperhook`, else `hyperhook-cache` in the system's temporary directory.
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "./cache.ts";
 *
 * console.assert(defaultCacheDir().endsWith("hyperhook") || defaultCacheDir().endsWith("cache"));
 * ```
 *
 * @returns An absolute path (the directory may not exist yet).
 */
export function defaultCacheDir(): string {
  const env = (name: string): string | undefined => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined) return `${xdg}/hyperhook`;
  const home = env(Deno.build.os === "windows" ? "USERPROFILE" : "HOME");
  if (home !== undefined) return `${home}/.cache/hyperhook`;
  const temp = env("TMPDIR") ?? env("TEMP") ?? "/tmp";
  return `${temp}/hyperhook-cache`;
}

/**
 * Writes `text` to `path` whole or not at all: into a temporary file beside it, then renamed over
 * it, so that a process reading the cache (or running the file) beside the writer never sees half
 * a file.
 *
 * @param path The file.
 * @param text Its content.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, text);
  await Deno.rename(temporary, path);
}
