/**
 * The `hyperhook` command: `run`, `compare`, and the other subcommands. Exit 0 on success, 1 on a
 * failed run (a policy under test was ejected), 2 on bad input, with one line on stderr.
 *
 * Install it from the checkout with `deno install -A -g -n hyperhook --config deno.json core/cli.ts`,
 * or use the `deno task` shortcuts.
 *
 * @module
 */

import { EXIT, isBadInput, UsageError } from "./commands/common.ts";

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
  run: async (args) => (await import("./commands/run.ts")).runCommand(args),
  compare: async (args) => (await import("./commands/compare.ts")).compareCommand(args),
  serve: async (args) => (await import("./commands/serve.ts")).serveCommand(args),
  bundle: async (args) => (await import("./commands/bundle.ts")).bundleCommand(args),
  new: async (args) => (await import("./commands/new.ts")).newCommand(args),
  sweep: async (args) => (await import("./commands/sweep.ts")).sweepCommand(args),
  worker: async (args) => (await import("./commands/worker.ts")).workerCommand(args),
  tune: async (args) => (await import("./commands/tune.ts")).tuneCommand(args),
  diff: async (args) => (await import("./commands/diff.ts")).diffCommand(args),
  fuzz: async (args) => (await import("./commands/fuzz.ts")).fuzzCommand(args),
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

// Without a top-level await: a command loaded on demand may import mod.ts, which imports this
// module, and would wait forever for a module still evaluating.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
