/**
 * Launching the replay sandbox's child (see `replay.ts`), and launching it ahead of its run.
 *
 * A child takes a few hundred milliseconds to start, and the whole run waits for it: this module
 * is what a command loads to start it as its first work, so it imports nothing heavy and no
 * `node:` module (`node:crypto` alone costs 80 ms to load). When the kernel bundle is cached and
 * its sources unchanged (a hundred `stat`s), the child is spawned at once, synchronously, and the
 * file it runs is checked against the bundle's sha256 meanwhile: the session waits for that check
 * before it sends the child anything, and launches another child from a rewritten file if it fails.
 *
 * @module
 */

import { defaultCacheDir } from "../bundle/cache.ts";
import { cachedKernelManifest } from "../bundle/_kernel_manifest.ts";
import { sha256Hex } from "../bundle/sha256.ts";
import { childDenoArgs, childEnv, trimCodeCache, writeChildFile } from "./_child_command.ts";
import { resolveSandboxOptions, type SandboxOptions } from "./options.ts";

/**
 * The heap a replay child is launched with besides the policy's `heapMiB`, for its copy of the
 * kernel: its code and a small simulation take about 13 MiB. A child whose simulation takes more
 * asks for a larger cap once it is built, before any policy code runs.
 */
export const KERNEL_HEAP_MIB = 32;

/** A replay child, started: it waits for its run on its stdin. */
export interface KernelChild {
  /** The process. */
  process: Deno.ChildProcess;
  /**
   * True once the file it runs is known to be the kernel bundle (its sha256), false if it is
   * not (then the child must go, and another be launched with `{ fresh: true }`).
   */
  verified: Promise<boolean>;
}

/** The kernel files written or checked so far in this process, by path. */
const kernelFiles = new Map<string, Promise<string>>();

/**
 * Writes the kernel bundle into `<cacheDir>/sandbox/` (once; reused while intact) and returns the
 * path: the child's main module, and the mark of its command line.
 */
function kernelFile(cacheDir: string, code: string, sha256: string): Promise<string> {
  const path = kernelFilePath(cacheDir, sha256);
  let writing = kernelFiles.get(path);
  if (writing === undefined) {
    writing = writeChildFile(path, code, `${cacheDir}/sandbox`);
    kernelFiles.set(path, writing);
    writing.catch(() => kernelFiles.delete(path));
  }
  return writing;
}

function kernelFilePath(cacheDir: string, sha256: string): string {
  return `${cacheDir}/sandbox/kernel-${sha256.slice(0, 16)}.js`;
}

/**
 * The kernel file when the bundle is cached, its sources unchanged and the file there with the
 * bundle's size (synchronous, nothing read but the manifest); with the check of its bytes, to
 * be awaited before the child is trusted with a run. Undefined when the bundle must be found or
 * built first.
 */
function cachedKernelFile(
  cacheDir: string,
): { path: string; verified: Promise<boolean> } | undefined {
  const manifest = cachedKernelManifest(defaultCacheDir());
  if (manifest?.bytes === undefined) return undefined;
  const path = kernelFilePath(cacheDir, manifest.sha256);
  const known = kernelFiles.get(path);
  if (known !== undefined) {
    return { path, verified: known.then(() => true, () => false) };
  }
  try {
    if (Deno.statSync(path).size !== manifest.bytes) return undefined;
  } catch {
    return undefined;
  }
  const verified = Deno.readFile(path).then(
    async (bytes) => await sha256Hex(bytes) === manifest.sha256,
    () => false,
  );
  kernelFiles.set(path, verified.then((ok) => ok ? path : Promise.reject(new Error(path))));
  kernelFiles.get(path)!.catch(() => kernelFiles.delete(path));
  return { path, verified };
}

/**
 * Spawns a replay child with a heap cap of `heapCapMiB`: it starts, and waits for its run on its
 * stdin. Synchronously when the kernel file is there (see `cachedKernelFile`): the child starts
 * before whatever synchronous work the caller does next (reading the workload, say). Undefined
 * when `cancelled()` says so once the kernel bundle is there.
 *
 * @param cacheDir Where the sandbox's files are.
 * @param heapCapMiB The child's heap cap.
 * @param options `cancelled`, checked before a child is spawned late; `fresh` to find the bundle
 *   and check or rewrite the file before spawning (after a failed check).
 */
export function spawnKernelChild(
  cacheDir: string,
  heapCapMiB: number,
  options: { cancelled?: () => boolean; fresh?: boolean } = {},
): Promise<KernelChild | undefined> {
  if (!options.fresh) {
    try {
      const child = spawnCached(cacheDir, heapCapMiB);
      if (child !== undefined) return Promise.resolve(child);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return (async () => {
    if (options.fresh) kernelFiles.clear();
    // Loaded only when the bundle is not at hand: it loads the bundler's helpers and node:crypto.
    const kernel = await (await import("../bundle/kernel.ts")).kernelBundle();
    const path = await kernelFile(cacheDir, kernel.code, kernel.sha256);
    if (options.cancelled?.()) return undefined;
    return { process: spawn(path, heapCapMiB), verified: Promise.resolve(true) };
  })();
}

/** A child spawned at once from the kernel file when it is there (`cachedKernelFile`), else none. */
function spawnCached(cacheDir: string, heapCapMiB: number): KernelChild | undefined {
  const cached = cachedKernelFile(cacheDir);
  if (cached === undefined) return undefined;
  return { process: spawn(cached.path, heapCapMiB), verified: cached.verified };
}

function spawn(path: string, heapCapMiB: number): Deno.ChildProcess {
  const dir = path.slice(0, path.lastIndexOf("/"));
  trimCodeCache(dir);
  return new Deno.Command(Deno.execPath(), {
    args: [...childDenoArgs(heapCapMiB), path, String(heapCapMiB)],
    clearEnv: true,
    env: childEnv(dir),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Kills a child no session took, waits for it, and releases its pipes.
 *
 * @param child The child.
 */
export async function discardChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // It had already exited.
  }
  await child.status;
  await Promise.allSettled([child.stdin.close(), child.stdout.cancel(), child.stderr.cancel()]);
}

/** A child launched ahead of its run by {@linkcode prelaunch}, until a session takes it. */
interface Prelaunched {
  cacheDir: string;
  heapCapMiB: number;
  child: Promise<KernelChild | undefined>;
  /** Once it is let go untaken: done when it is dead and its pipes closed. */
  gone?: Promise<void>;
}

/** Lets a child launched ahead of its run go untaken. */
function letGo(early: Prelaunched): Promise<void> {
  early.gone ??= early.child.then((child) => child && discardChild(child.process));
  return early.gone;
}

let prelaunched: Prelaunched | undefined;

/**
 * The child {@linkcode prelaunch} started, if it was launched for this cache and heap cap (else it
 * is killed): the next session to launch one takes it.
 *
 * @param cacheDir The session's cache directory.
 * @param heapCapMiB The heap cap the session needs.
 * @returns The child, or undefined when none waits for this session.
 */
export function takePrelaunched(
  cacheDir: string,
  heapCapMiB: number,
): Promise<KernelChild | undefined> | undefined {
  const early = prelaunched;
  if (early === undefined) return undefined;
  prelaunched = undefined;
  if (early.cacheDir === cacheDir && early.heapCapMiB === heapCapMiB) return early.child;
  void letGo(early);
  return undefined;
}

/**
 * Launches the replay child of the next run now, before its workload is read: a child takes a few
 * hundred milliseconds to start, which then pass while the kernel reads the workload and builds
 * the simulation. The next replay session that launches a child takes it if it has the same heap
 * cap (that of a workload whose copy takes under a MiB, with `sandbox.heapMiB`), else kills it.
 * Disposing of the result kills the child if no session took it; call it when the run is over
 * (`await using`), failed or not. A child launched earlier for the same cache and heap cap, and
 * not taken yet, is kept rather than launched again (the CLI launches one before the command's
 * module loads, then the command asks again): each result then disposes of that same child.
 *
 * @example
 * ```ts ignore
 * import { prelaunch } from "./prelaunch.ts";
 *
 * await using _early = prelaunch({ heapMiB: 256 });
 * // ...read the workload, then createSimulation(workload, { isolation: "process" })
 * ```
 *
 * @param sandbox The run's sandbox options (its heap, its cache directory).
 * @param options `cachedOnly`: launch none unless the kernel file is there already (spawning at
 *   once, synchronously), rather than bundle the kernel first.
 * @returns What kills the child unless a session took it.
 */
export function prelaunch(
  sandbox: SandboxOptions = {},
  options: { cachedOnly?: boolean } = {},
): AsyncDisposable {
  const { cacheDir, heapMiB } = resolveSandboxOptions(sandbox);
  const heapCapMiB = heapMiB + KERNEL_HEAP_MIB + 1;
  let entry = prelaunched;
  if (entry !== undefined && entry.cacheDir === cacheDir && entry.heapCapMiB === heapCapMiB) {
    return disposer(entry);
  }
  let child: Promise<KernelChild | undefined>;
  if (options.cachedOnly) {
    let spawned: KernelChild | undefined;
    try {
      spawned = spawnCached(cacheDir, heapCapMiB);
    } catch {
      // The session starts one again, and says why if it cannot.
    }
    if (spawned === undefined) return NONE;
    child = Promise.resolve(spawned);
  } else {
    // A child that cannot start is started again, by the session, which says why.
    child = spawnKernelChild(cacheDir, heapCapMiB).catch(() => undefined);
  }
  // One at a time: an earlier one nobody took goes.
  if (entry !== undefined) void letGo(entry);
  entry = { cacheDir, heapCapMiB, child };
  prelaunched = entry;
  return disposer(entry);
}

/** What `prelaunch` returns when it launched nothing. */
const NONE: AsyncDisposable = { [Symbol.asyncDispose]: () => Promise.resolve() };

/** What lets `entry` go unless a session took it, and waits until it is gone. */
function disposer(entry: Prelaunched): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      if (prelaunched === entry) {
        prelaunched = undefined;
        void letGo(entry);
      }
      // Taken, it is its session's; else it is gone once this returns.
      await entry.gone;
    },
  };
}
