/**
 * The `hyperhook` command: `run`, `compare`, and the other subcommands. Exit 0 on success, 1 on a
 * failed run (a policy under test was ejected), 2 on bad input, with one line on stderr.
 *
 * Install it from the checkout with `deno install -A -g -n hyperhook --config deno.json core/cli.ts`,
 * or use the `deno task` shortcuts.
 *
 * @module
 */

// Only modules that import nothing heavy: what the commands share (`commands/common.ts`) imports
// the kernel, and the `process` sandbox's child is launched before that loads (see `launchEarly`).
import { HEAP_MIB_RANGE } from "./sandbox/options.ts";
import { isModuleReference } from "./workload/policy_choice.ts";

/** A command module: its command function, by name. */
type CommandModule = Record<string, (args: string[]) => Promise<number>>;

/**
 * Imports a command module through a variable. Deno reads ahead every import it can see, dynamic
 * ones too, and loads their whole graphs before the first line runs: with the ten commands'
 * imports written out (their HTTP server, bundler, browser), `hyperhook` started its first line
 * 28-40 ms after the runtime did rather than 3-7 ms, and the `process` sandbox's child started
 * that much later. Each path is checked by `tests/dynamic_imports_test.ts`.
 */
const load = (path: string): Promise<CommandModule> => import(path);

/**
 * The subcommands, by name. Each is imported when it is called: `run` loads no HTTP server, no
 * bundler and no scaffolding templates.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "./cli.ts";
 *
 * console.log(Object.keys(COMMANDS)); // run, compare, serve, bundle, new, sweep, worker, tune, diff, fuzz
 * ```
 */
export const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: async (args) => (await load("./commands/run.ts")).runCommand!(args),
  compare: async (args) => (await load("./commands/compare.ts")).compareCommand!(args),
  serve: async (args) => (await load("./commands/serve.ts")).serveCommand!(args),
  bundle: async (args) => (await load("./commands/bundle.ts")).bundleCommand!(args),
  new: async (args) => (await load("./commands/new.ts")).newCommand!(args),
  sweep: async (args) => (await load("./commands/sweep.ts")).sweepCommand!(args),
  worker: async (args) => (await load("./commands/worker.ts")).workerCommand!(args),
  tune: async (args) => (await load("./commands/tune.ts")).tuneCommand!(args),
  diff: async (args) => (await load("./commands/diff.ts")).diffCommand!(args),
  fuzz: async (args) => (await load("./commands/fuzz.ts")).fuzzCommand!(args),
};

const USAGE = `hyperhook: simulate and compare hypervisor resource policies
usage: hyperhook <command> [options]   (hyperhook <command> --help for its options)
commands: ${Object.keys(COMMANDS).join(", ")}`;

/**
 * Runs the CLI with `args` and returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * Deno.exit(await main(["run", "examples/workloads/fcfs_textbook.json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  // First: the child starts while the commands' modules load. Gone when the command returns or
  // throws, unless its run took it.
  await using _early = await launchEarly(args);
  const { EXIT, isBadInput, UsageError } = await import("./commands/common.ts");
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      console.log(USAGE);
      return command === undefined ? EXIT.BAD_INPUT : EXIT.OK;
    }
    const run = COMMANDS[command];
    if (run === undefined) {
      throw new UsageError(
        `Unknown command "${command}": expected one of ${Object.keys(COMMANDS).join(", ")}`,
      );
    }
    return await run(rest);
  } catch (error) {
    if (isBadInput(error)) {
      console.error(`hyperhook: ${(error as Error).message}`);
      return EXIT.BAD_INPUT;
    }
    console.error(`hyperhook: ${error instanceof Error ? error.stack ?? error.message : error}`);
    return EXIT.FAILED;
  }
}

/**
 * Launches the `process` sandbox's child of a `run` or `compare` whose command line asks for
 * `--isolation process` (or of a `run` of a policy module with no `--isolation`: those run in
 * `process` by default), before the commands' modules load (a child takes a few hundred
 * milliseconds to start, and the run waits for it), when the kernel bundle is cached; the command
 * asks for it again once it has read its flags, and its run takes it (see `sandbox/prelaunch.ts`).
 * Only a cheap look at the line: the command reads its flags and says what is wrong with them.
 * Disposing of the result kills the child unless a run took it.
 *
 * @example
 * ```ts ignore
 * import { launchEarly } from "./cli.ts";
 *
 * await using _early = await launchEarly(["run", "workload.json", "--isolation", "process"]);
 * ```
 *
 * @param args The command line (the command first).
 * @returns What kills the child unless a run took it; undefined when none was launched.
 */
export async function launchEarly(args: string[]): Promise<AsyncDisposable | undefined> {
  const [command, ...rest] = args;
  if (command !== "run" && command !== "compare") return undefined;
  let isolation: string | undefined, heap: string | undefined, module = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!, equals = arg.indexOf("=");
    const name = arg.startsWith("--") && equals > 0 ? arg.slice(0, equals) : arg;
    const value = name === arg ? rest[i + 1] : arg.slice(equals + 1);
    // A watched run loops until it is stopped; help runs nothing.
    if (name === "--help" || name === "-h" || name === "--watch") return undefined;
    if (name === "--isolation") isolation = value;
    if (name === "--heap") heap = value;
    // A policy module rather than a built-in's name.
    if (
      (name === "--cpu" || name === "--memory" || name === "--io") && value !== undefined &&
      isModuleReference(value)
    ) module = true;
  }
  const processRun = isolation === "process" ||
    (isolation === undefined && module && command === "run");
  if (!processRun) return undefined;
  const heapMiB = heap === undefined ? undefined : Number(heap);
  // The command says what is wrong with it (the heap is part of the child's command line).
  const { min, max } = HEAP_MIB_RANGE;
  if (heapMiB !== undefined && !(Number.isInteger(heapMiB) && heapMiB >= min && heapMiB <= max)) {
    return undefined;
  }
  try {
    const { prelaunch } = await import("./sandbox/prelaunch.ts");
    return prelaunch(heapMiB === undefined ? {} : { heapMiB }, { cachedOnly: true });
  } catch {
    // The run launches its child itself.
    return undefined;
  }
}

// Without a top-level await: a command loaded on demand may import mod.ts, which imports this
// module, and would wait forever for a module still evaluating.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
