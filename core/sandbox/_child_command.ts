/**
 * The command line and environment of a sandbox child, shared by the per-batch (`process.ts`)
 * and replay (`replay.ts`) runtimes: the boundary is written once.
 *
 * @module
 */

/**
 * V8's inlining budgets raised from 460 and 920 bytes of bytecode: the kernel's and the SDK's hot
 * paths are chains of small methods that the default budget stops inlining part-way (10 to 17 %
 * faster kernels in `bench/`); and type feedback from a function's first call rather than its
 * eighth (about 4 % more on the CPU scale bench). The project's tasks pass the same flags.
 */
const INLINING_V8_FLAGS =
  "--max-inlined-bytecode-size=1000,--max-inlined-bytecode-size-cumulative=4000,--no-lazy-feedback-allocation";

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
    `--v8-flags=--max-old-space-size=${heapMiB},${INLINING_V8_FLAGS}`,
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
