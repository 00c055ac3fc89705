/**
 * The knobs every policy runtime shares: memory cap, deadlines, message size, where policy output
 * goes and how much of it, and where the sandbox keeps its files.
 *
 * @module
 */

import { defaultCacheDir } from "../bundle/cache.ts";

/** The heap caps `--heap` accepts, in MiB. */
export const HEAP_MIB_RANGE = { min: 16, max: 65536 } as const;

/** Options for the policy runtimes; every field has a default. */
export interface SandboxOptions {
  /** The V8 heap cap of a `process` sandbox, in MiB (default 256). Ignored by other isolations. */
  heapMiB?: number;
  /**
   * The resident memory cap of a `process` sandbox in MiB, heap and off-heap (ArrayBuffers are not
   * counted by the heap cap), sampled every 100 ms on Linux (default: `heapMiB` + 512).
   */
  rssMiB?: number;
  /** How long loading and starting a policy may take, in ms (default 2000; includes the spawn). */
  initDeadlineMs?: number;
  /** How long a policy may take to answer one batch, in ms (default 100). */
  batchDeadlineMs?: number;
  /** The largest reply a policy may send, in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /**
   * Receives what a sandboxed policy prints (its console output and raw writes to stdout and
   * stderr; for `process`, also what the child's runtime prints, such as V8's out-of-memory
   * report), stripped of terminal control sequences and capped (see `maxLogCharsPerBatch` and
   * `maxLogCharsPerRun`). Default: the kernel's stderr. Policy output never reaches the kernel's
   * stdout.
   */
  log?: (text: string) => void;
  /**
   * The most characters of policy output passed to `log` per batch (default 65536); the rest of
   * the batch's output is dropped, and the log says so.
   */
  maxLogCharsPerBatch?: number;
  /**
   * The most characters of policy output passed to `log` by one runtime in all (default
   * 1048576); the rest is dropped, and the log says so.
   */
  maxLogCharsPerRun?: number;
  /** Where the `process` runtime writes its bootstrap script (default: `defaultCacheDir()`). */
  cacheDir?: string;
  /**
   * Whether a `process` sandbox may wait for each reply with blocking reads (default true). It
   * then does so where it can: on Linux, when the kernel may open the child's `/proc/<pid>/fd`
   * entries and kill processes; a watchdog thread enforces the deadlines meanwhile. A round trip
   * costs a few µs less of the kernel's CPU and the kernel stays synchronous, as with `none`; but
   * its thread does nothing else while a policy thinks (at most `batchDeadlineMs`). Set false to
   * keep the event loop running during batches.
   */
  blockingReads?: boolean;
}

/** {@linkcode SandboxOptions} with every default filled in. */
export interface ResolvedSandboxOptions {
  /** See {@linkcode SandboxOptions.heapMiB}. */
  heapMiB: number;
  /** See {@linkcode SandboxOptions.rssMiB}. */
  rssMiB: number;
  /** See {@linkcode SandboxOptions.initDeadlineMs}. */
  initDeadlineMs: number;
  /** See {@linkcode SandboxOptions.batchDeadlineMs}. */
  batchDeadlineMs: number;
  /** See {@linkcode SandboxOptions.maxMessageBytes}. */
  maxMessageBytes: number;
  /** See {@linkcode SandboxOptions.log}. */
  log: (text: string) => void;
  /** See {@linkcode SandboxOptions.maxLogCharsPerBatch}. */
  maxLogCharsPerBatch: number;
  /** See {@linkcode SandboxOptions.maxLogCharsPerRun}. */
  maxLogCharsPerRun: number;
  /** See {@linkcode SandboxOptions.cacheDir}. */
  cacheDir: string;
  /** See {@linkcode SandboxOptions.blockingReads}. */
  blockingReads: boolean;
}

/** The defaults of {@linkcode SandboxOptions}. */
export const SANDBOX_DEFAULTS: {
  readonly heapMiB: number;
  readonly initDeadlineMs: number;
  readonly batchDeadlineMs: number;
  readonly maxMessageBytes: number;
  readonly maxLogCharsPerBatch: number;
  readonly maxLogCharsPerRun: number;
} = {
  heapMiB: 256,
  initDeadlineMs: 2000,
  batchDeadlineMs: 100,
  maxMessageBytes: 16 * 1024 * 1024,
  maxLogCharsPerBatch: 64 * 1024,
  maxLogCharsPerRun: 1024 * 1024,
};

const stderrEncoder = new TextEncoder();

function writeToStderr(text: string): void {
  const bytes = stderrEncoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Sandbox option ${name}: expected a positive number, got ${value}`);
  }
  return value;
}

/**
 * Fills in the defaults of {@linkcode SandboxOptions} and checks the values.
 *
 * @example
 * ```ts

 *
 * const options = resolveSandboxOptions({ batchDeadlineMs: 50 });
 * console.assert(options.batchDeadlineMs === 50 && options.heapMiB === 256);
 * ```
 *
 * @param options What the caller set.
 * @returns Every option, with defaults for what was not set.
 * @throws {RangeError} When a number is not positive.
 */
export function resolveSandboxOptions(options: SandboxOptions = {}): ResolvedSandboxOptions {
  const heapMiB = Math.ceil(positive("heapMiB", options.heapMiB, SANDBOX_DEFAULTS.heapMiB));
  return {
    heapMiB,
    rssMiB: positive("rssMiB", options.rssMiB, heapMiB + 512),
    initDeadlineMs: positive(
      "initDeadlineMs",
      options.initDeadlineMs,
      SANDBOX_DEFAULTS.initDeadlineMs,
    ),
    batchDeadlineMs: positive(
      "batchDeadlineMs",
      options.batchDeadlineMs,
      SANDBOX_DEFAULTS.batchDeadlineMs,
    ),
    maxMessageBytes: Math.floor(
      positive("maxMessageBytes", options.maxMessageBytes, SANDBOX_DEFAULTS.maxMessageBytes),
    ),
    log: options.log ?? writeToStderr,
    maxLogCharsPerBatch: Math.floor(
      positive(
        "maxLogCharsPerBatch",
        options.maxLogCharsPerBatch,
        SANDBOX_DEFAULTS.maxLogCharsPerBatch,
      ),
    ),
    maxLogCharsPerRun: Math.floor(
      positive("maxLogCharsPerRun", options.maxLogCharsPerRun, SANDBOX_DEFAULTS.maxLogCharsPerRun),
    ),
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    blockingReads: options.blockingReads ?? true,
  };
}
