/**
 * Type-checking a local policy file before a run: a type error stops the run before it starts,
 * naming `file:line:col` and TypeScript's message, instead of surfacing as an ejection ("vCPU
 * NaN") halfway through. `deno check` does the work, in the policy's folder (so its own
 * `deno.json` applies); a file set that passed once is remembered by the hash of its texts, so
 * a second run of the same code starts as fast as before.
 *
 * @module
 */

import { dirname } from "node:path";
import { defaultCacheDir } from "./cache.ts";
import { sha256Hex } from "./sha256.ts";

/** A policy that does not type-check: the message names the first error's place. */
export class PolicyTypeError extends Error {
  /** @param message `Policy file:line:col: TSnnnn message`. */
  constructor(message: string) {
    super(message);
    this.name = "PolicyTypeError";
  }
}

/** What the remembered results are keyed by besides the texts (a new Deno may judge anew). */
const CHECKER = `deno ${Deno.version.deno} ts ${Deno.version.typescript}`;

/**
 * Checks the types of a local policy module with `deno check`, unless the same texts passed
 * before.
 *
 * @param path The policy module's path.
 * @param texts Every text its bundle read (modules and `deno.json` files), as `[path, text]`.
 * @param options `cacheDir`: where passes are remembered (default {@linkcode defaultCacheDir});
 *   `cwd`: the folder paths in messages are relative to (default the working directory).
 * @throws {PolicyTypeError} When it does not type-check.
 */
export async function checkPolicyTypes(
  path: string,
  texts: readonly (readonly [string, string])[],
  options: { cacheDir?: string; cwd?: string } = {},
): Promise<void> {
  const key = await sha256Hex(
    JSON.stringify([CHECKER, path, [...texts].sort((a, b) => a[0] < b[0] ? -1 : 1)]),
  );
  const marker = `${options.cacheDir ?? defaultCacheDir()}/type-checked/${key}`;
  try {
    await Deno.stat(marker);
    return;
  } catch {
    // Not checked yet.
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", path],
    cwd: dirname(path),
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    throw new PolicyTypeError(describeTypeErrors(text, options.cwd ?? Deno.cwd()) ?? text.trim());
  }
  try {
    await Deno.mkdir(dirname(marker), { recursive: true });
    await Deno.writeTextFile(marker, "");
  } catch {
    // Not remembered: the next run checks again.
  }
}

/**
 * The first type error of `deno check`'s output as one line, `Policy file:line:col: TSnnnn
 * message`, with how many more there are; undefined when the output names none.
 *
 * @example
 * ```ts
 * import { describeTypeErrors } from "./type_check.ts";
 *
 * const output = "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n" +
 *   '    const x: number = "a";\n          ^\n    at file:///home/me/p.ts:7:15\n\n' +
 *   "Found 1 error.\n";
 * console.assert(describeTypeErrors(output, "/home/me") ===
 *   "Policy p.ts:7:15: TS2322 Type 'string' is not assignable to type 'number' (--no-check skips this check)");
 * ```
 */
export function describeTypeErrors(output: string, cwd: string): string | undefined {
  const first = /^(TS\d+) \[ERROR\]: (.*)$/m.exec(output);
  if (first === null) return undefined;
  const after = output.slice(first.index);
  const place = /^ {4}at (file:\/\/\S+?):(\d+):(\d+)$/m.exec(after);
  const count = Number(/^Found (\d+) errors?\.$/m.exec(output)?.[1] ?? 1);
  const where = place === null
    ? ""
    : ` ${relativeTo(cwd, decodeURIComponent(new URL(place[1]!).pathname))}:${place[2]}:${
      place[3]
    }`;
  const message = first[2]!.replace(/\.$/, "");
  const shown = message.length > 300 ? `${message.slice(0, 300)}…` : message;
  const more = count > 1 ? `${count - 1} more error${count > 2 ? "s" : ""}; ` : "";
  return `Policy${where}: ${first[1]} ${shown} (${more}--no-check skips this check)`;
}

function relativeTo(cwd: string, path: string): string {
  const prefix = cwd.endsWith("/") ? cwd : `${cwd}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
