/**
 * `--watch` for `run` and `compare`: run once, then again each time the workload, a trace it
 * reads or a local policy module changes, until Ctrl-C. Private to `core/commands/`.
 *
 * The folders of those files are watched rather than the files themselves: editors save by
 * writing a new file and renaming it over the old one, which a watch on the old file misses.
 * A policy's folder counts as a whole for its modules (`.ts`, `.js`, …), so that a helper module
 * beside the policy triggers a run too.
 *
 * @module
 */

import { dirname, extname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT, isBadInput } from "./common.ts";

/** What a change to a file means: the file itself, or any module in a policy's folder. */
export interface WatchSet {
  /** Files whose change starts a run (absolute). */
  files: Set<string>;
  /** Folders any module of which starts a run (absolute): the local policies' folders. */
  moduleDirs: Set<string>;
  /** What the run writes (`--out`, `--html`, `--log`, `--out-dir`): never a reason to run. */
  outputs: Set<string>;
}

const MODULE_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".js", ".mjs", ".jsx"]);
const OUTPUT_FLAGS = ["out", "html", "log", "out-dir", "trace"] as const;
const DOMAIN_FLAGS = ["cpu", "memory", "io", "placement"] as const;

/** The local file a policy reference names, or undefined for a built-in or remote one. */
function localModule(reference: string, cwd: string): string | undefined {
  if (reference.startsWith("file:")) return fileURLToPath(reference);
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference)) return undefined; // npm:, jsr:, https:
  if (!/[./\\]/.test(reference)) return undefined; // a built-in name
  return resolve(cwd, reference);
}

/** The policy references a workload file names, and the traces it reads (best effort). */
function workloadInputs(path: string): { policies: string[]; traces: string[] } {
  const policies: string[] = [], traces: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return { policies, traces }; // Being edited: the run says what is wrong.
  }
  if (typeof json !== "object" || json === null) return { policies, traces };
  const workload = json as Record<string, unknown>;
  const choices = workload.policies;
  if (typeof choices === "object" && choices !== null) {
    for (const choice of Object.values(choices)) {
      const use = typeof choice === "string" ? choice : (choice as { use?: unknown } | null)?.use;
      if (typeof use === "string") policies.push(use);
    }
  }
  const base = dirname(resolve(path));
  const trace = (value: unknown) => {
    const file = (value as { path?: unknown } | null)?.path;
    if (typeof file === "string") traces.push(resolve(base, file));
  };
  for (const vm of Array.isArray(workload.vms) ? workload.vms : []) {
    trace(vm?.cpu?.trace);
    for (const ioTrace of Array.isArray(vm?.io?.trace) ? vm.io.trace : []) trace(ioTrace);
  }
  return { policies, traces };
}

/**
 * What to watch for a run of `workloadPath` with the policies named by flags (`--cpu a,b`, …) and
 * by the workload itself.
 *
 * @param workloadPath The workload file.
 * @param flags The parsed flags (`cpu`, `memory`, `io`, `placement`: comma-separated references).
 * @param cwd The folder relative references are resolved from (default: the current one).
 * @returns The files and the policy folders.
 */
export function watchSet(
  workloadPath: string,
  flags: Record<string, string | boolean | undefined>,
  cwd: string = Deno.cwd(),
): WatchSet {
  const workload = resolve(cwd, workloadPath);
  const inputs = workloadInputs(workload);
  const references = [...inputs.policies];
  for (const domain of DOMAIN_FLAGS) {
    const value = flags[domain];
    if (typeof value === "string") references.push(...value.split(",").map((ref) => ref.trim()));
  }
  const files = new Set([workload, ...inputs.traces]);
  const moduleDirs = new Set<string>();
  for (const reference of references) {
    const file = localModule(reference, cwd);
    if (file === undefined) continue;
    files.add(file);
    moduleDirs.add(dirname(file));
  }
  const outputs = new Set<string>();
  for (const flag of OUTPUT_FLAGS) {
    const value = flags[flag];
    if (typeof value === "string") outputs.add(resolve(cwd, value));
  }
  return { files, moduleDirs, outputs };
}

/** Whether a changed path concerns the run. */
export function concerns(set: WatchSet, path: string): boolean {
  // A run that rewrote its own output would run again, forever.
  for (const output of set.outputs) {
    if (path === output || path.startsWith(`${output}/`)) return false;
  }
  return set.files.has(path) ||
    (set.moduleDirs.has(dirname(path)) && MODULE_EXTENSIONS.has(extname(path)));
}

/** The folders to watch for a set. */
function foldersOf(set: WatchSet): string[] {
  return [...new Set([...[...set.files].map((file) => dirname(file)), ...set.moduleDirs])].sort();
}

/** Runs a command as `main` does: an error becomes one line on stderr and an exit code. */
async function runOnce(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (isBadInput(error)) {
      console.error(`hyperhook: ${(error as Error).message}`);
      return EXIT.BAD_INPUT;
    }
    console.error(`hyperhook: ${error instanceof Error ? error.stack ?? error.message : error}`);
    return EXIT.FAILED;
  }
}

/** How long a burst of file events settles before the run starts (an editor's save is several). */
const SETTLE_MS = 150;

/**
 * Runs `command(args without --watch)` now and after every change that concerns it, until SIGINT;
 * a failed run (bad input included) is reported and the watch goes on.
 *
 * @param workloadPath The workload file (the command's positional argument).
 * @param args The command's arguments, `--watch` among them.
 * @param flags The parsed flags, for the policies they name.
 * @param command The subcommand (`runCommand`, `compareCommand`).
 * @returns The exit code of the last run.
 */
export async function watchCommand(
  workloadPath: string,
  args: readonly string[],
  flags: Record<string, string | boolean | undefined>,
  command: (args: string[]) => Promise<number>,
): Promise<number> {
  const once = args.filter((arg) => arg !== "--watch");
  let set = watchSet(workloadPath, flags);
  let folders = foldersOf(set);
  let watcher: Deno.FsWatcher | undefined;
  let changed: string | undefined;
  let wake: (() => void) | undefined;
  let stopped = false;
  const listen = () => {
    const current = Deno.watchFs(folders.filter(exists), { recursive: false });
    watcher = current;
    (async () => {
      for await (const event of current) {
        if (event.kind === "access" || event.kind === "other") continue;
        const path = event.paths.find((path) => concerns(set, path));
        if (path === undefined) continue;
        changed ??= path;
        wake?.();
      }
    })();
  };
  const stop = () => {
    stopped = true;
    watcher?.close();
    wake?.();
  };
  Deno.addSignalListener("SIGINT", stop);
  try {
    listen();
    let code = await runOnce(() => command(once));
    while (true) {
      // The workload may now name other policies or traces: watch what it names now.
      set = watchSet(workloadPath, flags);
      const next = foldersOf(set);
      if (next.join("\n") !== folders.join("\n")) {
        folders = next;
        watcher?.close();
        listen();
      }
      console.error(
        `hyperhook: watching ${set.files.size} file${
          set.files.size === 1 ? "" : "s"
        } for changes (Ctrl-C to stop)`,
      );
      while (changed === undefined && !stopped) {
        await new Promise<void>((resolve) => wake = resolve);
      }
      if (stopped) return code;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      console.error(
        `hyperhook: ${relative(Deno.cwd(), changed!) || changed} changed: running again`,
      );
      changed = undefined;
      code = await runOnce(() => command(once));
    }
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    watcher?.close();
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
