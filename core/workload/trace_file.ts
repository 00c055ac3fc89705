/**
 * Reading trace files (PlanetLab CPU curves, DiskSim and MSR disk traces) and workload files with
 * bounds: only a regular file is opened (never a device such as `/dev/zero`, a FIFO or a
 * directory, which could make a read never end), its size is checked against a limit before it is
 * read, and the read itself stops at that limit.
 *
 * Paths that arrive through the control API must also lie inside the server's data folder
 * ({@linkcode resolveDataPath}): the real path is checked, so a symbolic link cannot lead out.
 *
 * @module
 */

import { nodePath } from "../engine/node_builtins.ts";

/**
 * The largest trace file read by default: 256 MiB. A V8 string holds at most about 512 Mi
 * characters, and parsing needs several times a trace's size, so larger files could not be used.
 */
export const MAX_TRACE_BYTES: number = 256 * 1024 * 1024;

/** The largest workload file read: 64 MiB (workloads are JSON written by people or scripts). */
export const MAX_WORKLOAD_BYTES: number = 64 * 1024 * 1024;

/**
 * A file that cannot be read as a trace: missing, not a regular file, too large, or (from the API)
 * outside the data folder. The message is `cannot read <path> (<reason>)`.
 */
export class TraceFileError extends Error {
  /** The path, as the caller named it. */
  readonly path: string;
  /** What was wrong and what was expected, without the path. */
  readonly reason: string;

  /**
   * Makes the error.
   *
   * @param path The path, as the caller named it.
   * @param reason What was wrong and what was expected.
   */
  constructor(path: string, reason: string) {
    super(`cannot read ${path} (${reason})`);
    this.name = "TraceFileError";
    this.path = path;
    this.reason = reason;
  }
}

/** Options of {@linkcode readTraceText}. */
export interface TraceReadOptions {
  /** The largest file accepted, in bytes (default {@linkcode MAX_TRACE_BYTES}). */
  maxBytes?: number;
}

/** Bytes read at a time once a file turns out longer than its size said. */
const CHUNK = 1 << 20;

/**
 * Reads a trace file as UTF-8 text: a regular file of at most `maxBytes`, read with that bound.
 *
 * @example
 * ```ts
 * import { readTraceText, TraceFileError } from "./trace_file.ts";
 *
 * try {
 *   readTraceText("/dev/zero");
 * } catch (error) {
 *   console.assert(error instanceof TraceFileError); // expected a regular file, got a device
 * }
 * ```
 *
 * @param path The file.
 * @param options The size limit.
 * @returns The file's text.
 * @throws {TraceFileError} When the file is missing, is not a regular file, or is larger than the
 *   limit (or grows past it while it is read).
 */
export function readTraceText(path: string, options: TraceReadOptions = {}): string {
  const maxBytes = options.maxBytes ?? MAX_TRACE_BYTES;
  let info: Deno.FileInfo;
  try {
    // stat, not open: opening a FIFO for reading would wait for a writer.
    info = Deno.statSync(path);
  } catch (error) {
    throw new TraceFileError(path, describeFsError(error));
  }
  checkInfo(path, info, maxBytes);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw new TraceFileError(path, describeFsError(error));
  }
  try {
    const opened = file.statSync();
    // The file may have been replaced between the stat and the open: check what was opened.
    checkInfo(path, opened, maxBytes);
    return new TextDecoder().decode(readBounded(file, path, opened.size, maxBytes));
  } finally {
    file.close();
  }
}

function checkInfo(path: string, info: Deno.FileInfo, maxBytes: number): void {
  if (!info.isFile) {
    throw new TraceFileError(path, `expected a regular file, got ${kindOf(info)}`);
  }
  if (info.size > maxBytes) {
    throw new TraceFileError(
      path,
      `expected a file of at most ${maxBytes} bytes, got ${info.size} bytes`,
    );
  }
}

/** Reads at most `maxBytes` bytes, failing if there are more. */
function readBounded(file: Deno.FsFile, path: string, size: number, maxBytes: number): Uint8Array {
  // One buffer of the announced size (plus a byte that tells whether there is more).
  let buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      // Longer than its size said (a growing file, or a /proc file that says 0): go on in
      // chunks, up to the limit and one byte past it.
      if (total > maxBytes) {
        throw new TraceFileError(
          path,
          `expected a file of at most ${maxBytes} bytes, got more while reading it`,
        );
      }
      const larger = new Uint8Array(Math.min(total + CHUNK, maxBytes + 1));
      larger.set(buffer);
      buffer = larger;
    }
    const read = file.readSync(buffer.subarray(total));
    if (read === null) break;
    total += read;
  }
  return buffer.subarray(0, total);
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  if (info.isSocket) return "a socket";
  return "something else";
}

function describeFsError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotADirectory) return "a part of the path is not a folder";
  return (error as Error)?.name ?? "error";
}

/**
 * Resolves a path a client sent (a trace of a VM added through the API) inside the server's data
 * folder: relative paths are taken from the folder, and the real path (symbolic links followed)
 * must lie inside it. Messages name the path as the client gave it, never the folder.
 *
 * @example
 * ```ts
 * import { resolveDataPath, TraceFileError } from "./trace_file.ts";
 *
 * try {
 *   resolveDataPath(undefined, "traces/cpu.txt");
 * } catch (error) {
 *   console.assert(error instanceof TraceFileError); // no data folder: traces are refused
 * }
 * ```
 *
 * @param dataDir The data folder's real path (`serve --data-dir`), or undefined for none.
 * @param path The path as the client sent it.
 * @returns The real path of the file, inside `dataDir`.
 * @throws {TraceFileError} When there is no data folder, the file does not exist, or it lies
 *   outside the folder.
 */
export function resolveDataPath(dataDir: string | undefined, path: string): string {
  if (dataDir === undefined) {
    throw new TraceFileError(
      path,
      "trace files are not accepted through the API: the server was started without --data-dir",
    );
  }
  const { isAbsolute, resolve, sep } = nodePath();
  const joined = isAbsolute(path) ? path : resolve(dataDir, path);
  let real: string;
  try {
    real = Deno.realPathSync(joined);
  } catch (error) {
    throw new TraceFileError(
      path,
      `${describeFsError(error)}; expected a file in the server's data folder`,
    );
  }
  if (real !== dataDir && !real.startsWith(dataDir.endsWith(sep) ? dataDir : dataDir + sep)) {
    throw new TraceFileError(
      path,
      "expected a file in the server's data folder (--data-dir); this one lies outside it",
    );
  }
  return real;
}
